"""What the stored vectors are (the model and scheme that made them, checked at open) and which are still to be
made. Vectors follow their message: `Messages.add_many(embed=False)` writes a message's row and keyword entry at
once and lists it in `pending_vectors` (migration m004); the memory's background queue (`EmbeddingQueue` below)
fills the vectors in batches, and a restart finds here what is still missing.

`Embeddings` is the synchronous part (its SQL, on the database thread); `EmbeddingQueue` its async face: the
background embedding, and the embedding model for the other parts, kept off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memory import db, vectors
from memory import recall as ranking
from memory.embedder import upgraded_default
from memory.errors import ModelMismatch
from memory.models import MESSAGE_COLUMNS, Message, OnModelChange, clean_text
from memory.shared import Shared
from memory.threads import Threads, cancel

log = logging.getLogger(__name__)

# What the stored vectors are, recorded with the model: vectors of another scheme are never mixed with these.
# Each message goes through the model once, as "Sender: text"; the turn it answers reaches the ranking through
# neighbour and session spreading (memory/recall.py) instead of being embedded with it: under LoCoMo
# cross-validation that did as well as the previous turn in the input, or a vector mixed from both, at half the
# model time (docs/BENCHMARKS.md).
EMBEDDING_SCHEME = "sender-text/v2"
LEGACY_SCHEME = "prev-text/v1"  # "previous turn\nSender: text" embedded as one text (before schemes were recorded)
EMBED_BATCH = 32  # pending messages embedded at a time: a recall waits for at most one batch on the model thread


def embedding_input(message: Message) -> str:
    """The text embedded for a message: the sender's name gives the vector who said it."""
    return f"{message.sender_name}: {message.text}" if message.sender_name else message.text


@dataclass(frozen=True)
class PendingVector:
    """A stored message whose vector is still to be written: its row id, its text, and the text to embed."""

    id: int
    text: str
    input: str


class Embeddings:
    """The vectors of the stored messages: their model and scheme, and the queue of those still to write."""

    def __init__(self, shared: Shared):
        self._shared = shared
        self._conn = shared.conn
        self.embedder = shared.embedder

    # ----- the model and scheme that made the stored vectors ------------------------------------------------------
    def recorded_model(self) -> tuple[str, int] | None:
        row = self._conn.execute("SELECT name, dim FROM embedding_model WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def recorded_scheme(self) -> str | None:
        """How the stored vectors were made (EMBEDDING_SCHEME, or LEGACY_SCHEME for an older database)."""
        row = self._conn.execute("SELECT scheme FROM embedding_scheme WHERE id = 1").fetchone()
        return row[0] if row else None

    def _record_scheme(self) -> None:
        self._conn.execute("INSERT OR REPLACE INTO embedding_scheme (id, scheme) VALUES (1, ?)", (EMBEDDING_SCHEME,))

    def check_model(self, on_model_change: OnModelChange | str,
                    progress: Callable[[int, int], None] | None = None) -> None:
        """At open (Store.open): record the model of a new database; refuse another model's vectors, or re-embed
        them all ("reembed"); vectors of an older scheme are queued again."""
        recorded = self.recorded_model()
        current = (self.embedder.name, self.embedder.dim)
        if recorded is None:
            with self._shared.transaction():
                vectors.create(self._conn, self.embedder.dim)
                self._conn.execute(
                    "INSERT INTO embedding_model (id, name, dim, created_at) VALUES (1, ?, ?, ?)",
                    (*current, time.time()),
                )
                self._record_scheme()
            return
        if recorded != current:
            upgraded = upgraded_default(recorded[0], current[0])
            if OnModelChange(on_model_change) is not OnModelChange.REEMBED and not upgraded:
                raise ModelMismatch(recorded[0], recorded[1], *current)
            if upgraded:
                # In the background, from the queue of pending vectors (Memory), like a new scheme: the bot answers
                # meanwhile (keyword search works), and a restart or a kill -9 resumes where it was, as the model
                # is recorded with the vectors dropped and every message queued, in one transaction.
                log.warning("the default embedding model is now %s (it was %s): every message is re-embedded once, "
                            "in the background (to keep %s instead, set embedding.model: %s before it ends)",
                            current[0], recorded[0], recorded[0], recorded[0])
                with self._shared.transaction():
                    self._conn.execute(
                        "INSERT OR REPLACE INTO embedding_model (id, name, dim, created_at) VALUES (1, ?, ?, ?)",
                        (*current, time.time()))
                    self._requeue_all_vectors()
                return
            self.reembed(progress)
            return
        with self._shared.transaction():
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
        with self._shared.transaction():
            vectors.drop(self._conn)
            vectors.create(self._conn, self.embedder.dim)
        done, last_id = 0, 0
        while True:
            rows = self._conn.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch_size)
            ).fetchall()
            batch = [Message.from_row(r) for r in rows]
            final = len(batch) < batch_size
            with self._shared.transaction():
                if batch:
                    self.embed_rows(batch)
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

    # ----- writing vectors ------------------------------------------------------------------------------------
    def embed_rows(self, messages: Sequence[Message]) -> None:
        """Embed stored messages, one model pass each ("Sender: text"), and write their vectors, on this thread.
        Inside a transaction."""
        embedded = self.embedder.embed_batch([embedding_input(m) for m in messages])
        self.write_rows([m.rowid for m in messages], embedded)

    def write_rows(self, ids: list[int], embedded: np.ndarray) -> None:
        """Write vectors of stored messages (under each message's current chat); they are no longer pending.
        Inside a transaction."""
        chats = dict(db.rows_in(self._conn, "SELECT id, chat_id FROM messages WHERE id IN ({marks})", ids))
        vectors.insert(self._conn, ids, [chats[i] for i in ids], embedded)
        self._conn.executemany("DELETE FROM pending_vectors WHERE id = ?", [(i,) for i in ids])

    # ----- the pending queue ------------------------------------------------------------------------------------
    def pending(self, chat_id: int | None = None, limit: int = 64) -> list[PendingVector]:
        """Stored messages still without a vector (of one chat, or of all), oldest first, with what to embed."""
        where, args = ("WHERE m.chat_id = ?", (chat_id, limit)) if chat_id is not None else ("", (limit,))
        rows = self._conn.execute(
            f"SELECT {', '.join('m.' + c.strip() for c in MESSAGE_COLUMNS.split(','))} FROM pending_vectors p "
            f"JOIN messages m ON m.id = p.id {where} ORDER BY p.id LIMIT ?", args,
        ).fetchall()
        messages = [Message.from_row(r) for r in rows]
        return [PendingVector(m.rowid, m.text, embedding_input(m)) for m in messages]

    def write_pending(self, pending: Sequence[PendingVector], embedded: np.ndarray) -> int:
        """Store the vectors computed for pending(); a message deleted or edited since is skipped (an edit lists
        it again). One transaction; returns the vectors written."""
        with self._shared.transaction():
            current = dict(db.rows_in(
                self._conn, "SELECT m.id, m.text FROM pending_vectors p JOIN messages m ON m.id = p.id "
                "WHERE p.id IN ({marks})", [p.id for p in pending]))
            keep = [n for n, p in enumerate(pending) if current.get(p.id) == p.text]
            if keep:
                self.write_rows([pending[n].id for n in keep], embedded[keep])
        return len(keep)

    def embed_pending(self, chat_id: int | None = None, batch_size: int = 64) -> int:
        """Embed every message still without a vector, on this thread; returns how many."""
        done = 0
        while pending := self.pending(chat_id, batch_size):
            done += self.write_pending(pending, self.embedder.embed_batch([p.input for p in pending]))
        return done

    def count_pending(self) -> int:
        return self._conn.execute("SELECT count(*) FROM pending_vectors").fetchone()[0]


