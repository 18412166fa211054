"""Importing the chats of an export into the memory: in batches, each embedded and then stored in one transaction.

A batch is first looked up (what is already stored is counted, never embedded again, never overwritten), then
its new messages are embedded on the memory's model thread, then stored with their vectors in one transaction.
So an import killed at any point leaves only whole batches, and running it again picks up where it stopped;
the same file twice adds nothing. Before each slice of a batch's embedding the import waits at `gate` (the bot
passes "no reply is being written"), so live replies never share the CPU with it: a reply waits for at most the
slice in progress.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bot.i18n import _, number, using
from bot.importing.formats import ChatExport, ImportFileError
from bot.importing.telegram import MEDIA_FILE, SkipMessage
from bot.text import plural
from memory import Memory, Message

log = logging.getLogger(__name__)

BATCH = 256  # messages stored in one transaction (and sorted by length for the model: see _embed)
GATE_SLICE = 32  # messages embedded between two looks at the gate (two batches of 16, one a core at once on
#                  onnxruntime): a reply waits for at most ~0.1-0.25 s
MAX_ERRORS_KEPT = 20

# --media: (the file, its kind, its caption, its duration) -> (the message's text, meta to add): bot/media's
# Media.text_of_file, which transcribes a recording or reads a picture.
MediaReader = Callable[[Path, str, str, float | None], Awaitable[tuple[str, dict]]]


@dataclass
class Progress:
    chat: str
    done: int  # messages of the export handled so far (all chats)
    total: int
    imported: int
    present: int
    started: float  # time.monotonic() at the start

    @property
    def rate(self) -> float:
        """Messages handled a second."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds still to go at the rate so far."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class Summary:
    total: int = 0  # entries in the chats imported
    imported: int = 0  # new messages stored (with --dry-run: that would be)
    present: int = 0  # already in the memory
    skipped: Counter[str] = field(default_factory=Counter)  # by kind: service, sticker without text, empty…
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    chats: list[tuple[str, int]] = field(default_factory=list)  # (name, target chat id)
    seconds: float = 0.0
    paused: float = 0.0  # seconds spent waiting at the gate (for live replies)
    dry_run: bool = False
    media: Counter[str] = field(default_factory=Counter)  # --media: files transcribed or read, by kind

    def error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text)


def counts_text(s: Summary) -> str:
    """'13 messages imported, 0 already present, 6 skipped, 0 errors'; a dry run says what it would import (the
    log line and views.summary_text)."""
    rest = _("{present} already present, {skipped} skipped, {errors}").format(
        present=number(s.present), skipped=number(sum(s.skipped.values())), errors=plural(s.error_count, "error"))
    if s.dry_run:
        return _("would import {messages}; {rest}").format(messages=plural(s.imported, "message"), rest=rest)
    return _("{messages} imported, {rest}").format(messages=plural(s.imported, "message"), rest=rest)


def to_messages(chat: ChatExport, target: int, summary: Summary, bot_user_id: int | None = None,
                with_media: bool = False) -> list[Message]:
    """Every entry of a chat that can be imported, as messages of chat `target` keeping their original ids (the
    memory decides the stored ids); what is not imported is counted in `summary`. `with_media`: voice messages
    and photos whose file the export holds are kept too (meta MEDIA_FILE), to be transcribed or read."""
    bot_key = f"user{bot_user_id}" if bot_user_id is not None else None
    out: dict[int, Message] = {}
    for entry in chat.entries:
        try:
            c = chat.convert(entry, with_media)
        except SkipMessage as skip:
            summary.skipped[skip.reason] += 1
            continue
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            summary.error(f"{chat.name}: message {_entry_id(entry)}: {type(exc).__name__}: {exc}")
            continue
        out[c.original_id] = Message(
            chat_id=target, message_id=c.original_id, text=c.text,
            role="assistant" if bot_key and c.from_key == bot_key else c.role,
            sender_id=c.sender_id, sender_name=c.sender_name, created_at=c.created_at, edited_at=c.edited_at,
            reply_to=c.reply_to, meta={**c.meta, "import": {"source": chat.source, "id": c.original_id}},
        )
    return list(out.values())


