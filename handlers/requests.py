"""Plain-language actions in Telegram: "remind me in 2 minutes to…", "cancel the bread reminder", "what reminders
do I have?", "forget what I said about the wifi password" — and the offer of a reminder under a plan.

Thin: reading and carrying out are bot/commands/requests.py, the same as in the terminal chat; here are only
Telegram's parts (buttons: Cancel under a reminder, confirm / cancel under what a forget would remove, the offer's
"⏰ remind me an hour before"). The text handler is registered just before the ordinary one
(handlers/messages.on_text) in the same group: a message that asks for no action is handed on to it.
"""

from __future__ import annotations

from dataclasses import replace

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.commands import views
from bot.commands.requests import ActionReply, Requests
from bot.i18n import _
from bot.reply.requests import Action
from bot.text import HTML, plural
from handlers import forget, messages
from handlers.access import require_admin
from handlers.context import chat_id_of, chat_of, message_of, query_of, services_of, user_id_of
from handlers.reminders import OFFER_PREFIX, cancel_keyboard


def forget_asked(count: int) -> str:
    return _("(asked whether to forget {messages})").format(messages=plural(count, "message"))


def register(application: Application) -> None:
    """Add the handlers. Call before the ordinary text handler is added (actions are tried first)."""
    application.add_handler(CallbackQueryHandler(offer_button, pattern=rf"^{OFFER_PREFIX}\d+$"))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, on_text))


def requests_of(context: ContextTypes.DEFAULT_TYPE) -> Requests:
    started = services_of(context).started
    return Requests(started.memory, started.reminders)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An action asked in words, carried out; anything else goes on to the ordinary text handler."""
    message = message_of(update)
    text = message.text
    if chat_of(update).type != Chat.PRIVATE:
        text = messages.addressed_text(message, context.bot.id, context.bot.username)
    requests = requests_of(context)
    request = requests.read(text) if text is not None else None
    if request is None:
        await messages.on_text(update, context)
        return
    if request.kind is Action.FORGET and not await require_admin(update, context):
        await requests.keep_request(messages.to_memory(message, text))
        return
    user = update.effective_user
    try:
        done = await requests.carry_out(chat_id_of(update), request, created_by=user.id if user else None)
    finally:  # after: a forget previews what came before it; kept even when carrying it out failed
        await requests.keep_request(messages.to_memory(message, text))
    await show(update, context, requests, done)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, requests: Requests, done: ActionReply) -> None:
    message = message_of(update)
    if done.forget is not None:  # what would go, with the buttons of /forget (handlers/forget.forget_confirmed)
        question = views.forget_question(done.forget, HTML) or ""
        sent = await message.reply_html(question, reply_markup=forget.ask_markup(context, update, done.forget))
        asked = replace(done, text=forget_asked(done.forget.count))  # not the preview: it quotes what goes
        await requests.keep_reply(sent.chat_id, sent.message_id, asked, sent.date.timestamp())
        return
    markup = None
    if done.reminder is not None:
        markup = cancel_keyboard(done.reminder.id)
    elif done.listing is not None and done.listing.shown:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(_("Cancel #{id}").format(id=r.id),
                                                             callback_data=f"rem:cancel:{r.id}")]
                                       for r in done.listing.shown])
    sent = await message.reply_text(done.text, reply_markup=markup)
    await requests.keep_reply(sent.chat_id, sent.message_id, done, sent.date.timestamp())


async def offer_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"⏰ remind me an hour before" pressed: the reminder of the plan said in that message, set now."""
    query = query_of(update)
    message_id = int((query.data or "")[len(OFFER_PREFIX):])
    requests = requests_of(context)
    done = await requests.accept(chat_id_of(update), message_id, created_by=user_id_of(update))
    await query.answer(_("Reminder set") if done.reminder is not None else _("No reminder set"))
    shown = query.message
    sent = await context.bot.send_message(
        chat_id_of(update), done.text, reply_markup=cancel_keyboard(done.reminder.id) if done.reminder else None,
        reply_parameters=ReplyParameters(shown.message_id, allow_sending_without_reply=True) if shown else None)
    await requests.keep_reply(sent.chat_id, sent.message_id, done, sent.date.timestamp())
    if shown is not None and done.reminder is not None:  # the offer is taken: its button goes
        await context.bot.edit_message_reply_markup(chat_id_of(update), shown.message_id, reply_markup=None)