class EmbeddingQueue:
    """The async face of `Embeddings` (memory.embeddings): embeds pending messages in the background, in small
    batches on the model thread, while the database thread stays free for reads and writes; and the embedding
    model for texts (topics' queries, /compare)."""

    def __init__(self, threads: Threads, embeddings: Embeddings):
        self._threads = threads
        self._embeddings = embeddings
        self._embedding = asyncio.Lock()  # one pass over pending vectors at a time
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        """Start the background embedding (on the running loop); vectors a crash left unwritten come first."""
        self._wake.set()
        self._task = asyncio.get_running_loop().create_task(self._embed_in_background())

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    def wake(self) -> None:
        """Messages were stored without their vectors: the background queue embeds them."""
        self._wake.set()

    async def _embed_in_background(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                while await self._embed_pending_batch(None):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed batch stays pending and is retried at the next wake-up
                log.exception("embedding pending messages failed")
                await asyncio.sleep(1.0)

    async def _embed_pending_batch(self, chat_id: int | None) -> int:
        """Embed one batch of pending messages (of a chat, or of any); returns how many were pending in it."""
        async with self._embedding:
            pending = await self._threads.run(self._embeddings.pending, chat_id, EMBED_BATCH)
            if pending:
                embedded = await self._threads.embed([p.input for p in pending])
                await self._threads.run(self._embeddings.write_pending, pending, embedded)
            return len(pending)

    async def flush(self, chat_id: int | None = None) -> None:
        """Embed now whatever is pending (of one chat, or of all): reads that need every vector wait for this."""
        while await self._embed_pending_batch(chat_id):
            pass

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of texts (cleaned as stored messages are), on the model thread."""
        return await self._threads.embed([clean_text(t) for t in texts])

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions (the model's query role, where it has one), on the model thread."""
        return await self._threads.embed_queries([clean_text(t) for t in texts])

    async def compare(self, text_a: str, text_b: str) -> dict[str, float]:
        """Cosine similarity, Euclidean distance and dot product of two texts' embeddings."""
        a, b = await self.embed([text_a, text_b])
        return ranking.similarity_measures(a, b)
