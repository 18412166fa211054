"""/import: history from a Telegram Desktop export, sent to the bot as a document.

The owner sends result.json with the caption /import (or replies /import to it). The file is fetched (getFile,
then a download), read off the event loop, and imported in the background into this chat, with one message
edited every few seconds to show progress and, at the end, the summary. Replies and commands in every chat keep
working meanwhile: the import waits for any reply in progress before each batch (bot/importing/live.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Bot, Chat, Document, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.commands.actions import UsageError, arguments
from bot.errors import EngramError
from bot.i18n import _
from bot.importing import Progress, import_chats, live, parse, views
from handlers.context import Services, chat_of, message_of, services_of

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds between edits of the progress message
CAPTION = r"^/import(@\w+)?(\s|$)"  # a document whose caption is this command


async def import_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/import on a document (its caption, or a reply to it): fetch it and import it in the background."""
    services = services_of(context)
    message = message_of(update)
    replied = message.reply_to_message
    document = message.document or (replied.document if replied else None)
    if document is None:
        raise UsageError(_(live.USAGE))
    user, chat = update.effective_user, chat_of(update)
    owner = services.access.is_owner(user.id if user else None)
    if not owner:
        await message.reply_text(_("Only the bot's owners (telegram.allowed_user_ids) may import history."))
        return
    wanted = live.request(arguments(message.caption or message.text or ""), chat.id,
                          owner_private=chat.type == Chat.PRIVATE)
    if services.importing:
        await message.reply_text(_("An import is already running; I will say when it is done."))
        return
    if reason := live.too_big(document.file_size, self_hosted(services)):
        await message.reply_text(reason)
        return
    services.importing = True
    status = await message.reply_text(_("Fetching {file}…").format(file=document.file_name or _("the file")))
    task = _import(services, context.bot, document, wanted, status.chat_id, status.message_id)
    services.spawn(context.application, task, update)


def self_hosted(services: Services) -> bool:
    """Whether the bot talks to its own Bot API server (no 20 MB limit on downloads)."""
    return "api.telegram.org" not in services.config.telegram.base_url


async def _import(services: Services, bot: Bot, document: Document, wanted: live.ImportRequest, chat_id: int,
                  status_id: int) -> None:
    shown_at, shown_text = time.monotonic(), ""

    async def show(text: str) -> None:
        nonlocal shown_at, shown_text
        if text == shown_text:
            return
        shown_at, shown_text = time.monotonic(), text
        try:
            await bot.edit_message_text(text[:4000], chat_id=chat_id, message_id=status_id)
        except TelegramError as exc:  # progress is a courtesy: a failed edit never stops the import
            log.warning("could not edit the import's progress message: %s", exc)

    async def progress(p: Progress) -> None:
        if time.monotonic() - shown_at >= PROGRESS_EVERY:
            await show(views.progress_text(p))

    try:
        data = await _download(bot, document, self_hosted(services))
        exported = await asyncio.to_thread(parse, data, document.file_name or "the file")
        chats = live.choose(exported, wanted.chat)
        await show(_("Importing {chat} into this chat…").format(chat=chats[0].name) if wanted.target == chat_id
                   else _("Importing {chat} into chat {id}…").format(chat=chats[0].name, id=wanted.target))
        assistant = services.assistant
        summary = await import_chats(services.started.memory, chats, into=wanted.target, bot_user_id=bot.id,
                                     gate=(lambda: live.until_idle(assistant)) if assistant else None,
                                     progress=progress)
        await show(_("Import done.") + " " + views.summary_text(summary))
    except EngramError as exc:  # the file or the request: said in the progress message, in plain words
        await show(str(exc))
    except asyncio.CancelledError:  # the bot is stopping: every batch stored so far stays
        await asyncio.shield(show(_("The import was stopped (the bot is shutting down). Send /import again to "
                                    "finish it: what is imported stays, nothing comes twice.")))
        raise
    finally:
        services.importing = False


async def _download(bot: Bot, document: Document, self_hosted: bool) -> bytes:
    try:
        file = await bot.get_file(document.file_id)
    except BadRequest as exc:
        if "too big" in str(exc).lower():
            raise UsageError(live.too_big(live.TELEGRAM_FILE_LIMIT + 1, False) or str(exc)) from None
        raise
    if reason := live.too_big(file.file_size, self_hosted):
        raise UsageError(reason)
    return bytes(await file.download_as_bytearray())
