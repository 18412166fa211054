"""Ordinary messages: store every one (text, captions, edits, forwards); answer those meant for the bot.

Private chats: every text message is answered. Groups: everything the bot can see is stored, but it answers only
when mentioned by @username, replied to, or addressed by command (commands are in handlers/commands.py).
Commands themselves are not stored: they are instructions to the bot, not conversation.

The reply is generated in a background task (Services.spawn), so the update queue keeps moving: other chats are
stored and answered while one chat's reply is still being written.
"""

from __future__ import annotations

import contextlib
import logging
import time

from telegram import (
    Bot,
    Chat,
    MessageEntity,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram import Message as TgMessage
from telegram.ext import Application, ContextTypes

from bot.commands.requests import Requests
from bot.errors import GenerationCancelled, LLMError
from bot.i18n import N_, _
from bot.reply.assistant import Reply
from bot.reply.citation import citation_text
from bot.text import HTML, PLAIN
from handlers.context import Services, chat_of, message_of, services_of
from handlers.format import message_link
from handlers.reminders import offer_keyboard
from handlers.streaming import INTERRUPTED_MARK, StreamedMessage, typing
from memory import Message

log = logging.getLogger(__name__)

NO_ANSWER = N_("(I have no answer to that.)")


def stored_text(message: TgMessage) -> str:
    """What is remembered of a Telegram message: its text or the caption of a photo, document, voice, video…"""
    return message.text or message.caption or ""


def message_kind(message: TgMessage) -> str | None:
    for kind in ("photo", "document", "voice", "audio", "video", "animation", "video_note"):
        if getattr(message, kind, None):
            return kind
    return None


def origin_meta(message: TgMessage) -> dict | None:
    """Where a forwarded message came from, kept with it."""
    origin = message.forward_origin
    if origin is None:
        return None
    if isinstance(origin, MessageOriginUser):
        who = {"user_id": origin.sender_user.id, "name": origin.sender_user.full_name}
    elif isinstance(origin, MessageOriginHiddenUser):
        who = {"name": origin.sender_user_name}
    elif isinstance(origin, MessageOriginChat):
        who = {"chat_id": origin.sender_chat.id, "name": origin.sender_chat.title or origin.sender_chat.full_name}
    elif isinstance(origin, MessageOriginChannel):
        who = {"chat_id": origin.chat.id, "name": origin.chat.title}
    else:
        who = {}
    return {"forwarded_from": {**who, "type": origin.type, "date": origin.date.timestamp()}}


def to_memory(message: TgMessage, text: str | None = None) -> Message:
    """A Telegram message as the memory stores it."""
    user = message.from_user
    meta: dict = {}
    if kind := message_kind(message):
        meta["kind"] = kind
    if forwarded := origin_meta(message):
        meta.update(forwarded)
    return Message(
        chat_id=message.chat_id,
        message_id=message.message_id,
        text=text if text is not None else stored_text(message),
        role="user",
        sender_id=user.id if user else None,
        sender_name=(user.full_name if user else (message.sender_chat.title if message.sender_chat else "")) or "",
        created_at=sent_at(message),
        reply_to=message.reply_to_message.message_id if message.reply_to_message else None,
        meta=meta or None,
    )


def sent_at(message: TgMessage) -> float:
    """When the message was sent, with sub-second order kept.

    Telegram's dates are whole seconds, while the bot's replies are stored with time.time(): a question sent in
    the same second as the previous reply would sort before it, scrambling the turns in the prompt. Within the
    message's own second, the time it reached us orders it; a message that arrives late keeps its date.
    """
    date = message.date.timestamp()
    return min(max(time.time(), date), date + 0.999)


def addressed_text(message: TgMessage, bot_id: int, username: str) -> str | None:
    """In a group: the message text without the bot's @mention if the message is for the bot, else None."""
    text = message.text or ""
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.id == bot_id:
        return text
    mention = f"@{username}".lower()
    for entity, value in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if value.lower() == mention or (entity.user and entity.user.id == bot_id):
            # Entity offsets count UTF-16 code units (an emoji is two), not Python characters.
            units = text.encode("utf-16-le", "surrogatepass")  # a lone surrogate must not break the cut
            start, end = 2 * entity.offset, 2 * (entity.offset + entity.length)
            before = units[:start].decode("utf-16-le", "surrogatepass")
            after = units[end:].decode("utf-16-le", "surrogatepass")
            cleaned = f"{before.rstrip()} {after.lstrip(' ,:')}".strip(" ,:")
            return cleaned or text
    return None


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store a text message; answer it if it is for the bot."""
    services = services_of(context)
    message = message_of(update)
    if chat_of(update).type == Chat.PRIVATE:
        text = message.text
    else:
        text = addressed_text(message, context.bot.id, context.bot.username)
    if text is None:
        await services.started.assistant.remember(to_memory(message))
        return
    reply = await services.started.assistant.answer(to_memory(message, text))
    if reply is not None:  # None: it joined this chat's reply that is still waiting for its turn
        spawn_reply(services, context.application, reply, update,
                    thread_id=message.message_thread_id if message.is_topic_message else None)


def spawn_reply(services: Services, application: Application, reply: Reply, update: Update | None = None,
                thread_id: int | None = None) -> None:
    """Write the reply in the background (the update queue moves on); in groups it quotes what it answers."""
    services.spawn(application, stream_reply(services, application.bot, reply, quote=reply.chat_id < 0,
                                             thread_id=thread_id), update)


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Store the caption of a document, video or animation (no caption: nothing to remember). Voice messages,
    video notes, audio files and photos are made into text by handlers/media.py."""
    message = message_of(update)
    if stored_text(message).strip():
        await services_of(context).started.assistant.remember(to_memory(message))


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited message: update the stored text and its embedding (store it if it was not stored)."""
    message = update.edited_message or update.edited_channel_post
    if message is None:  # e.g. an edited business message: not a chat Engram keeps a memory of
        return
    text = stored_text(message)
    if not text.strip() or text.startswith("/"):
        return
    assistant = services_of(context).started.assistant
    stored = await assistant.memory.messages.get(message.chat_id, message.message_id)
    if stored is not None and (stored.meta or {}).get("media"):
        # a voice message's or picture's text is its caption and what was heard or read in it: a new caption
        # alone would replace that, so the edit is left out (the transcript matters more than a caption)
        log.info("caption edit of %s %s/%s not applied: its text was made from the medium", stored.kind,
                 message.chat_id, message.message_id)
        return
    edited_at = message.edit_date.timestamp() if message.edit_date else None
    if await assistant.edit(message.chat_id, message.message_id, text, edited_at) is None:
        await assistant.remember(to_memory(message))


async def stream_reply(services: Services, bot: Bot, reply: Reply, *, quote: bool,
                       thread_id: int | None = None) -> None:
    """Show the reply as it comes, then keep it with the Telegram id of its first message.

    "typing…" is shown from the moment the reply's turn comes until its first text appears (the message being
    edited shows progress after that) — not while it waits behind other chats.
    """
    chat_id = reply.chat_id
    assistant = services.started.assistant
    out: StreamedMessage | None = None
    try:
        async with typing(bot, services.throttle, chat_id, thread_id, reply.started) as shown, \
                contextlib.aclosing(assistant.stream(reply)) as chunks:  # the chat's turn ends even if sending fails
            async for _chunk in chunks:
                if not reply.text.strip():
                    continue
                if out is None:  # the message it answers is known now: the last of the burst
                    out = StreamedMessage(bot, chat_id, services.throttle, thread_id=thread_id,
                                          reply_to=reply.message.message_id if quote else None)
                await out.update(reply.text)
                shown.set()
    except LLMError as exc:  # stopped (a newer message, shutdown) or failed midway: what is shown ends with a mark
        if out is not None and out.message_ids:
            await out.update(reply.text.rstrip() + INTERRUPTED_MARK, final=True)
        if isinstance(exc, GenerationCancelled):
            return
        raise  # the error handler tells the user why
    if out is None:
        out = StreamedMessage(bot, chat_id, services.throttle, thread_id=thread_id,
                              reply_to=reply.message.message_id if quote else None)
    await assistant.keep(reply, out.first_id)  # finished: stored with the id of the message showing it
    # A plan in a statement ("dentist on Tuesday at 10"): a reminder offered under the acknowledgement, never set
    # unasked (bot/commands/requests.py; the button is handlers/requests.offer_button).
    offer = await Requests(services.started.memory, services.started.reminders).offer(
        chat_id, reply.message.text, reply.message.created_at)
    markup = offer_keyboard(reply.message.message_id, offer) if offer is not None else None
    await out.update(reply.text if reply.text.strip() else _(NO_ANSWER), final=True, footer=citation(reply),
                     markup=markup)


def citation(reply: Reply) -> tuple[str, str] | None:
    """The memory the reply used, as (HTML, plain): its date links to the original message where Telegram has
    links (supergroups)."""
    if reply.citation is None:
        return None
    cited = reply.citation.message
    link = message_link(cited.chat_id, cited.message_id) if cited.role != "assistant" else None
    return citation_text(cited, HTML, link), citation_text(cited, PLAIN)


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup (its id changes): carry its memory over, and its place on the allowlist."""
    message = message_of(update)
    old, new = message.chat_id, message.migrate_to_chat_id
    if new is None:  # the new supergroup's own notice (migrate_from_chat_id): the old group's notice moves it
        return
    services = services_of(context)
    moved = await services.started.memory.messages.move_chat(old, new)
    if old in services.access.chats:
        services.access.chats.add(new)
        log.warning("chat %s became supergroup %s: allowed for this run; put %s in telegram.allowed_chat_ids",
                    old, new, new)
    log.info("moved %d messages of chat %s to its new id %s", moved, old, new)
