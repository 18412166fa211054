"""Reading an export file: Telegram Desktop's JSON (one chat, or the whole account) or Engram's own /export.

Anything else (Telegram's HTML export, a truncated file, some other JSON, an export without messages) is refused
with an ImportFileError whose one line names the problem and says how to export as JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.commands.actions import EXPORT_FORMAT
from bot.errors import EngramError
from bot.i18n import N_, _
from bot.importing import telegram
from bot.importing.telegram import Converted, SkipMessage

HOW_TO_EXPORT = N_('In Telegram Desktop open the chat, ⋮ → "Export chat history", choose Format: JSON '
                    '("Machine-readable JSON"), and import the result.json it writes.')  # _(HOW_TO_EXPORT) at use
ROLES = ("user", "assistant", "system")
# Telegram Desktop writes a control character as \xNN, which JSON does not allow: read it as \u00NN.
_X_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\x([0-9A-Fa-f]{2})")


class ImportFileError(EngramError):
    """The file cannot be imported; the message (one line) says why and what to do."""


@dataclass
class ChatExport:
    """One chat of an export: its raw entries and how to read them."""

    name: str
    chat_id: int | None  # the Bot API id of the exported chat (None: unknown)
    source: str  # identifies the exported chat: "telegram:-1001234567890", "engram:42"
    entries: list[Any]
    convert: Callable[[Any, bool], Converted]  # (entry, with_media): see telegram.convert
    shared_ids: bool = False  # its message ids are the live chat's own (a supergroup or channel; Engram's)
    export_id: int | None = None  # the id the export gives the chat (Telegram's bare peer id)

    def shares_ids_with(self, target: int) -> bool:
        """Whether this chat's message ids mean the same messages as the live ids of chat `target`."""
        return self.shared_ids and target == self.chat_id


@dataclass
class ExportFile:
    kind: str  # "telegram-chat", "telegram-account", "engram"
    chats: list[ChatExport] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(len(c.entries) for c in self.chats)

    def pick(self, wanted: Sequence[str]) -> list[ChatExport]:
        """The chats named by `--chat` (a name, case-insensitive, or an id: the export's or the Bot API's)."""
        if not wanted:
            return self.chats
        picked: list[ChatExport] = []
        for want in wanted:
            found = [c for c in self.chats if _matches(c, want)]
            if not found:
                names = ", ".join(f"{c.name} ({c.chat_id})" for c in self.chats[:20])
                raise ImportFileError(_("no chat {want!r} in this export; it holds: {names}").format(
                    want=want, names=names))
            picked += [c for c in found if c not in picked]
        return picked


def _matches(chat: ChatExport, want: str) -> bool:
    """A chat named by its name (any case), its id in the export, or its Bot API id."""
    want = want.strip()
    if want.lstrip("-").isdigit():
        return int(want) in (chat.chat_id, chat.export_id)
    return chat.name.casefold() == want.casefold()


def load(path: str | Path) -> ExportFile:
    """Read and recognise an export (a file, or the folder Telegram Desktop wrote it into)."""
    path = Path(path)
    if path.is_dir():
        if (path / "result.json").is_file():
            path = path / "result.json"
        elif any(path.glob("messages*.html")):
            raise ImportFileError(_("{name} holds Telegram's HTML export, which cannot be imported.").format(
                name=path) + " " + _(HOW_TO_EXPORT))
        else:
            raise ImportFileError(_("{name} holds no result.json.").format(name=path) + " " + _(HOW_TO_EXPORT))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(_("cannot read {name}: {error}").format(name=path, error=exc.strerror or exc)) from None
    return parse(data, path.name)


