"""Voice messages, video notes, audio files and pictures: stored at once, their text made in the background.

A recording is stored the moment it arrives ("voice message, 0:42, transcribing…"), then fetched (getFile),
transcribed by bot/media (one at a time, behind replies) and its text filled in (re-indexed, re-embedded). Then it
is handled as a typed message would be: in a private chat it is answered; in a group only when it is a reply to
the bot or names the bot in speech. What was heard is shown ("🎙 …", media.show_transcript).

Received means kept (handlers/intake.py): the update stays unhandled in the inbox until its transcript is stored,
so a crash midway transcribes it again at the next start, and a message whose transcript is already stored is not
transcribed twice. A picture's text is read (OCR) the same way. A recording or picture that cannot be read gets a
one-line answer and is kept by its caption or as "voice message, not transcribed: …".
"""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from pathlib import Path

from telegram import Bot, Chat, Update
from telegram import Message as TgMessage
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot.commands.language import use_chat_language
from bot.config import ShowTranscript
from bot.errors import MediaError
from bot.i18n import N_, _
from bot.media import texts
from bot.media.speech import TOO_LONG, clock
from bot.reply.assistant import ADDRESSED
from handlers.context import Services, message_of, services_of
from handlers.intake import EngramApplication
from handlers.messages import spawn_reply, to_memory

log = logging.getLogger(__name__)

PROGRESS_FROM = 60.0  # seconds of audio from which a recording shows its progress while it is transcribed
PROGRESS_EVERY = 5.0  # seconds between two edits of the progress (Telegram's flood limits: one edit a second)


class Progress:
    """A long recording's "🎙 transcribing 5:00… 40%" reply, edited as pieces are done; the transcript (or why
    there is none) replaces it at the end."""

    def __init__(self, message: TgMessage, duration: float | None):
        self.message = message
        self.duration = duration
        self.share = 0.0
        self.shown: TgMessage | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        try:
            self.shown = await self.message.reply_text(texts.progress_text(self.duration, 0.0))
        except TelegramError as exc:
            log.info("no progress shown: %s", exc)
            return
        self._task = asyncio.get_running_loop().create_task(self._update())

    def heard(self, share: float) -> None:
        self.share = share

    async def _update(self) -> None:
        shown = 0.0
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            if self.shown is not None and self.share - shown >= 0.01:
                shown = self.share
                try:
                    await self.shown.edit_text(texts.progress_text(self.duration, shown))
                except TelegramError:
                    pass

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def finish(self, text: str | None) -> None:
        """Replace the progress with `text` (or send it, if no progress could be shown); None: remove it."""
        self.stop()
        try:
            if text is None:
                if self.shown is not None:
                    await self.shown.delete()
            elif self.shown is not None:
                await self.shown.edit_text(text)
            else:
                await self.message.reply_text(text)
        except TelegramError as exc:
            log.info("the progress of a transcription was not updated: %s", exc)


def recording_of(message: TgMessage):
    """(kind, the Telegram attachment) of a voice message, video note or audio file."""
    for kind in texts.VOICE_KINDS:
        if attachment := getattr(message, kind, None):
            return kind, attachment
    raise ValueError("not a recording")


def names_bot(said: str, bot: Bot) -> bool:
    """True if speech names the bot: its first name ("Engram, when is…") or its username said as words."""
    names = {bot.first_name or "", (bot.username or "").replace("_", " ")}
    return any(name.strip() and re.search(rf"\b{re.escape(name.strip())}\b", said, re.IGNORECASE)
               for name in names)


def replies_to_bot(message: TgMessage, bot_id: int) -> bool:
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def _deferred_done(application: Application, update: Update):
    if isinstance(application, EngramApplication):
        return application.defer(update)

    async def nothing() -> None:
        return None

    return nothing


async def _already_made(services: Services, message: TgMessage) -> bool:
    """Its text was made before a restart (the update is handled again): nothing to do twice."""
    stored = await services.started.memory.messages.get(message.chat_id, message.message_id)
    return stored is not None and (stored.meta or {}).get("media") in (texts.DONE, texts.FAILED)


