"""What is stored and shown for a voice message, a video note, an audio file or a picture: worded once for every
front end (Telegram, the importer, the terminal chat), read back by /why, /search and citations."""

from __future__ import annotations

from bot.i18n import _
from bot.media.speech import clock
from bot.text import MEDIA_NAMES as NAMES
from memory import Message

VOICE_KINDS = ("voice", "video_note", "audio")  # meta "kind" of what is transcribed
MEDIA_KINDS = (*VOICE_KINDS, "photo")

# meta "media" of a stored voice message or picture: where its text stands
PENDING = "pending"  # stored at once; its text is being made (a crash leaves it so: it is made again)
DONE = "done"  # its text is the transcript (or the caption and the text read in the picture)
FAILED = "failed"  # not transcribed: its text says why


def medium_name(message: Message) -> str | None:
    """'voice message', 'video note', 'audio file', 'picture' for a message made from one, else None."""
    return NAMES.get(message.kind or "")


def pending_text(kind: str, duration: float | None) -> str:
    """What a voice message is stored as until its transcript is there: 'voice message, 0:42, transcribing…'."""
    if kind == "photo":
        return "picture, reading its text…"
    return f"{NAMES[kind]}{_length(duration)}, transcribing…"


def failed_text(kind: str, duration: float | None, reason: str, caption: str = "") -> str:
    """'voice message, 3:00:00, not transcribed: it is too long (…)', after its caption if it has one."""
    said = f"{NAMES[kind]}{_length(duration)}, not transcribed: {reason}"
    return f"{caption}\n{said}" if caption.strip() else said


def untranscribed_text(kind: str, duration: float | None, caption: str = "") -> str:
    """A recording kept while transcription is off: its caption, or 'voice message, 0:42'."""
    return caption if caption.strip() else f"{NAMES[kind]}{_length(duration)}"


def transcribed_text(transcript: str, caption: str = "") -> str:
    """A transcribed message's stored text: its caption (an audio file's may have one), then what was said."""
    return f"{caption}\n{transcript}" if caption.strip() else transcript


def picture_text(caption: str, read: str) -> str:
    """A picture's stored text: its caption, then the text read in it."""
    return "\n".join(part for part in (caption.strip(), read.strip()) if part)


SHOWN_CHARS = 3500  # of a transcript shown in one message (Telegram's limit is 4096); all of it is stored


def shown_transcript(transcript: str) -> str:
    """The transcript as shown to whoever sent it: '🎙 …' (a long one cut, with a note that all of it is kept)."""
    if len(transcript) > SHOWN_CHARS:
        transcript = transcript[:SHOWN_CHARS].rsplit(" ", 1)[0] + " … " + _("(all of it is remembered)")
    return f"🎙 {transcript}"


def progress_text(duration: float | None, share: float) -> str:
    """'🎙 transcribing 5:00… 40%': what a long recording shows while it is transcribed."""
    return "🎙 " + _("transcribing{length}… {share}").format(length=_length(duration).replace(",", ""),
                                                            share=f"{share:.0%}")


def not_transcribed(kind: str, reason: str) -> str:
    """The one line a person gets for a recording that could not be read."""
    return _("I kept your {medium} but could not transcribe it: {reason}.").format(medium=_(NAMES[kind]),
                                                                                   reason=reason)


def _length(duration: float | None) -> str:
    return f", {clock(duration)}" if duration else ""
