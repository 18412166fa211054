"""What the stored vectors are (the model and scheme that made them, checked at open) and which are still to be
made. Vectors follow their message: `Store.add_many(embed=False)` writes a message's row and keyword entry at
once and lists it in `pending_vectors` (migration m004); the memory's background embedder (memory/service.py)
fills the vectors in batches, and a restart finds here what is still missing."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memory import db, vectors
from memory.errors import ModelMismatch
from memory.models import MESSAGE_COLUMNS, Message, OnModelChange

# What the stored vectors are, recorded with the model: vectors of another scheme are never mixed with these.
# Each message goes through the model once, as "Sender: text"; the turn it answers reaches the ranking through
# neighbour and session spreading (memory/recall.py) instead of being embedded with it: under LoCoMo
# cross-validation that did as well as the previous turn in the input, or a vector mixed from both, at half the
# model time (docs/BENCHMARKS.md).
EMBEDDING_SCHEME = "sender-text/v2"
LEGACY_SCHEME = "prev-text/v1"  # "previous turn\nSender: text" embedded as one text (before schemes were recorded)


def embedding_input(message: Message) -> str:
    """The text embedded for a message: the sender's name gives the vector who said it."""
    return f"{message.sender_name}: {message.text}" if message.sender_name else message.text


@dataclass(frozen=True)
class PendingVector:
    """A stored message whose vector is still to be written: its row id, its text, and the text to embed."""

    id: int
    text: str
    input: str


class Embedded:
    """The store's vectors: their model and scheme, and the queue of those to write (memory/store.py mixes this in)."""

    _conn: Any
    embedder: Any

    def _transaction(self):
        raise NotImplementedError

    def _write_vectors(self, ids: list[int], embedded: np.ndarray) -> None:
        raise NotImplementedError

    def _embed_rows(self, messages: Sequence[Message]) -> None:
        raise NotImplementedError

    def recorded_model(self) -> tuple[str, int] | None:
        row = self._conn.execute("SELECT name, dim FROM embedding_model WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def recorded_scheme(self) -> str | None:
        """How the stored vectors were made (EMBEDDING_SCHEME, or LEGACY_SCHEME for an older database)."""
        row = self._conn.execute("SELECT scheme FROM embedding_scheme WHERE id = 1").fetchone()
        return row[0] if row else None

    def _record_scheme(self) -> None:
        self._conn.execute("INSERT OR REPLACE INTO embedding_scheme (id, scheme) VALUES (1, ?)", (EMBEDDING_SCHEME,))

    def _check_model(self, on_model_change: OnModelChange | str, progress) -> None:
        recorded = self.recorded_model()
        current = (self.embedder.name, self.embedder.dim)
        if recorded is None:
            with self._transaction():
                vectors.create(self._conn, self.embedder.dim)
                self._conn.execute(
                    "INSERT INTO embedding_model (id, name, dim, created_at) VALUES (1, ?, ?, ?)",
                    (*current, time.time()),
                )
                self._record_scheme()
            return
        if recorded != current:
            if OnModelChange(on_model_change) is not OnModelChange.REEMBED:
                raise ModelMismatch(recorded[0], recorded[1], *current)
            self.reembed(progress)
            return
        with self._transaction():
            vectors.create(self._conn, self.embedder.dim)
            if self.recorded_scheme() != EMBEDDING_SCHEME:
                self._requeue_all_vectors()

    def _requeue_all_vectors(self) -> None:
        """Vectors of another scheme, same model: all are dropped and every message listed as pending, so they
        are made again from the background queue (Memory) while the bot already runs; keyword search works
        meanwhile. Inside a transaction."""
        vectors.drop(self._conn)
        vectors.create(self._conn, self.embedder.dim)
        self._conn.execute("INSERT OR IGNORE INTO pending_vectors (id) SELECT id FROM messages")
        self._record_scheme()

    def reembed(self, progress: Callable[[int, int], None] | None = None, batch_size: int = 256) -> int:
        """Re-embed every message with the current embedder; the model record changes with the last batch."""
        total = self._conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        with self._transaction():
            vectors.drop(self._conn)
            vectors.create(self._conn, self.embedder.dim)
        done, last_id = 0, 0
        while True:
            rows = self._conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch_size)
            ).fetchall()
            batch = [Message.from_row(r) for r in rows]
            final = len(batch) < batch_size
            with self._transaction():
                if batch:
                    self._embed_rows(batch)
                if final:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO embedding_model (id, name, dim, created_at) VALUES (1, ?, ?, ?)",
                        (self.embedder.name, self.embedder.dim, time.time()),
                    )
                    self._record_scheme()
            done += len(batch)
            if progress:
                progress(done, total)
            if final:
                return done
            last_id = batch[-1].rowid

    def pending_embeddings(self, chat_id: int | None = None, limit: int = 64) -> list[PendingVector]:
        """Stored messages still without a vector (of one chat, or of all), oldest first, with what to embed."""
        where, args = ("WHERE m.chat_id = ?", (chat_id, limit)) if chat_id is not None else ("", (limit,))
        rows = self._conn.execute(
            f"SELECT {', '.join('m.' + c.strip() for c in MESSAGE_COLUMNS.split(','))} FROM pending_vectors p "
            f"JOIN messages m ON m.id = p.id {where} ORDER BY p.id LIMIT ?", args,
        ).fetchall()
        messages = [Message.from_row(r) for r in rows]
        return [PendingVector(m.rowid, m.text, embedding_input(m)) for m in messages]

    def write_vectors(self, pending: Sequence[PendingVector], embedded: np.ndarray) -> int:
        """Store the vectors computed for pending_embeddings(); a message deleted or edited since is skipped (an
        edit lists it again). One transaction; returns the vectors written."""
        with self._transaction():
            current = dict(db.rows_in(
                self._conn, "SELECT m.id, m.text FROM pending_vectors p JOIN messages m ON m.id = p.id "
                "WHERE p.id IN ({marks})", [p.id for p in pending]))
            keep = [n for n, p in enumerate(pending) if current.get(p.id) == p.text]
            if keep:
                self._write_vectors([pending[n].id for n in keep], embedded[keep])
        return len(keep)

    def embed_pending(self, chat_id: int | None = None, batch_size: int = 64) -> int:
        """Embed every message still without a vector, on this thread; returns how many."""
        done = 0
        while pending := self.pending_embeddings(chat_id, batch_size):
            done += self.write_vectors(pending, self.embedder.embed_batch([p.input for p in pending]))
        return done

    def count_pending(self) -> int:
        return self._conn.execute("SELECT count(*) FROM pending_vectors").fetchone()[0]
