"""Reminder commands: /remind, /reminders, /cancel, /timezone, the cancel buttons, and natural requests.

Thin: parsing, storage, delivery and every answer's words are bot.reminders (ReminderService as
services.reminders, texts), the same as in the terminal chat; here are only Telegram's parts, the buttons
(the sender is handlers/delivery.py). Access control has already run (handlers/access.gate, group -1). Replies
are plain text: reminder texts come from users and are shown as they are, with no markup to escape.

Reminders asked in words ("remind me to call Ana tomorrow at 10") are plain-language actions: handlers/requests.py.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import Message as TgMessage
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.commands.actions import id_argument
from bot.i18n import _
from bot.reminders import ParsedReminder, ParseError, texts
from bot.reminders.plans import PlanOffer
from handlers.context import args_text, chat_id_of, message_of, query_of, services_of
from memory.reminders import Reminder

log = logging.getLogger(__name__)

CANCEL_PREFIX = "rem:cancel:"
OFFER_PREFIX = "rem:offer:"  # + the id of the message holding a plan (handlers/requests.offer_button)


def register(application: Application) -> None:
    """Add the reminder commands and their buttons."""
    application.add_handler(CommandHandler("remind", remind))
    application.add_handler(CommandHandler("reminders", list_reminders))
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(CommandHandler("timezone", set_timezone))
    application.add_handler(CallbackQueryHandler(cancel_button, pattern=rf"^{CANCEL_PREFIX}\d+$"))


def offer_keyboard(message_id: int, offer: PlanOffer) -> InlineKeyboardMarkup:
    """The offer under an acknowledged plan: pressed, the reminder is set (never before)."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"⏰ {offer.label}",
                                                       callback_data=f"{OFFER_PREFIX}{message_id}")]])


def cancel_keyboard(reminder_id: int, label: str | None = None) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(label or _("Cancel"), callback_data=f"{CANCEL_PREFIX}{reminder_id}")
    return InlineKeyboardMarkup([[button]])


async def _create_and_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, parsed: ParsedReminder) -> None:
    reminders = services_of(context).started.reminders
    user = update.effective_user
    reminder = await reminders.create(chat_id_of(update), user.id if user else None, parsed)
    text = texts.confirmation(reminder, parsed)
    sent = await message_of(update).reply_text(text, reply_markup=cancel_keyboard(reminder.id))
    await reminders.remember_confirmation(sent.chat_id, sent.message_id, text, reminder, sent.date.timestamp())


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind <when> <what>: set a reminder and confirm the time understood."""
    reminders = services_of(context).started.reminders
    try:
        parsed = await reminders.parse(chat_id_of(update), args_text(update))
    except ParseError as exc:
        await message_of(update).reply_text(str(exc))
        return
    await _create_and_confirm(update, context, parsed)


async def list_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reminders: the pending ones, each with a cancel button."""
    listing = await services_of(context).started.reminders.listing(chat_id_of(update))
    buttons = [[InlineKeyboardButton(_("Cancel #{id}").format(id=r.id), callback_data=f"{CANCEL_PREFIX}{r.id}")]
               for r in listing.shown]
    await message_of(update).reply_text(listing.text(),
                                        reply_markup=InlineKeyboardMarkup(buttons) if buttons else None)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel <id>: cancel one of this chat's reminders."""
    try:
        cancelled = await services_of(context).started.reminders.cancel_command(chat_id_of(update),
                                                                                args_text(update))
    except ParseError as exc:
        await message_of(update).reply_text(str(exc))
        return
    await message_of(update).reply_text(texts.cancelled_text(cancelled))


async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Cancel button under a confirmation or a /reminders list."""
    query = query_of(update)
    data = query.data or ""
    reminder_id = id_argument(data[len(CANCEL_PREFIX):])
    cancelled: Reminder | None = None
    if reminder_id is not None:
        cancelled = await services_of(context).started.reminders.cancel(chat_id_of(update), reminder_id)
    if cancelled is None:
        await query.answer(_("That reminder is no longer pending."))
        return
    await query.answer(_("Cancelled #{id}").format(id=reminder_id))
    shown = query.message  # None or inaccessible (too old) when Telegram no longer has it
    if isinstance(shown, TgMessage) and shown.text:  # keep the text, mark the line, drop the button
        await query.edit_message_text(f"{shown.text}\n✖ {texts.cancelled_text(cancelled)}",
                                      reply_markup=_without_button(shown.reply_markup, data))


def _without_button(markup, data: str):
    if markup is None:
        return None
    rows = [[b for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


async def set_timezone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/timezone [Area/City]: show or set the zone reminders of this chat are read in."""
    reminders = services_of(context).started.reminders
    try:
        answer = await reminders.timezone_command(chat_id_of(update), args_text(update))
    except ParseError as exc:
        await message_of(update).reply_text(str(exc))
        return
    await message_of(update).reply_text(answer.text())
