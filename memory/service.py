"""The async front end of the memory: what the bot, the terminal chat and the tools call.

Two worker threads keep the event loop free: the database thread owns the SQLite connection (every statement
runs there, so writes are serialised without locks, and each is short), and the model thread runs the embedding
model. Storing a message writes its row and keyword entry at once; its vector follows from a background queue
that embeds pending messages in small batches, so a burst of messages is stored in milliseconds each and the
model works in batches, at its best rate. Recall and search first embed whatever of their chat is still pending
("read your writes"): a reply never misses a message stored before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np

from memory import maintenance
from memory import recall as ranking
from memory.corpus import FOREVER, ChatCorpus, WindowState
from memory.embedder import Embedder
from memory.models import Hit, Message, OnModelChange, RecallMethod, UnknownOutcome, clean_text
from memory.reminders import NextOccurrence, Reminder
from memory.store import Store, embedding_input

log = logging.getLogger(__name__)

INBOX_KEEP = 86400.0  # seconds a handled update's id is remembered, to recognise a re-delivery
EMBED_BATCH = 32  # pending messages embedded at a time: a recall waits for at most one batch on the model thread


class Memory:
    def __init__(self, path: str | Path, embedder: Embedder, *,
                 on_model_change: OnModelChange | str = OnModelChange.REFUSE,
                 fusion: ranking.FusionParams | None = None):
        self.path = Path(path)
        self.embedder = embedder
        self.on_model_change = OnModelChange(on_model_change)
        self.fusion = fusion
        self._db: ThreadPoolExecutor | None = None
        self._model: ThreadPoolExecutor | None = None
        self._store: Store | None = None
        self._embedding = asyncio.Lock()  # one pass over pending vectors at a time
        self._wake = asyncio.Event()
        self._embedder_task: asyncio.Task | None = None
        self.recall_latencies: list[float] = []  # seconds, since start (for /stats)

    # ----- lifecycle -----------------------------------------------------------------------------------------
    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-db")
        self._model = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-embed")
        try:
            self._store = await self._run(
                Store.open, self.path, self.embedder, on_model_change=self.on_model_change, progress=progress,
                fusion=self.fusion,
            )
        except BaseException:
            await self._shutdown_threads()
            raise
        self._embedding = asyncio.Lock()  # bound to this loop (tests may start a memory on several loops)
        self._wake = asyncio.Event()
        self._wake.set()  # vectors a crash left unwritten are embedded first
        self._embedder_task = asyncio.get_running_loop().create_task(self._embed_in_background())

    async def stop(self) -> None:
        if self._db is None:
            return
        if self._embedder_task is not None:
            self._embedder_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._embedder_task
            self._embedder_task = None
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        await self._shutdown_threads()

    async def _shutdown_threads(self) -> None:
        for pool in (self._model, self._db):
            if pool is not None:
                await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)
        self._db = self._model = None

    async def __aenter__(self) -> Memory:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _run(self, fn, *args, **kwargs):
        """fn(*args) on the database thread."""
        if self._db is None:
            raise RuntimeError("Memory is not started")
        return await asyncio.get_running_loop().run_in_executor(self._db, functools.partial(fn, *args, **kwargs))

    async def _embed(self, texts: Sequence[str]) -> np.ndarray:
        """The embedding model, on the model thread."""
        if self._model is None:
            raise RuntimeError("Memory is not started")
        return await asyncio.get_running_loop().run_in_executor(self._model, self.embedder.embed_batch, list(texts))

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("Memory is not started")
        return self._store

    # ----- vectors that follow their messages ------------------------------------------------------------------
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
            pending = await self._run(self.store.pending_embeddings, chat_id, EMBED_BATCH)
            if pending:
                vectors = await self._embed([p.input for p in pending])
                await self._run(self.store.write_vectors, pending, vectors)
            return len(pending)

    async def flush(self, chat_id: int | None = None) -> None:
        """Embed now whatever is pending (of one chat, or of all)."""
        while await self._embed_pending_batch(chat_id):
            pass

    def _stored(self) -> None:
        self._wake.set()

    # ----- the API -------------------------------------------------------------------------------------------
    async def remember(self, message: Message) -> Message:
        """Store a message (row and keyword entry now, its vector from the background queue)."""
        (stored,) = await self.remember_many([message])
        return stored

    async def remember_many(self, messages: Sequence[Message]) -> list[Message]:
        stored = await self._run(self.store.add_many, messages, embed=False)
        self._stored()
        return stored

    async def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None) -> Message | None:
        edited = await self._run(self.store.edit, chat_id, message_id, text, edited_at, embed=False)
        self._stored()
        return edited

    async def recall(self, chat_id: int, query: str, k: int = 6, *, exclude_ids: Iterable[int] = (),
                     method: RecallMethod | str = RecallMethod.HYBRID, window: tuple[float, float] | None = None,
                     keyword_query: str | None = None) -> list[Hit]:
        """Store.recall off the event loop; `window` and `keyword_query` come from bot/when/phrases (see there)."""
        started = time.perf_counter()
        query = clean_text(query)
        await self.flush(chat_id)
        method = RecallMethod(method)
        query_vector = (await self._embed([query]))[0] if method is not RecallMethod.KEYWORD else None
        hits = await self._run(self.store.recall, chat_id, query, k, exclude_ids=list(exclude_ids), method=method,
                               query_vector=query_vector, window=window, keyword_query=keyword_query)
        self.recall_latencies.append(time.perf_counter() - started)
        del self.recall_latencies[:-1000]
        return hits

    async def search(self, chat_id: int, query: str, k: int = 10, *, window: tuple[float, float] | None = None,
                     keyword_query: str | None = None) -> list[Hit]:
        """User-facing search (/search): hybrid, no exclusions, no recency prior."""
        return await self.recall(chat_id, query, k, window=window, keyword_query=keyword_query)

    async def get(self, chat_id: int, message_id: int) -> Message | None:
        return await self._run(self.store.get, chat_id, message_id)

    async def recent(self, chat_id: int, n: int, since: float = 0.0) -> list[Message]:
        return await self._run(self.store.recent, chat_id, n, since)

    async def forget(self, chat_id: int, message_id: int) -> bool:
        return await self._run(self.store.delete, chat_id, message_id)

    async def matching(self, chat_id: int, query: str, limit: int = 100) -> list[Message]:
        """Messages containing every word of the query, newest first (what /forget <query> offers to delete)."""
        return await self._run(self.store.matching, chat_id, clean_text(query), limit)

    async def count(self, chat_id: int | None = None) -> int:
        return await self._run(self.store.count, chat_id)

    async def next_message_id(self, chat_id: int) -> int:
        """A message id not used yet in this chat (for front ends without ids of their own: the terminal)."""
        return await self._run(self.store.next_message_id, chat_id)

    async def chat_vectors(self, chat_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and vectors of every message of a chat (pending ones embedded first)."""
        await self.flush(chat_id)
        return await self._run(self.store.chat_vectors, chat_id)

    async def chat_corpus(self, chat_id: int, window: tuple[float, float] = FOREVER) -> ChatCorpus:
        """A chat's messages of a window [start, end) as arrays with their vectors (pending ones embedded first)."""
        await self.flush(chat_id)
        return await self._run(self.store.chat_corpus, chat_id, *window)

    async def times_matching(self, chat_id: int, query: np.ndarray, similarity: float, words: Sequence[str]
                             ) -> np.ndarray:
        """When a chat's messages close to `query` (cosine >= similarity) or containing all `words` were written,
        read a chunk at a time (pending ones embedded first)."""
        await self.flush(chat_id)
        return await self._run(self.store.times_matching, chat_id, query, similarity, list(words))

    async def window_state(self, chat_id: int, window: tuple[float, float] = FOREVER, upto: int = 0) -> WindowState:
        """How many messages a window of a chat holds, its newest id, and how many of them have ids <= upto."""
        return await self._run(self.store.window_state, chat_id, *window, upto)

    async def messages_by_ids(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """The chat's messages with these row ids, in that order (others' and deleted ones left out)."""
        return await self._run(self.store.messages_by_ids, chat_id, list(ids))

    async def check(self) -> dict:
        """Integrity and consistency of the database (Store.check)."""
        return await self._run(self.store.check)

    async def forget_ids(self, chat_id: int, ids: Iterable[int]) -> int:
        return await self._run(self.store.delete_ids, chat_id, list(ids))

    async def forget_chat(self, chat_id: int) -> int:
        return await self._run(self.store.delete_chat, chat_id)

    async def move_chat(self, old: int, new: int) -> int:
        return await self._run(self.store.move_chat, old, new)

    async def export(self, chat_id: int) -> list[dict]:
        return await self._run(self.store.export, chat_id)

    async def stats(self, chat_id: int | None = None) -> dict:
        return await self._run(self.store.stats, chat_id)

    async def chat_settings(self, chat_id: int) -> dict:
        return await self._run(self.store.chat_settings, chat_id)

    async def set_chat_setting(self, chat_id: int, **values) -> None:
        await self._run(self.store.set_chat_setting, chat_id, **values)

    # ----- imports (memory/imports.py) -------------------------------------------------------------------------
    async def imported_ids(self, chat_id: int, source: str, originals: Sequence[int],
                           shared_ids: bool) -> dict[int, int]:
        return await self._run(self.store.imported_ids, chat_id, source, originals, shared_ids)

    async def embed_messages(self, messages: Sequence[Message]) -> np.ndarray:
        """Vectors for messages about to be stored, made as stored messages' are ("Sender: text")."""
        return await self._embed([embedding_input(m) for m in messages])

    async def add_imported(self, messages: Sequence[Message], vectors: np.ndarray, shared_ids: bool) -> int:
        """Store a batch of imported messages with their vectors (one transaction); returns how many were new."""
        return await self._run(self.store.add_imported, messages, vectors, shared_ids)

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self._embed([clean_text(t) for t in texts])

    async def compare(self, text_a: str, text_b: str) -> dict[str, float]:
        """Cosine similarity, Euclidean distance and dot product of two texts' embeddings."""
        a, b = await self.embed([text_a, text_b])
        return ranking.similarity_measures(a, b)

    # ----- the inbox of received updates ----------------------------------------------------------------------
    async def inbox_add(self, update_id: int, payload: str) -> bool:
        return await self._run(self.store.inbox_add, update_id, payload, time.time())

    async def inbox_done(self, update_id: int) -> None:
        await self._run(self.store.inbox_done, update_id, time.time())

    async def inbox_unhandled(self) -> list[tuple[int, str]]:
        await self._run(self.store.inbox_prune, time.time() - INBOX_KEEP)
        return await self._run(self.store.inbox_unhandled)

    async def unanswered(self, since: float) -> list[Message]:
        return await self._run(self.store.unanswered, since)

    # ----- reminders (memory/reminders.py) --------------------------------------------------------------------
    async def add_reminder(self, *, chat_id: int, created_by: int | None, text: str, due_at: float,
                           recurrence: str | None, timezone: str, now: float) -> Reminder:
        return await self._run(self.store.reminders.create, chat_id=chat_id, created_by=created_by, text=text,
                               due_at=due_at, recurrence=recurrence, timezone=timezone, now=now)

    async def reminder(self, reminder_id: int) -> Reminder | None:
        return await self._run(self.store.reminders.get, reminder_id)

    async def pending_reminders(self, chat_id: int | None = None) -> list[Reminder]:
        """One chat's reminders still to come (soonest first), or every chat's pending ones."""
        if chat_id is None:
            return await self._run(self.store.reminders.all_pending)
        return await self._run(self.store.reminders.pending_for_chat, chat_id)

    async def due_reminders(self, now: float) -> list[Reminder]:
        return await self._run(self.store.reminders.due, now)

    async def cancel_reminder(self, chat_id: int, reminder_id: int) -> Reminder | None:
        return await self._run(self.store.reminders.cancel, chat_id, reminder_id)

    async def claim_reminder(self, reminder_id: int, token: str, now: float) -> Reminder | None:
        return await self._run(self.store.reminders.claim, reminder_id, token, now)

    async def release_reminder(self, reminder_id: int, token: str, error: str) -> bool:
        return await self._run(self.store.reminders.release, reminder_id, token, error)

    async def fail_reminder(self, reminder_id: int, token: str | None, error: str) -> bool:
        return await self._run(self.store.reminders.fail, reminder_id, token, error)

    async def record_delivery(self, reminder: Reminder, token: str, message: Message,
                              next_due: float | None) -> bool:
        return await self._run(self.store.reminders.record_delivery, reminder, token, message, next_due)

    async def recover_reminders(self, unknown_outcome: UnknownOutcome | str,
                                next_occurrence: NextOccurrence) -> dict[str, int]:
        return await self._run(self.store.reminders.recover, unknown_outcome, next_occurrence)

    # ----- housekeeping (memory/maintenance.py) ---------------------------------------------------------------
    async def checkpoint(self) -> tuple[int, int, int]:
        """WAL checkpoint + PRAGMA optimize, on the memory thread."""
        return await self._run(self.store.checkpoint)

    async def backup(self, backup_dir: str | Path, keep: int, now: datetime | None = None) -> Path:
        """An online backup from a second connection in a worker thread: the memory thread keeps working."""
        return await asyncio.to_thread(maintenance.backup_database, self.path, backup_dir, keep, now)

    async def delete_older_than(self, cutoff: float) -> int:
        """Retention: delete every message created before `cutoff` (Unix time), in all chats."""
        return await self._run(self.store.delete_older_than, cutoff)
