"""Who may use the bot: an allowlist of users and chats, and admins for destructive commands in groups.

`gate` runs before every other handler (group -2). An update from anyone not allowed stops there: nothing is
stored, nothing is recalled, and the person gets at most one polite refusal (remembered in RAM, so a restart may
say it once more).
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.i18n import N_, _
from handlers.context import chat_of, message_of, services_of

log = logging.getLogger(__name__)

REFUSAL = N_(
    "Sorry, this is a private assistant and you are not on its list of allowed users. "
    "Its owner can add your id ({user_id}) to telegram.allowed_user_ids."
)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let allowed updates through; stop everything else here, refusing politely at most once."""
    policy = services_of(context).access
    user, chat = update.effective_user, update.effective_chat
    if policy.allowed(user.id if user else None, chat.id if chat else None):
        return
    log.info("ignored an update from user %s in chat %s (not allowed)", user and user.id, chat and chat.id)
    if update.callback_query:
        await update.callback_query.answer(_("You are not allowed to use this bot."))
    elif update.message and chat and user and _addressed(update, context) and policy.first_refusal(user.id):
        await update.message.reply_text(_(REFUSAL).format(user_id=user.id))
    raise ApplicationHandlerStop


def _addressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In private chats every message is for the bot; in groups only commands and mentions are."""
    if chat_of(update).type == Chat.PRIVATE:
        return True
    text = message_of(update).text or ""
    return text.startswith("/") or f"@{context.bot.username}".lower() in text.lower()


async def require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """For destructive commands: True if this user may run them here, else says why and returns False."""
    user = update.effective_user
    if services_of(context).access.may_destroy(user.id if user else None, chat_of(update)):
        return True
    await message_of(update).reply_text(_("In this group only the bot's admins may delete memories."))
    return False