async def on_recording(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice message, video note or audio file: stored now, transcribed and answered in the background."""
    services = services_of(context)
    message = message_of(update)
    if await _already_made(services, message):
        return
    kind, recording = recording_of(message)
    if services.media is None or not services.media.transcribes:  # media.transcribe: off — kept as what it is
        quiet = to_memory(message, texts.untranscribed_text(kind, recording.duration, message.caption or ""))
        quiet.meta = {**(quiet.meta or {}), "kind": kind, "duration": recording.duration}
        await services.started.assistant.remember(quiet)
        return
    pending = to_memory(message, texts.pending_text(kind, recording.duration))
    pending.meta = {**(pending.meta or {}), "kind": kind, "duration": recording.duration, "media": texts.PENDING}
    await services.started.assistant.remember(pending)
    done = _deferred_done(context.application, update)
    services.spawn(context.application, _finish(done, _transcribe(services, context.application, message, kind,
                                                                  recording, pending.meta)), update)


def unexpected(error: Exception, kind: str, message: TgMessage) -> MediaError:
    """An error no check foresaw (Telegram unreachable while fetching, a decoder or OCR crash), as the one-line
    reason stored with the message and shown: the message is then kept as "not transcribed/read", not left
    pending for good (its update is marked handled)."""
    log.warning("%s %s/%s failed", kind, message.chat_id, message.message_id, exc_info=error)
    return MediaError(N_("something went wrong ({error}); send it again to retry"), error=type(error).__name__)


async def _finish(done, work) -> None:
    """Run the background work, then mark its update handled — unless it was cancelled (shutdown): then the update
    is handled again at the next start."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except BaseException:
        await done()
        raise
    await done()


async def _transcribe(services: Services, application: Application, message: TgMessage, kind: str, recording,
                      meta: dict) -> None:
    memory = services.started.memory
    bot = application.bot
    caption = message.caption or ""
    private = message.chat.type == Chat.PRIVATE
    to_bot = replies_to_bot(message, bot.id)
    progress = None
    limits = services.config.media
    if (private or to_bot) and PROGRESS_FROM <= (recording.duration or 0) <= limits.max_seconds \
            and (recording.file_size or 0) <= limits.max_bytes:
        progress = Progress(message, recording.duration)
        await progress.start()
    try:
        transcript = await _fetch_and_transcribe(services, bot, kind, recording, progress)
    except Exception as caught:  # MediaError, or a network error, a decoder's crash: never left "transcribing…"
        exc = caught if isinstance(caught, MediaError) else unexpected(caught, kind, message)
        reason = str(exc)
        log.info("%s %s/%s not transcribed: %s", kind, message.chat_id, message.message_id, reason)
        await memory.messages.fill(message.chat_id, message.message_id,
                                   texts.failed_text(kind, recording.duration, reason, caption),
                                   {**meta, "media": texts.FAILED, "error": reason})
        if progress is not None:
            await progress.finish(texts.not_transcribed(kind, exc.said()))
        elif private or to_bot:
            await message.reply_text(texts.not_transcribed(kind, exc.said()))
        return
    except BaseException:
        if progress is not None:
            progress.stop()
        raise
    addressed = private or to_bot or names_bot(transcript.text, bot)
    filled_meta = {**meta, "media": texts.DONE, "language": transcript.language,
                   "duration": round(transcript.duration, 1), **({ADDRESSED: True} if addressed else {})}
    filled = await services.started.assistant.fill(message.chat_id, message.message_id,
                                                   texts.transcribed_text(transcript.text, caption), filled_meta)
    shown = texts.shown_transcript(transcript.text)
    if filled is None:  # forgotten while it was transcribed
        if progress is not None:
            await progress.finish(None)
        return
    if progress is not None:  # the progress becomes the transcript (or goes, if it is not to be shown)
        await progress.finish(shown if services.config.media.show_transcript is ShowTranscript.REPLY else None)
    elif addressed and services.config.media.show_transcript is ShowTranscript.REPLY:
        await message.reply_text(shown)
    if addressed:
        await use_chat_language(memory, message.chat_id, transcript.text)  # a Spanish note is answered in Spanish
        reply = await services.started.assistant.answer(filled)
        if reply is not None:
            spawn_reply(services, application, reply,
                        thread_id=message.message_thread_id if message.is_topic_message else None)


async def _fetch_and_transcribe(services: Services, bot: Bot, kind: str, recording, progress: Progress | None):
    media = services.media
    limits = services.config.media
    if media is None or not media.transcribes:
        raise MediaError(N_("transcription is turned off (media.transcribe)"))
    if recording.duration and recording.duration > limits.max_seconds:
        raise MediaError(TOO_LONG, length=clock(recording.duration), limit=clock(limits.max_seconds))
    data = await _download(bot, recording, limits.max_bytes)
    with tempfile.TemporaryDirectory(prefix="engram-voice-") as folder:
        path = Path(folder) / f"{kind}{_suffix(recording)}"
        await asyncio.to_thread(path.write_bytes, data)
        return await media.transcribe(path, hotwords=bot.first_name,  # its name, said to call it in a group
                                      progress=progress.heard if progress is not None else None)


async def _download(bot: Bot, attachment, max_bytes: int) -> bytes:
    size = attachment.file_size or 0
    if size > max_bytes:
        raise MediaError(N_("the file is too big to fetch ({size} MB; the limit is {limit} MB)"),
                         size=round(size / 1e6), limit=round(max_bytes / 1e6))
    try:
        tg_file = await bot.get_file(attachment.file_id)
        return bytes(await tg_file.download_as_bytearray())
    except BadRequest as exc:
        if "too big" in str(exc).lower():
            raise MediaError(N_("the file is too big for a bot to fetch from Telegram (20 MB; a self-hosted Bot "
                                "API server lifts the limit)")) from None
        raise MediaError(N_("Telegram would not hand over the file ({error})"), error=exc.message) from None


def _suffix(attachment) -> str:
    name = getattr(attachment, "file_name", None) or ""
    return Path(name).suffix or {"audio/mpeg": ".mp3", "video/mp4": ".mp4"}.get(
        getattr(attachment, "mime_type", None) or "", ".ogg")


# ----- pictures ---------------------------------------------------------------------------------------------------
async def on_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (or a picture sent as a file): its caption stored now, the text read in it added in the background."""
    services = services_of(context)
    message = message_of(update)
    caption = message.caption or ""
    media = services.media
    if media is None or media.ocr is None:  # kept by its caption only, as before
        if caption.strip():
            await services.started.assistant.remember(to_memory(message))
        return
    if await _already_made(services, message):
        return
    stored = to_memory(message, caption if caption.strip() else texts.pending_text("photo", None))
    stored.meta = {**(stored.meta or {}), "kind": "photo", "media": texts.PENDING}
    await services.started.assistant.remember(stored)
    done = _deferred_done(context.application, update)
    services.spawn(context.application, _finish(done, _read_picture(services, context.application.bot, message,
                                                                    stored.meta)), update)


async def _read_picture(services: Services, bot: Bot, message: TgMessage, meta: dict) -> None:
    memory = services.started.memory
    media = services.media
    assert media is not None
    caption = message.caption or ""
    picture = message.photo[-1] if message.photo else message.document  # the largest size Telegram made
    try:
        data = await _download(bot, picture, services.config.media.max_bytes)
        read = await media.read_picture(data)
    except Exception as caught:  # MediaError, or a network error, Tesseract's crash: never left unread
        exc = caught if isinstance(caught, MediaError) else unexpected(caught, "picture", message)
        reason = str(exc)
        if caption.strip():
            await memory.messages.fill(message.chat_id, message.message_id, caption,
                                       {**meta, "media": texts.FAILED, "error": reason})
        else:
            await memory.messages.fill(message.chat_id, message.message_id, f"picture, not read: {reason}",
                                       {**meta, "media": texts.FAILED, "error": reason})
        if message.chat.type == Chat.PRIVATE:
            await message.reply_text(_("I kept your picture but could not read it: {reason}.").format(
                reason=exc.said()))
        return
    text = texts.picture_text(caption, read)
    if not text:  # no caption, no text in it: nothing to remember
        await memory.messages.forget(message.chat_id, message.message_id)
        return
    await services.started.assistant.fill(message.chat_id, message.message_id, text,
                                          {**meta, "media": texts.DONE, "text_read": len(read)})
