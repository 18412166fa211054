"""/topics, /map, /timeline and their buttons: the shape of a chat's memory.

The work takes seconds (clustering, a picture), so each command runs as a background task: the update queue
moves on and other chats are answered meanwhile; the chat sees "typing…" or "sending a photo…" until it is done.
Errors of the task go to the one error handler, which tells the chat in plain words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.commands import topic_commands, views
from bot.commands.topic_commands import Picture, TopicPage, TopicsReport
from bot.i18n import _
from bot.text import HTML
from handlers.context import args_text, chat_id_of, message_of, query_of, services_of
from handlers.format import page_buttons

TREND_BUTTONS = 5  # topics with a "trend" button (the largest)


def register(application: Application) -> None:
    application.add_handler(CommandHandler("topics", topics))
    application.add_handler(CommandHandler("map", topic_map))
    application.add_handler(CommandHandler("timeline", timeline))
    application.add_handler(CallbackQueryHandler(topic_messages, pattern=r"^topic:"))
    application.add_handler(CallbackQueryHandler(topic_trend, pattern=r"^trend:"))


def _background(update: Update, context: ContextTypes.DEFAULT_TYPE, work: Coroutine, action: str) -> None:
    services = services_of(context)

    async def run() -> None:
        await context.bot.send_chat_action(chat_id_of(update), action)
        await work

    services.spawn(context.application, run(), update)


PictureMaker = Callable[..., Awaitable[Picture]]


def _zone(context: ContextTypes.DEFAULT_TYPE) -> str:
    return services_of(context).config.reminders.timezone


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics [period]: the chat's main topics, each with buttons for its messages and its trend."""
    services, period = services_of(context), args_text(update)

    async def work() -> None:
        report = await topic_commands.topics(services.started.topics, chat_id_of(update), period,
                                             timezone=_zone(context))
        await message_of(update).reply_text(views.topics_text(report, HTML), parse_mode=ParseMode.HTML,
                                            reply_markup=_topic_buttons(report))

    _background(update, context, work(), ChatAction.TYPING)


def _topic_buttons(report: TopicsReport) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(_("{id}. messages").format(id=t.id), callback_data=f"topic:{report.key}:{t.id}:0:0"),
             InlineKeyboardButton(_("{id}. trend").format(id=t.id), callback_data=f"trend:{report.key}:{t.id}")]
            for t in report.topics[:TREND_BUTTONS]]
    return InlineKeyboardMarkup(rows) if rows else None


def _picture_command(make: PictureMaker, doc: str):
    """A command that answers with a picture made in the background: `make(topics, chat_id, text, timezone=…)`."""

    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        services, text = services_of(context), args_text(update)

        async def work() -> None:
            picture = await make(services.started.topics, chat_id_of(update), text, timezone=_zone(context))
            await _send_picture(update, picture)

        _background(update, context, work(), ChatAction.UPLOAD_PHOTO)

    command.__doc__ = doc
    return command


topic_map = _picture_command(topic_commands.topic_map, "/map [period]: the chat's messages in 2-D, coloured by topic, "
                             "as a photo.")
timeline = _picture_command(topic_commands.timeline, "/timeline <topic number or words>: a bar chart of how often it "
                            "came up per week or month.")


async def _send_picture(update: Update, picture: Picture) -> None:
    await message_of(update).reply_photo(picture.png, caption=picture.caption[:1024], filename="engram-map.png")


async def _button(update: Update, count: int) -> tuple[str, list[int]] | None:
    """The key and the numeric fields of a 'kind:key:n:…' button; a button that is not one of ours (or of an
    older version) is answered so and gives None."""
    query = query_of(update)
    parts = (query.data or "").split(":")
    numbers = parts[2:]
    if len(parts) != count + 2 or not all(p.isdigit() and len(p) <= 4 for p in numbers):
        await query.answer(_("This button does not work any more."))
        return None
    return parts[1], [int(p) for p in numbers]


async def topic_messages(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic's "messages" button (and its pages): the messages nearest the topic's centre, paged."""
    query = query_of(update)
    button = await _button(update, 3)
    if button is None:
        return
    key, (topic_id, page_number, in_place) = button
    page = await topic_commands.topic_page(services_of(context).started.topics, chat_id_of(update), key, topic_id,
                                     page_number)
    await query.answer()
    text, markup = views.topic_page_text(page, HTML), _pager(key, page)
    if in_place:  # paging: the same message changes
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    else:  # from the list of topics: a message of its own, so the list stays
        await message_of(update).reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


def _pager(key: str, page: TopicPage) -> InlineKeyboardMarkup | None:
    return page_buttons(lambda n: f"topic:{key}:{page.topic.id}:{n}:1", page.page, page.more)


async def topic_trend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A topic's "trend" button: its timeline as a photo."""
    query = query_of(update)
    button = await _button(update, 1)
    if button is None:
        return
    key, numbers = button
    await query.answer()

    async def work() -> None:
        picture = await topic_commands.topic_timeline(services_of(context).started.topics, chat_id_of(update), key,
                                                numbers[0], timezone=_zone(context))
        await _send_picture(update, picture)

    _background(update, context, work(), ChatAction.UPLOAD_PHOTO)
