"""Reminder commands: /remind, /reminders, /cancel, /timezone, the cancel buttons, and natural requests.

Thin: parsing, storage and delivery are bot.reminders.ReminderService (services.reminders). Access control has
already run (handlers/access.gate, group -1). Replies are plain text: reminder texts come from users and are
shown as they are, with no markup to escape.

Natural requests ("remind me to call Ana tomorrow at 10") are caught by a text handler registered just before
the ordinary one (handlers/messages.on_text) in the same group. When the text is a request, the user's message is
stored as usual and the bot confirms instead of asking the model; anything else is handed on to on_text.
"""

from __future__ import annotations

import logging

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram import Message as TgMessage
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.commands.actions import id_argument
from bot.reminders import ParseError
from bot.reminders.parse import REQUEST_WORDS
from bot.reminders.texts import list_line, local_time
from handlers.context import args_text, chat_id_of, chat_of, message_of, query_of, services_of
from memory import Message

log = logging.getLogger(__name__)

# (command, description) for the menu and /help.
COMMANDS: list[tuple[str, str]] = [
    ("remind", "<when> <what> — e.g. /remind tomorrow at 9 call Ana"),
    ("reminders", "this chat's pending reminders"),
    ("cancel", "<id> — cancel a reminder"),
    ("timezone", "[Europe/Lisbon] — show or set this chat's time zone"),
]
CANCEL_PREFIX = "rem:cancel:"
NATURAL_FILTER = filters.Regex(REQUEST_WORDS)
MAX_LISTED = 20


def register(application) -> None:
    """Add the reminder handlers. Call before the ordinary text handler is added (natural requests go first)."""
    application.add_handler(CommandHandler("remind", remind))
    application.add_handler(CommandHandler("reminders", list_reminders))
    application.add_handler(CommandHandler("cancel", cancel))
    application.add_handler(CommandHandler("timezone", set_timezone))
    application.add_handler(CallbackQueryHandler(cancel_button, pattern=rf"^{CANCEL_PREFIX}\d+$"))
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & NATURAL_FILTER, natural_request,
    ))


def cancel_keyboard(reminder_id: int, label: str = "Cancel") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"{CANCEL_PREFIX}{reminder_id}")]])


def confirmation(reminder, parsed) -> str:
    """'OK, I will remind you on Fri 24 Dec 2026 20:00 (Europe/Lisbon): presents' (+ the rule, + the id)."""
    when = f"{local_time(parsed.due_at, parsed.timezone)} ({parsed.timezone})"
    rule = f", then {parsed.recurrence.describe()}" if parsed.recurrence else ""
    return (f"⏰ OK, I will remind you on {when}{rule}: {parsed.text}\n"
            f"(#{reminder.id}; /cancel {reminder.id} to cancel)")


async def _create_and_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, parsed) -> None:
    started = services_of(context).started
    user = update.effective_user
    reminder = await started.reminders.create(chat_id_of(update), user.id if user else None, parsed)
    text = confirmation(reminder, parsed)
    sent = await message_of(update).reply_text(text, reply_markup=cancel_keyboard(reminder.id))
    # The confirmation is part of the conversation: the memory knows a reminder was set.
    await started.memory.messages.remember(Message(sent.chat_id, sent.message_id, text, role="assistant",
                                                    created_at=sent.date.timestamp(),
                                                    meta={"kind": "reminder-set", "reminder_id": reminder.id}))


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
    reminders = services_of(context).started.reminders
    chat_id = chat_id_of(update)
    pending = await reminders.pending(chat_id)
    if not pending:
        await message_of(update).reply_text("No pending reminders. Set one with /remind <when> <what>.")
        return
    tz = await reminders.timezone_for(chat_id)
    shown = pending[:MAX_LISTED]
    lines = [list_line(r, tz) for r in shown]
    if len(pending) > len(shown):
        lines.append(f"… and {len(pending) - len(shown)} more.")
    buttons = [[InlineKeyboardButton(f"Cancel #{r.id}", callback_data=f"{CANCEL_PREFIX}{r.id}")] for r in shown]
    await message_of(update).reply_text("Pending reminders:\n" + "\n".join(lines),
                                        reply_markup=InlineKeyboardMarkup(buttons))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel <id>: cancel one of this chat's reminders."""
    reminder_id = id_argument(args_text(update))
    if reminder_id is None:
        await message_of(update).reply_text("Usage: /cancel <id> (the ids are in /reminders)")
        return
    cancelled = await services_of(context).started.reminders.cancel(chat_id_of(update), reminder_id)
    if cancelled is None:
        await message_of(update).reply_text(f"There is no pending reminder #{reminder_id} in this chat.")
    else:
        await message_of(update).reply_text(f"Cancelled #{cancelled.id}: {cancelled.text}")


async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Cancel button under a confirmation or a /reminders list."""
    query = query_of(update)
    data = query.data or ""
    reminder_id = id_argument(data[len(CANCEL_PREFIX):])
    cancelled = None
    if reminder_id is not None:
        cancelled = await services_of(context).started.reminders.cancel(chat_id_of(update), reminder_id)
    if cancelled is None:
        await query.answer("That reminder is no longer pending.")
        return
    await query.answer(f"Cancelled #{reminder_id}")
    shown = query.message  # None or inaccessible (too old) when Telegram no longer has it
    if isinstance(shown, TgMessage) and shown.text:  # keep the text, mark the line, drop the button
        await query.edit_message_text(f"{shown.text}\n✖ Cancelled #{reminder_id}: {cancelled.text}",
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
    chat_id = chat_id_of(update)
    arg = args_text(update)
    if not arg:
        tz = await reminders.timezone_for(chat_id)
        await message_of(update).reply_text(
            f"This chat's time zone is {tz}. Change it with /timezone Europe/Lisbon (an IANA name).")
        return
    try:
        name = await reminders.set_timezone(chat_id, arg)
    except ParseError as exc:
        await message_of(update).reply_text(str(exc))
        return
    await message_of(update).reply_text(
        f"Time zone set to {name}. New reminders are read in it; existing ones keep their time.")


async def natural_request(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """'remind me to call Ana tomorrow at 10' in ordinary chat: store it, confirm; anything else goes on."""
    from handlers import messages

    started = services_of(context).started
    message = message_of(update)
    text = message.text
    if chat_of(update).type != Chat.PRIVATE:
        text = messages.addressed_text(message, context.bot.id, context.bot.username)
    parsed = None
    if text is not None:
        try:
            parsed = await started.reminders.detect(chat_id_of(update), text)
        except ParseError as exc:
            await started.memory.messages.remember(messages.to_memory(message))
            await message.reply_text(str(exc))
            return
    if parsed is None:
        await messages.on_text(update, context)  # not a request after all: the ordinary path
        return
    await started.memory.messages.remember(messages.to_memory(message))
    await _create_and_confirm(update, context, parsed)
