"""The chat's language in Telegram: chosen for every update before it is handled, and the /language command.

`choose` runs right after the access gate (group -1, the gate is -2): from then on every text of this update —
replies, reminders, errors — is in the chat's language (bot/i18n.py: the /language choice, else the message's own
language, else the one last seen in the chat, else the sender's Telegram `language_code`). The logic is
bot/commands/language.py, the same as the terminal chat's.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.commands.actions import UsageError
from bot.commands.language import PROSE_ARGS, language_command, use_chat_language
from handlers.context import args_text, chat_id_of, message_of, services_of


def _text_of(update: Update) -> str | None:
    """The words of the update that say its language: a message's text or caption, a prose command's arguments;
    nothing for other commands (/timezone Europe/Lisbon says nothing about the language)."""
    message = update.effective_message
    if message is None or update.callback_query is not None:
        return None
    text = message.text or message.caption
    if not text or not text.startswith("/"):
        return text
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return args_text(update) if name in PROSE_ARGS else None


async def choose(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the language this update is answered in."""
    services = services_of(context)
    if services.memory is None or update.effective_chat is None:
        return
    user = update.effective_user
    await use_chat_language(services.memory, update.effective_chat.id, _text_of(update),
                            user.language_code if user else None)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/language [code | auto]: show or choose the language this chat is answered in."""
    try:
        answer = await language_command(services_of(context).started.memory, chat_id_of(update), args_text(update))
    except UsageError as exc:
        answer = str(exc)
    await message_of(update).reply_text(answer)
