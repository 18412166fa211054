"""A chat's messages as arrays, for the views of a whole chat (topics, its map, timelines).

`Corpora` is the store's part for this (memory/store.py), kept apart like memory/search.py: memory/messages.py
writes and reads single messages, this file reads a chat (or a window of it) at once. `ChatReader` reads
a chat in another process (the topics worker) over a connection of its own, a chunk of vectors at a time, so that
neither process holds a big chat's vectors whole (100k messages: 150 MB as float32).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from memory import db, vectors
from memory.models import MESSAGE_COLUMNS, Message, evidence_sql
from memory.shared import Shared

FOREVER = (0.0, float("inf"))
CHUNK = 4096  # rows read at a time: 4096 x 384 float32 = 6 MB
# The messages of a chat in a window that have their vector (pending ones are left out), oldest first; what is not
# evidence (the assistant's acknowledgements of statements, memory/models.py) is no part of a chat's topics.
_WINDOW = ("FROM messages m JOIN message_vectors v ON v.id = m.id WHERE m.chat_id = ? AND m.created_at >= ? "
           f"AND m.created_at < ? AND {evidence_sql('m.')} ORDER BY m.created_at, m.id")


def _window_args(chat_id: int, start: float, end: float) -> tuple[int, float, float]:
    """The (chat_id, start, end) parameters of a window; an open end (inf) as a number SQLite compares."""
    return chat_id, start, min(end, 1e18)


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


def rows_by_id(conn: Any, ids: Sequence[int]) -> dict[int, Message]:
    """Messages by row id, of any chat (missing ids are left out)."""
    rows = db.rows_in(conn, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({{marks}})", ids)
    return {row[0]: Message.from_row(row) for row in rows}


class Corpora:
    """Reading a chat, or a window of it, at once (topics, the map, timelines)."""

    def __init__(self, shared: Shared):
        self._conn = shared.conn
        self.embedder = shared.embedder

    def chat_corpus(self, chat_id: int, start: float = FOREVER[0], end: float = FOREVER[1]) -> ChatCorpus:
        """Every message of a chat created in [start, end) that has its vector (pending ones are left out)."""
        rows = self._conn.execute(
            f"SELECT m.id, m.text, m.sender_name, m.role, m.created_at, v.embedding {_WINDOW}",
            _window_args(chat_id, start, end),
        ).fetchall()
        dim = self.embedder.dim
        return ChatCorpus(
            ids=np.array([r[0] for r in rows], dtype=np.int64),
            texts=[r[1] for r in rows], senders=[r[2] or "" for r in rows], roles=[r[3] for r in rows],
            times=np.array([r[4] for r in rows], dtype=np.float64),
            vectors=vectors.matrix_from_blobs([r[5] for r in rows]) if rows else np.zeros((0, dim), np.float32),
        )

    def window_state(self, chat_id: int, start: float, end: float, upto: int = 0) -> WindowState:
        return _window_state(self._conn, chat_id, start, end, upto)

    def times_matching(self, chat_id: int, query: np.ndarray, similarity: float, words: Sequence[str]
                       ) -> np.ndarray:
        """The times of a chat's messages whose vector is at least `similarity` close to `query` (a unit vector)
        or whose text contains every one of `words` (lower case): a chunk of rows at a time."""
        cursor = self._conn.execute(f"SELECT m.text, m.created_at, v.embedding {_WINDOW}",
                                    _window_args(chat_id, *FOREVER))
        found = []
        while rows := cursor.fetchmany(CHUNK):
            close = vectors.matrix_from_blobs([r[2] for r in rows]) @ query >= similarity
            found += [r[1] for r, near in zip(rows, close.tolist())
                      if near or all(w in r[0].lower() for w in words)]
        return np.array(found, dtype=np.float64)

    def messages_by_ids(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """The chat's messages with these row ids, in the order asked (ids of other chats or deleted ones are
        left out)."""
        wanted = [int(i) for i in ids]
        found = {i: m for i, m in rows_by_id(self._conn, wanted).items() if m.chat_id == chat_id}
        return [found[i] for i in wanted if i in found]

    def chat_vectors(self, chat_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and float32 unit vectors of every message of a chat (a brute-force scan, topics)."""
        rows = self._conn.execute(
            "SELECT m.id, v.embedding FROM messages m JOIN message_vectors v ON v.id = m.id WHERE m.chat_id = ? "
            f"AND {evidence_sql('m.')} ORDER BY m.id", (chat_id,),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.array([r[0] for r in rows], dtype=np.int64), vectors.matrix_from_blobs([r[1] for r in rows])


def _window_state(conn, chat_id: int, start: float, end: float, upto: int) -> WindowState:
    count, max_id, kept = conn.execute(
        "SELECT count(*), coalesce(max(id), 0), count(CASE WHEN id <= ? THEN 1 END) FROM messages "
        f"WHERE chat_id = ? AND created_at >= ? AND created_at < ? AND {evidence_sql()}",
        (upto, *_window_args(chat_id, start, end)),
    ).fetchone()
    return WindowState(count, max_id, kept)


class ChatReader:
    """One chat's messages in a window, read over a connection of its own (`with ChatReader(...) as chat:`): the
    row ids, times and who wrote each at once (small arrays), their vectors a chunk at a time, their texts as a
    stream. Every read sees the same snapshot of the database (one read transaction), so the chunks line up with
    the ids even while the bot stores new messages. No memory map: the pages read would count in this process's
    resident memory."""

    def __init__(self, path: str | Path, chat_id: int, window: tuple[float, float] = FOREVER, *, chunk: int = CHUNK):
        self.path, self.chat_id, self.chunk = Path(path), chat_id, chunk
        self._args = _window_args(chat_id, *window)
        self._conn: Any = None
        self.ids = np.zeros(0, np.int64)
        self.times = np.zeros(0, np.float64)
        self.bot = np.zeros(0, bool)  # True for the assistant's own messages

    def __enter__(self) -> ChatReader:
        self._conn = db.connect(self.path, mmap_bytes=0)
        self._conn.execute("BEGIN")  # one snapshot for every read below
        rows = self._conn.execute(f"SELECT m.id, m.created_at, m.role = 'assistant' {_WINDOW}", self._args).fetchall()
        if rows:
            ids, times, bot = zip(*rows)
            self.ids, self.times, self.bot = (np.array(ids, np.int64), np.array(times, np.float64),
                                              np.array(bot, bool))
        return self

    def __exit__(self, *exc) -> None:
        self._conn.execute("COMMIT")
        self._conn.close()

    def __len__(self) -> int:
        return len(self.ids)

    def state(self) -> WindowState:
        """What the window held when read (for telling later whether a result computed from it still stands)."""
        return _window_state(self._conn, *self._args, int(self.ids.max(initial=0)))

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(position of the first row, unit float32 vectors of `chunk` rows), oldest first."""
        cursor = self._conn.execute(f"SELECT v.embedding {_WINDOW}", self._args)
        start = 0
        while rows := cursor.fetchmany(self.chunk):
            yield start, vectors.matrix_from_blobs([r[0] for r in rows])
            start += len(rows)

    def take(self, positions: np.ndarray) -> np.ndarray:
        """The vectors of the rows at these sorted positions, as one matrix."""
        out: np.ndarray | None = None
        done = 0
        for start, block in self.chunks():
            if out is None:
                out = np.empty((len(positions), block.shape[1]), dtype=np.float32)
            wanted = positions[done:np.searchsorted(positions, start + len(block))]
            out[done:done + len(wanted)] = block[wanted - start]
            done += len(wanted)
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def texts(self) -> Iterator[str]:
        cursor = self._conn.execute(f"SELECT m.text {_WINDOW}", self._args)
        while rows := cursor.fetchmany(self.chunk):
            yield from (r[0] for r in rows)