async def _embed(memory: Memory, messages: Sequence[Message], gate: Callable[[], Awaitable[None]] | None,
                 summary: Summary) -> np.ndarray:
    """Vectors of a batch, made a slice at a time with a pass through the gate before each: a reply that comes
    meanwhile waits for one slice on the model thread, not for the batch.

    The batch is sorted by length first, so each slice holds texts of about the same length: the model pads a
    slice to its longest text, and padding costs as much as text. Slices of 16 taken in arrival order are padded
    to 1.84x their tokens (LoCoMo-like turns, MiniLM's tokenizer), slices of a sorted 256 to 1.08x."""
    order = sorted(range(len(messages)), key=lambda n: len(messages[n].text) + len(messages[n].sender_name))
    vectors = np.zeros((len(messages), memory.embedder.dim), dtype=np.float32)
    for start in range(0, len(order), GATE_SLICE):
        if gate is not None:
            waited = time.monotonic()
            await gate()
            summary.paused += time.monotonic() - waited
        part = order[start:start + GATE_SLICE]
        vectors[part] = await memory.imports.embed([messages[n] for n in part])
    return vectors


async def _read_media(messages: list[Message], media: MediaReader, folder: Path, summary: Summary) -> list[Message]:
    """The batch with each recording transcribed and each picture read into its text; one whose file is missing
    and that has no caption is left out (counted as skipped)."""
    out = []
    for message in messages:
        meta = message.meta or {}
        name = meta.get(MEDIA_FILE)
        if not name:
            out.append(message)
            continue
        kind = str(meta.get("kind"))
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            if message.text.strip():
                out.append(message)
            else:
                summary.skipped[f"{kind} file missing"] += 1
            continue
        text, added = await media(path, kind, message.text, meta.get("duration"))
        summary.media[kind] += 1
        if text.strip():
            out.append(replace(message, text=text, meta={**meta, **added}))
        else:
            summary.skipped[f"{kind} without text"] += 1
    return out


def _entry_id(entry: object) -> object:
    return entry.get("id", entry.get("message_id", "?")) if isinstance(entry, dict) else "?"


async def import_chats(memory: Memory, chats: Sequence[ChatExport], *, into: int | None = None,
                       bot_user_id: int | None = None, dry_run: bool = False, batch_size: int = BATCH,
                       gate: Callable[[], Awaitable[None]] | None = None,
                       progress: Callable[[Progress], Awaitable[None] | None] | None = None,
                       media: MediaReader | None = None, media_folder: Path | None = None) -> Summary:
    """Import chats (each into its own chat id, or all into `into`); returns what was done. `progress` is called
    after every batch (and awaited if it returns an awaitable). With `media` and the export's folder, voice
    messages, video notes, audio files and photos whose files the export holds are transcribed or read (only
    those not imported before: a second import transcribes nothing again)."""
    if into is not None and len(chats) > 1:
        raise ImportFileError(f"this export holds {plural(len(chats), 'chat')} and --into takes one: "
                              "pick it with --chat")
    targets = [into if into is not None else chat.chat_id for chat in chats]
    if None in targets:
        raise ImportFileError("the export does not say its chat's id: give the chat to import into (--into)")
    summary = Summary(total=sum(len(c.entries) for c in chats), dry_run=dry_run)
    state = Progress("", 0, summary.total, 0, 0, time.monotonic())
    for chat, target in zip(chats, targets, strict=True):
        assert target is not None
        summary.chats.append((chat.name, target))
        shared = chat.shares_ids_with(target)
        messages = to_messages(chat, target, summary, bot_user_id, with_media=media is not None)
        state.chat = chat.name
        state.done += len(chat.entries) - len(messages)  # skipped entries are done at once
        for start in range(0, len(messages), batch_size):
            batch = messages[start:start + batch_size]
            present = await memory.imports.imported_ids(target, chat.source, [m.message_id for m in batch], shared)
            new = [m for m in batch if m.message_id not in present]
            dropped = 0  # --media: a recording whose file is missing and that has nothing else to keep (skipped)
            if media is not None and media_folder is not None and not dry_run:
                read = await _read_media(new, media, media_folder, summary)
                dropped, new = len(new) - len(read), read
            added = len(new)
            if new and not dry_run:
                vectors = await _embed(memory, new, gate, summary)
                added = await memory.imports.add(new, vectors, shared)
            summary.imported += added
            summary.present += len(batch) - dropped - added
            state.done += len(batch)
            state.imported, state.present = summary.imported, summary.present
            if progress is not None and inspect.isawaitable(shown := progress(state)):
                await shown
    summary.seconds = time.monotonic() - state.started
    with using("en"):  # the log is English, whatever the chat that asked
        counted = counts_text(summary)
    log.info("import%s: %s in %.1f s", " (dry run, nothing stored)" if dry_run else "", counted, summary.seconds)
    return summary
