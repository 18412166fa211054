"""One message of a Telegram Desktop JSON export, as Engram stores it.

The format is what Telegram Desktop's writer produces (Telegram/SourceFiles/export/output/export_output_json.cpp in
telegramdesktop/tdesktop): `type` is "message", "service" or "unsupported"; `date_unixtime` (a string of
seconds) is the time (`date` is local time without a zone: used only by exports too old to have the other);
`text` is a string or a list of strings and entity objects (`{"type": "bold", "text": …}`); `from` may be null (a
deleted account) and `from_id` is "user123", "chat123" or "channel123"; a photo or file's caption is its text.
Polls, contacts and locations have no text of their own: they are written out as text here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.text import plural

# Telegram Desktop's dialog types (TypeString in the writer) whose ids are channel ids: Bot API id -100<id>.
CHANNEL_TYPES = frozenset({"private_supergroup", "public_supergroup", "private_channel", "public_channel"})
BASIC_GROUP_TYPES = frozenset({"private_group"})
CHANNEL_ID_OFFSET = 10**12  # Bot API id of channel 123 is -1000000000123

# media_type as the writer names it -> the kind the live bot records (handlers/messages.py message_kind)
MEDIA_KINDS = {
    "voice_message": "voice", "video_message": "video_note", "video_file": "video", "animation": "animation",
    "audio_file": "audio", "sticker": "sticker",
}


class SkipMessage(Exception):
    """This entry is not imported; `reason` is the kind it is counted under."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Converted:
    """A message of the export in Engram's terms (the chat and the stored id are decided by the import)."""

    original_id: int
    text: str
    sender_id: int | None
    sender_name: str
    created_at: float
    edited_at: float | None
    reply_to: int | None
    meta: dict[str, Any]
    from_key: str = ""  # the writer's from_id ("user123"), to recognise the bot's own messages
    role: str = "user"


def bot_api_chat_id(chat_type: str, bare_id: int) -> int:
    """The Bot API's id of an exported chat (the export writes the bare peer id)."""
    if chat_type in CHANNEL_TYPES:
        return -(CHANNEL_ID_OFFSET + bare_id)
    if chat_type in BASIC_GROUP_TYPES:
        return -bare_id
    return bare_id


def peer_id(value: Any) -> int | None:
    """A `from_id` ("user123", "chat123", "channel123"; very old exports: a number) as a Bot API id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    for prefix, make in (("user", lambda n: n), ("channel", lambda n: -(CHANNEL_ID_OFFSET + n)),
                         ("chat", lambda n: -n)):
        digits = value[len(prefix):]
        if value.startswith(prefix) and digits.isdigit():
            return make(int(digits))
    return None


def plain(value: Any) -> str:
    """A text as the writer serialises it (a string, or a list of strings and entity objects) as plain text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict)
                       else "" for part in value)
    return ""


def timestamp(raw: dict, unix_key: str, local_key: str) -> float | None:
    """`date_unixtime` (seconds, written as a string) if present, else `date` read as this machine's local time."""
    if raw.get(unix_key) not in (None, ""):
        return float(int(raw[unix_key]))
    if raw.get(local_key):
        return datetime.fromisoformat(str(raw[local_key])).timestamp()
    return None


def _poll(poll: dict) -> str:
    lines = [f"Poll: {plain(poll.get('question')).strip()}"]
    for answer in poll.get("answers") or []:
        votes = answer.get("voters")
        counted = f" ({plural(votes, 'vote')})" if isinstance(votes, int) and votes else ""
        lines.append(f"- {plain(answer.get('text')).strip()}{counted}")
    return "\n".join(lines)


def _contact(contact: dict) -> str:
    name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
    phone = contact.get("phone_number") or ""
    return "Contact: " + ", ".join(p for p in (name, phone) if p)


def _location(raw: dict) -> str:
    where = ", ".join(p for p in (raw.get("place_name"), raw.get("address")) if p)
    point = raw.get("location_information")
    if isinstance(point, dict) and "latitude" in point:
        coordinates = f"{point['latitude']}, {point['longitude']}"
        where = f"{where} ({coordinates})" if where else coordinates
    return f"Location: {where}" if where else ""


def _attachment(raw: dict) -> tuple[str | None, str]:
    """(kind, text of its own) of the message's media: the kind as the live bot names it, and the text of media
    that have no caption but say something (a poll, a contact, a place)."""
    if isinstance(raw.get("poll"), dict):
        return "poll", _poll(raw["poll"])
    if isinstance(raw.get("contact_information"), dict):
        return "contact", _contact(raw["contact_information"])
    if "location_information" in raw or "place_name" in raw:
        return "location", _location(raw)
    if "photo" in raw:
        return "photo", ""
    if "file" in raw or "media_type" in raw:
        return MEDIA_KINDS.get(str(raw.get("media_type")), "document"), ""
    return None, ""


MEDIA_FILE = "media_file"  # meta of a converted message whose export holds its recording or picture (--media)


def media_file(raw: dict, kind: str | None) -> str | None:
    """The export's file of a voice message, video note, audio file or photo (a path relative to result.json's
    folder), when the export has it: Telegram Desktop writes "(File not included…" where media were not chosen."""
    if kind not in ("voice", "video_note", "audio", "photo"):
        return None
    path = raw.get("photo") if kind == "photo" else raw.get("file")
    if not isinstance(path, str) or not path or path.startswith("("):
        return None
    return path


def convert(raw: Any, with_media: bool = False) -> Converted:
    """One entry of an export's `messages`, or SkipMessage(reason): service entries, unsupported ones, and
    messages with nothing to remember (a sticker or photo without caption, an empty text). `with_media`: a voice
    message or photo whose file the export holds is kept (its meta MEDIA_FILE names the file), even without text:
    the import transcribes or reads it."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        raise SkipMessage("malformed")
    if raw.get("type", "message") != "message":
        raise SkipMessage(str(raw.get("type")))  # "service", "unsupported"
    created = timestamp(raw, "date_unixtime", "date")
    if created is None:
        raise SkipMessage("malformed")
    kind, own_text = _attachment(raw)
    caption = plain(raw["text"] if "text" in raw else raw.get("text_entities"))
    text = "\n".join(p for p in (own_text, caption) if p.strip())
    attached = media_file(raw, kind) if with_media else None
    if not text.strip() and attached is None:
        raise SkipMessage(f"{kind} without text" if kind else "empty")
    meta: dict[str, Any] = {}
    if kind:
        meta["kind"] = kind
    if attached is not None:
        meta[MEDIA_FILE] = attached
        if isinstance(raw.get("duration_seconds"), int):
            meta["duration"] = raw["duration_seconds"]
    if raw.get("forwarded_from") is not None:
        meta["forwarded_from"] = {"name": str(raw["forwarded_from"])}
    for key in ("author", "via_bot", "saved_from"):
        if raw.get(key):
            meta[key] = raw[key]
    reply_to = raw.get("reply_to_message_id")
    if raw.get("reply_to_peer_id"):  # a reply to a message of another chat: not one of these ids
        meta["reply_to_peer"] = raw["reply_to_peer_id"]
        reply_to = None
    name = raw.get("from")
    return Converted(
        original_id=raw["id"], text=text, sender_id=peer_id(raw.get("from_id")),
        sender_name=str(name) if name is not None else ("Deleted Account" if "from" in raw else ""),
        created_at=created, edited_at=timestamp(raw, "edited_unixtime", "edited"),
        reply_to=reply_to if isinstance(reply_to, int) else None, meta=meta,
        from_key=str(raw.get("from_id") or ""),
    )
