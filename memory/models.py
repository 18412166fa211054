"""Plain data types shared by the memory package and its users."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

# The configured choices memory acts on (bot/config.py reads them from config.yaml). Members are strings, so a
# caller may pass "reembed" as well as OnModelChange.REEMBED; memory converts and compares members.


class Device(StrEnum):
    """Where a model runs (embedding.device, llm.device): "auto" is cuda when there is one, else cpu."""

    CPU = "cpu"
    CUDA = "cuda"
    AUTO = "auto"


class EmbeddingRuntime(StrEnum):
    """embedding.runtime: "auto" is the ONNX export on a CPU when onnxruntime is installed, else torch; "openai" an
    OpenAI-compatible /v1/embeddings server (embedding.openai)."""

    AUTO = "auto"
    ONNX = "onnx"
    TORCH = "torch"
    OPENAI = "openai"


# The default embedding model (memory/embedder.py says why; bot/config.py's default reads it here, without numpy).
DEFAULT_EMBEDDING_MODEL = "multilingual-e5-small"


class OnModelChange(StrEnum):
    """embedding.on_model_change: what opening a database made with another embedding model does."""

    REFUSE = "refuse"  # stop with ModelMismatch
    REEMBED = "reembed"  # embed every stored message again with the new model


class UnknownOutcome(StrEnum):
    """reminders.unknown_outcome: a reminder a crash left mid-send (sent or not, nobody knows) is..."""

    RESEND = "resend"  # sent again: perhaps twice
    DROP = "drop"  # marked failed: perhaps never


class RecallMethod(StrEnum):
    """How recall ranks: hybrid (what the bot uses), or one list alone (for evaluations)."""

    HYBRID = "hybrid"
    VECTOR = "vector"
    KEYWORD = "keyword"


# meta "kind" of the assistant's acknowledgement of a statement ("Noted: your sister Ana lives in Lisbon."): kept
# (history, export) but not evidence: recall, /search and the whole-chat reads (topics, map, timelines) leave it
# out, so the echo never competes with what the person said.
ACKNOWLEDGEMENT = "acknowledgement"
# meta "kind" of a plain-language action ("Please forget the wifi password.", "remind me…") and of the assistant's
# answer to one: kept (history, export), never evidence (a request to forget a password is no password).
ACTION = "action"
NOT_EVIDENCE = (ACKNOWLEDGEMENT, ACTION)


def evidence_sql(alias: str = "") -> str:
    """SQL true for a message row that is evidence (not marked as one of NOT_EVIDENCE); `alias` is the table's
    name with its dot ("m.") or empty."""
    kinds = ", ".join(f"'{k}'" for k in NOT_EVIDENCE)
    return f"({alias}meta IS NULL OR coalesce(json_extract({alias}meta, '$.kind'), '') NOT IN ({kinds}))"


@dataclass
class Message:
    """One stored message. `message_id` is the chat platform's id (Telegram's), unique within a chat."""

    chat_id: int
    message_id: int
    text: str
    role: str = "user"
    sender_id: int | None = None
    sender_name: str = ""
    created_at: float = field(default_factory=time.time)
    reply_to: int | None = None
    meta: dict[str, Any] | None = None
    edited_at: float | None = None
    id: int | None = None  # the database row id, set once stored

    def __post_init__(self) -> None:
        self.text = clean_text(self.text)
        self.sender_name = clean_text(self.sender_name or "")

    @property
    def rowid(self) -> int:
        """The database row id of a stored message."""
        if self.id is None:
            raise ValueError("this message is not stored yet")
        return self.id

    @property
    def kind(self) -> str | None:
        """What kind of message it is, when marked (meta "kind": "acknowledgement", "reminder"), else None."""
        kind = (self.meta or {}).get("kind")
        return kind if isinstance(kind, str) else None

    @property
    def evidence(self) -> bool:
        """False for what memory keeps but never recalls (an acknowledgement: see ACKNOWLEDGEMENT)."""
        return self.kind not in NOT_EVIDENCE

    @classmethod
    def from_row(cls, row) -> Message:
        (id_, chat_id, message_id, sender_id, sender_name, role, text, created_at, edited_at, reply_to, meta) = row
        return cls(
            id=id_, chat_id=chat_id, message_id=message_id, sender_id=sender_id, sender_name=sender_name,
            role=role, text=text, created_at=created_at, edited_at=edited_at, reply_to=reply_to,
            meta=json.loads(meta) if meta else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "role": self.role,
            "sender_id": self.sender_id,
            "sender_name": self.sender_name,
            "text": self.text,
            "date": iso(self.created_at),
            "edited": iso(self.edited_at) if self.edited_at else None,
            "reply_to": self.reply_to,
            "meta": self.meta,
        }


MESSAGE_COLUMNS = (
    "id, chat_id, message_id, sender_id, sender_name, role, text, created_at, edited_at, reply_to, meta"
)


@dataclass
class Hit:
    """A recalled message with the scores that ranked it (None where a list did not find it)."""

    message: Message
    score: float
    similarity: float | None = None  # cosine similarity to the query
    keyword_score: float | None = None  # BM25 (higher is better)
    vector_rank: int | None = None
    keyword_rank: int | None = None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text that can be stored, searched and sent: a lone UTF-16 surrogate (a broken emoji half, which no UTF-8
    encoder accepts) becomes U+FFFD, the replacement character, so the damage stays visible."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")
