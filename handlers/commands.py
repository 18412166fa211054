"""Commands: /start /help /search /export /stats /reset /why /compare (/forget in handlers/forget.py, /topics /map
/timeline in handlers/topics.py).

Every answer is HTML with anything that came from users or the model escaped. Usage errors are answered on the
spot. Commands are not stored in memory.
"""

from __future__ import annotations

import secrets
import time

from telegram import Chat, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.commands import actions, table, views
from bot.commands.table import FrontEnd
from bot.i18n import _
from bot.text import HTML
from handlers.context import args_text, chat_data_of, chat_id_of, chat_of, message_of, query_of, services_of
from handlers.format import page_buttons


# (command, description) in menu order, from the one table of commands: setMyCommands and /help both use it.
def menu() -> list[tuple[str, str]]:
    """Telegram's commands with their descriptions, in the current language (setMyCommands, /help)."""
    return [(c.name, c.line()) for c in table.offered(FrontEnd.TELEGRAM)]


COMMANDS: list[tuple[str, str]] = menu()  # the default (English) menu
KEPT_SEARCHES = 20  # per chat, pageable by their buttons


async def reply_html(update: Update, html: str, **kwargs) -> None:
    await message_of(update).reply_text(html, parse_mode=ParseMode.HTML, **kwargs)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot is."""
    await reply_html(update, _(  # Telegram HTML: a translation keeps the tags
        "Hi, I am <b>Engram</b>, an assistant with long-term memory of this chat. I remember what is said here "
        "and bring it back when it matters. Everything stays on my owner's machine.\n\nAsk in words too: "
        "<i>remind me tomorrow at 9 to call Ana</i>, <i>what reminders do I have?</i>, <i>forget what I said about "
        "the wifi</i>.\n\n/help lists the commands."))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    lines = [f"/{name} {HTML.escape(text)}" for name, text in menu()]
    title = HTML.bold(HTML.escape(_("Commands")))
    await reply_html(update, title + "\n" + "\n".join(lines))


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search <query>: the best matches in this chat, with a button for more."""
    query = args_text(update)
    services = services_of(context)
    page = await actions.search(services.started.memory, chat_id_of(update), query,
                                 timezone=services.config.reminders.timezone)
    searches = chat_data_of(context).setdefault("searches", {})
    key = secrets.token_hex(4)  # never reused across restarts: an old button cannot page a newer search
    searches[key] = query
    for old in list(searches)[:-KEPT_SEARCHES]:
        del searches[old]
    await reply_html(update, views.search_text(page, HTML), reply_markup=_pager(key, page))


def _pager(key: str, page: actions.SearchPage) -> InlineKeyboardMarkup | None:
    return page_buttons(lambda n: f"search:{key}:{n}", page.page, page.more)


async def search_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "more" / "back" buttons under search results: show that page in the same message."""
    query_cb = query_of(update)
    _prefix, key, page_text = ((query_cb.data or "").split(":") + ["", ""])[:3]
    query = chat_data_of(context).get("searches", {}).get(key)
    if query is None or not page_text.isdigit() or len(page_text) > 3:
        await query_cb.answer(_("This search has expired: search again."), show_alert=True)
        return
    await query_cb.answer()
    services = services_of(context)
    page = await actions.search(services.started.memory, chat_id_of(update), query, int(page_text),
                                 timezone=services.config.reminders.timezone)
    await query_cb.edit_message_text(views.search_text(page, HTML), parse_mode=ParseMode.HTML,
                                     reply_markup=_pager(key, page))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export: this chat's memory as a JSON document."""
    exported = await actions.export_file(services_of(context).started.memory, chat_id_of(update))
    await message_of(update).reply_document(exported.data, filename=exported.filename,
                                            caption=views.export_caption(exported.messages))


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: what is stored, the models, and latency percentiles since start."""
    services = services_of(context)
    user = update.effective_user
    # Totals across chats only for the bot's owners, and only in their private chat: not to a whole group.
    owner = services.access.is_owner(user.id if user else None)
    private = chat_of(update).type == Chat.PRIVATE
    report = await actions.stats(services.started.assistant, chat_id_of(update), with_totals=owner and private)
    await reply_html(update, views.stats_text(report, HTML, up_for=time.time() - services.started_at))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: a fresh short-term context; long-term memory stays."""
    await services_of(context).started.assistant.reset(chat_id_of(update))
    await reply_html(update, HTML.escape(_("Fresh start: I no longer carry the recent conversation into my replies. "
                                           "Long-term memory stays; /forget deletes memories.")))


async def why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/why: the memories recalled for the last reply, with their scores."""
    assistant = services_of(context).started.assistant
    hits = await actions.why(assistant, chat_id_of(update))
    await reply_html(update, views.why_text(hits, HTML, assistant.last_preference(chat_id_of(update)),
                                            actions.keyword_weight(assistant.memory)))


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compare <A> | <B>: cosine similarity, Euclidean distance and dot product of the two embeddings."""
    comparison = await actions.compare(services_of(context).started.memory, args_text(update))
    await reply_html(update, views.compare_text(comparison, HTML))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command Engram does not have: say so. In groups only when it was addressed to Engram (/x@engram_bot);
    a bare /x there may be another bot's."""
    word = (message_of(update).text or "").split(maxsplit=1)[0]
    name, _at, target = word[1:].partition("@")
    ours = target.lower() == (context.bot.username or "").lower()
    if (target and not ours) or (not target and chat_of(update).type != Chat.PRIVATE):
        return
    reason = table.missing_text(name, FrontEnd.TELEGRAM)  # one of Engram's, offered elsewhere: say why not here
    await message_of(update).reply_text(
        reason or _("Unknown command /{name} — /help lists the commands.").format(name=name[:64]))


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press no handler knows (an old or forged button): stop the client's spinner with a word."""
    await query_of(update).answer(_("This button does not work any more."))
