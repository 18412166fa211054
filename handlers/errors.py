"""The one error handler: log the details, then tell the user something useful without internals."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.commands.actions import UsageError
from bot.errors import EngramError, GenerationCancelled
from bot.i18n import N_, _

log = logging.getLogger(__name__)

GENERIC = N_("Sorry, something went wrong on my side and I could not finish that. Please try again in a moment.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(error, GenerationCancelled):
        return  # a reply stopped on purpose (a newer message, or shutdown)
    if isinstance(error, (NetworkError, RetryAfter)) and not isinstance(update, Update):
        log.warning("Telegram unreachable or busy: %s", error)  # polling errors: PTB retries by itself
        return
    if isinstance(error, UsageError):  # a person typed a command wrongly: nothing to log loudly
        log.debug("usage error: %s", error)
    else:
        log.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    # Our own errors carry messages written for people (bot/errors.py); anything else stays in the log.
    text = str(error) if isinstance(error, EngramError) else _(GENERIC)
    if update.callback_query:
        try:
            await update.callback_query.answer(text[:190], show_alert=True)
            return
        except TelegramError:
            pass
    try:
        await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError as exc:
        log.warning("could not tell chat %s about the error: %s", update.effective_chat.id, exc)