def parse(data: bytes, name: str = "the file") -> ExportFile:
    """Recognise an export from its bytes (`name` is only for messages)."""
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head and not data.lstrip(b"\xef\xbb\xbf \t\r\n"):
        empty = (_("{name} is empty (0 bytes): nothing to import.") if not data
                 else _("{name} is empty (only blanks): nothing to import."))
        raise ImportFileError(empty.format(name=name) + " " + _(HOW_TO_EXPORT))
    if head.startswith((b"<!doctype html", b"<html")) or name.lower().endswith((".html", ".htm")):
        raise ImportFileError(_("{name} is Telegram's HTML export, which cannot be imported.").format(name=name)
                              + " " + _(HOW_TO_EXPORT))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("{name} is not a text file (not UTF-8).").format(name=name) + " "
                              + _(HOW_TO_EXPORT)) from None
    document = _json(text, name)
    exported = _recognise(document, name)
    if not exported.messages:
        raise ImportFileError(_("{name} holds no messages: nothing to import.").format(name=name))
    return exported


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as first:
        if "\\x" in text:
            try:
                return json.loads(_X_ESCAPE.sub(r"\1\\u00\2", text))
            except json.JSONDecodeError:
                pass
        # Cut short: JSON that starts well and stops, not a file that was never JSON ("hello", "x").
        begun = text.lstrip("\ufeff \t\r\n").startswith(("{", "["))
        cut = begun and (first.pos >= len(text.rstrip()) - 1 or first.msg.startswith("Unterminated string"))
        said = (_("{name} is not valid JSON (the file seems cut short): {error} (line {line}, column {column}).")
                if cut else _("{name} is not valid JSON: {error} (line {line}, column {column})."))
        raise ImportFileError(said.format(name=name, error=first.msg, line=first.lineno, column=first.colno) + " "
                              + _(HOW_TO_EXPORT)) from None


def _recognise(document: Any, name: str) -> ExportFile:
    if not isinstance(document, dict):
        raise ImportFileError(_("{name} is JSON but not a chat export.").format(name=name) + " " + _(HOW_TO_EXPORT))
    if document.get("format") == EXPORT_FORMAT and isinstance(document.get("messages"), list):
        return ExportFile("engram", [_engram_chat(document)])
    if isinstance(document.get("messages"), list):
        return ExportFile("telegram-chat", [_telegram_chat(document)])
    lists = [document.get(key) for key in ("chats", "left_chats")]
    chats = [c for block in lists if isinstance(block, dict) for c in block.get("list") or []
             if isinstance(c, dict) and isinstance(c.get("messages"), list)]
    if any(isinstance(block, dict) for block in lists):
        return ExportFile("telegram-account", [_telegram_chat(c) for c in chats])
    raise ImportFileError(_("{name} is JSON but not a Telegram or Engram chat export (it has no \"messages\" and no "
                            "\"chats\").").format(name=name) + " " + _(HOW_TO_EXPORT))


def _telegram_chat(chat: dict) -> ChatExport:
    chat_type = str(chat.get("type") or "")
    bare = chat.get("id")
    chat_id = telegram.bot_api_chat_id(chat_type, bare) if isinstance(bare, int) else None
    name = chat.get("name") or {"saved_messages": "Saved Messages", "replies": "Replies"}.get(chat_type, "")
    return ChatExport(name=str(name or chat_id), chat_id=chat_id, source=f"telegram:{chat_id}",
                      entries=chat["messages"], convert=telegram.convert,
                      shared_ids=chat_type in telegram.CHANNEL_TYPES, export_id=bare if isinstance(bare, int) else None)


def _engram_chat(document: dict) -> ChatExport:
    chat_id = document.get("chat_id")
    chat_id = chat_id if isinstance(chat_id, int) else None
    return ChatExport(name=f"Engram chat {chat_id}", chat_id=chat_id, source=f"engram:{chat_id}",
                      entries=document["messages"], convert=convert_engram, shared_ids=True)


def _iso(value: Any) -> float | None:
    return datetime.fromisoformat(value).timestamp() if isinstance(value, str) and value else None


def convert_engram(raw: Any, with_media: bool = False) -> Converted:
    """One message of Engram's /export (memory/models.py Message.to_json); it holds no media files, and a voice
    message's transcript is its text already."""
    if not isinstance(raw, dict) or not isinstance(raw.get("message_id"), int) or raw.get("role") not in ROLES:
        raise SkipMessage("malformed")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SkipMessage("empty")
    try:
        created = _iso(raw.get("date"))
        edited = _iso(raw.get("edited"))
    except ValueError:
        raise SkipMessage("malformed") from None
    if created is None:
        raise SkipMessage("malformed")
    meta = dict(raw["meta"]) if isinstance(raw.get("meta"), dict) else {}
    meta.pop("addressed", None)  # answered (or not) where it was said: never answered again here
    earlier = meta.pop("import", None)
    if earlier:
        meta["imported_before"] = earlier
    sender_id = raw.get("sender_id")
    reply_to = raw.get("reply_to")
    return Converted(
        original_id=raw["message_id"], text=text, sender_id=sender_id if isinstance(sender_id, int) else None,
        sender_name=str(raw.get("sender_name") or ""), created_at=created, edited_at=edited,
        reply_to=reply_to if isinstance(reply_to, int) else None, meta=meta, role=raw["role"],
    )
