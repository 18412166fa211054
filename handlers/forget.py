"""/forget: delete memories (row, vector and keyword entry go together, in memory.Memory).

- As a reply to a message: forget that message at once.
- /forget <words>: list the messages containing all these words (bot/commands/actions.py) and ask to confirm.
- /forget all: ask to confirm, then empty this chat's memory.
Only the person who asked can press the buttons. In groups with admin_user_ids configured, only admins may forget.
"""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.commands import actions, views
from bot.i18n import _, ngettext
from bot.text import HTML
from handlers.access import require_admin
from handlers.commands import reply_html
from handlers.context import args_text, chat_data_of, chat_id_of, chat_of, message_of, query_of, services_of, user_id_of

ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: the sender of an anonymous admin's messages


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget (as a reply), /forget <words> or /forget all."""
    if not await require_admin(update, context):
        return
    memory = services_of(context).started.memory
    message = message_of(update)
    chat_id = chat_id_of(update)
    query = args_text(update)
    if message.reply_to_message and not query:
        if await memory.messages.forget(chat_id, message.reply_to_message.message_id):
            await reply_html(update, _("Forgotten: that message is no longer in my memory."))
        else:
            await reply_html(update, _("I had nothing stored for that message."))
        return
    request = await actions.forget_request(memory, chat_id, query)
    question = views.forget_question(request, HTML)
    if question is None:
        await reply_html(update, views.forget_nothing(request))
        return
    await reply_html(update, question, reply_markup=ask_markup(context, update, request))


def ask_markup(context, update: Update, request: actions.ForgetRequest) -> InlineKeyboardMarkup:
    """The buttons that confirm or cancel this request (only its asker may press them)."""
    yes = (_("Yes, forget everything") if request.everything
           else ngettext("Yes, forget {n}", "Yes, forget {n}", request.count).format(n=request.count))
    return confirm_keyboard(ask_later(context, update, request), yes)


def ask_later(context, update: Update, request: actions.ForgetRequest) -> str:
    """Keep a request until its buttons are pressed (also a plain-language one, handlers/requests.py)."""
    pending = chat_data_of(context).setdefault("forget", {})
    token = secrets.token_hex(4)  # never reused, even across restarts: an old button cannot confirm a new request
    pending[token] = {"request": request, "user_id": user_id_of(update)}
    return token


def confirm_keyboard(token: str, yes: str) -> InlineKeyboardMarkup:
    """Confirm / Cancel under the question of what would go."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(yes, callback_data=f"forget:{token}:yes"),
        InlineKeyboardButton(_("Cancel"), callback_data=f"forget:{token}:no"),
    ]])


async def forget_confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirm / cancel buttons of /forget."""
    query = query_of(update)
    _prefix, token, answer = ((query.data or "").split(":") + ["", ""])[:3]
    pending = chat_data_of(context).get("forget", {})
    request = pending.get(token)
    if request is None:
        await query.answer(_("This request has expired."), show_alert=True)
        return
    presser = user_id_of(update)
    # An anonymous group admin asks as Telegram's shared GroupAnonymousBot but presses buttons as themselves:
    # then an admin of Engram's config (or, with none configured, any allowed member) may confirm.
    access = services_of(context).access
    if request["user_id"] != presser and not (
        request["user_id"] == ANONYMOUS_ADMIN and access.may_destroy(presser, chat_of(update))
    ):
        await query.answer(_("Only the person who asked can confirm."), show_alert=True)
        return
    del pending[token]
    await query.answer()
    if answer != "yes":
        await query.edit_message_text(_("Cancelled: nothing was forgotten."))
        return
    count = await actions.forget(services_of(context).started.memory, chat_id_of(update), request["request"])
    if request["request"].everything:
        chat_data_of(context).pop("searches", None)
    await query.edit_message_text(views.forgotten_text(count), parse_mode=ParseMode.HTML)
