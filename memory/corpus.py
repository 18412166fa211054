"""A chat's messages as arrays, for the views of a whole chat (topics, its map, timelines).

A mixin of memory.store.Store (it uses the store's connection), kept apart like memory/search.py: store.py writes
and reads single messages, this file reads a chat (or a window of it) at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memory import vectors
from memory.embedder import Embedder
from memory.models import MESSAGE_COLUMNS, Message

FOREVER = (0.0, float("inf"))


@dataclass
class ChatCorpus:
    """Messages of one chat in a window of time, oldest first: parallel arrays, one entry a message."""

    ids: np.ndarray  # row ids (int64)
    texts: list[str]
    senders: list[str]
    roles: list[str]  # "user" / "assistant"
    times: np.ndarray  # created_at, Unix seconds (float64)
    vectors: np.ndarray  # unit embeddings (float32, n x dim)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class WindowState:
    """What a window of a chat holds now, to tell whether a result computed earlier still stands."""

    count: int  # messages in the window
    max_id: int  # the newest row id among them (0 when empty)
    kept_upto: int  # messages in the window with id <= the `upto` asked for: fewer than before = some were deleted


class Corpora:
    """Reading a chat at once; the store supplies its connection and embedder."""

    _conn: Any
    embedder: Embedder

    def chat_corpus(self, chat_id: int, start: float = FOREVER[0], end: float = FOREVER[1]) -> ChatCorpus:
        """Every message of a chat created in [start, end) that has its vector (pending ones are left out)."""
        rows = self._conn.execute(
            "SELECT m.id, m.text, m.sender_name, m.role, m.created_at, v.embedding FROM messages m "
            "JOIN message_vectors v ON v.id = m.id WHERE m.chat_id = ? AND m.created_at >= ? AND m.created_at < ? "
            "ORDER BY m.created_at, m.id", (chat_id, start, min(end, 1e18)),
        ).fetchall()
        dim = self.embedder.dim
        return ChatCorpus(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            texts=[r[1] for r in rows], senders=[r[2] or "" for r in rows], roles=[r[3] for r in rows],
            times=np.array([r[4] for r in rows], dtype=np.float64),
            vectors=vectors.matrix_from_blobs([r[5] for r in rows]) if rows else np.zeros((0, dim), np.float32),
        )

    def window_state(self, chat_id: int, start: float, end: float, upto: int = 0) -> WindowState:
        count, max_id, kept = self._conn.execute(
            "SELECT count(*), coalesce(max(id), 0), count(CASE WHEN id <= ? THEN 1 END) FROM messages "
            "WHERE chat_id = ? AND created_at >= ? AND created_at < ?", (upto, chat_id, start, min(end, 1e18)),
        ).fetchone()
        return WindowState(count, max_id, kept)

    def messages_by_ids(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """The chat's messages with these row ids, in the order asked (ids of other chats or deleted ones are
        left out)."""
        found: dict[int, Message] = {}
        wanted = [int(i) for i in ids]
        for start in range(0, len(wanted), 500):
            part = wanted[start:start + 500]
            marks = ",".join("?" * len(part))
            for row in self._conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND id IN ({marks})", (chat_id, *part),
            ):
                message = Message.from_row(row)
                found[message.rowid] = message
        return [found[i] for i in wanted if i in found]
