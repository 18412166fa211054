"""The async front end of the memory: what the bot, the terminal chat and the tools call.

All work (embedding, SQL) runs on one dedicated worker thread that owns the SQLite connection, so the event
loop is never blocked and writes are serialised without locks.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np

from memory import maintenance
from memory import recall as ranking
from memory.embedder import Embedder
from memory.models import Hit, Message
from memory.reminders import NextOccurrence, Reminder
from memory.store import Store


class Memory:
    def __init__(self, path: str | Path, embedder: Embedder, *, on_model_change: str = "refuse",
                 fusion: ranking.FusionParams | None = None):
        self.path = Path(path)
        self.embedder = embedder
        self.on_model_change = on_model_change
        self.fusion = fusion
        self._executor: ThreadPoolExecutor | None = None
        self._store: Store | None = None
        self.recall_latencies: list[float] = []  # seconds, since start (for /stats)

    # ----- lifecycle -----------------------------------------------------------------------------------------
    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-memory")
        try:
            self._store = await self._run(
                Store.open, self.path, self.embedder, on_model_change=self.on_model_change, progress=progress,
                fusion=self.fusion,
            )
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise

    async def stop(self) -> None:
        if self._executor is None:
            return
        if self._store is not None:
            await self._run(self._store.close)
            self._store = None
        self._executor.shutdown(wait=True)
        self._executor = None

    async def __aenter__(self) -> Memory:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _run(self, fn, *args, **kwargs):
        if self._executor is None:
            raise RuntimeError("Memory is not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("Memory is not started")
        return self._store

    # ----- the API -------------------------------------------------------------------------------------------
    async def remember(self, message: Message) -> Message:
        return await self._run(self.store.add, message)

    async def remember_many(self, messages: Sequence[Message]) -> list[Message]:
        return await self._run(self.store.add_many, messages)

    async def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None) -> Message | None:
        return await self._run(self.store.edit, chat_id, message_id, text, edited_at)

    async def recall(self, chat_id: int, query: str, k: int = 6, *, exclude_ids: Iterable[int] = (),
                     method: str = "hybrid") -> list[Hit]:
        started = time.perf_counter()
        hits = await self._run(self.store.recall, chat_id, query, k, exclude_ids=list(exclude_ids), method=method)
        self.recall_latencies.append(time.perf_counter() - started)
        del self.recall_latencies[:-1000]
        return hits

    async def search(self, chat_id: int, query: str, k: int = 10) -> list[Hit]:
        """User-facing search (/search): hybrid, no exclusions, no recency prior."""
        return await self.recall(chat_id, query, k)

    async def get(self, chat_id: int, message_id: int) -> Message | None:
        return await self._run(self.store.get, chat_id, message_id)

    async def recent(self, chat_id: int, n: int, since: float = 0.0) -> list[Message]:
        return await self._run(self.store.recent, chat_id, n, since)

    async def forget(self, chat_id: int, message_id: int) -> bool:
        return await self._run(self.store.delete, chat_id, message_id)

    async def matching(self, chat_id: int, query: str, limit: int = 100) -> list[Message]:
        """Messages containing every word of the query, newest first (what /forget <query> offers to delete)."""
        return await self._run(self.store.matching, chat_id, query, limit)

    async def count(self, chat_id: int | None = None) -> int:
        return await self._run(self.store.count, chat_id)

    async def next_message_id(self, chat_id: int) -> int:
        """A message id not used yet in this chat (for front ends without ids of their own: the terminal)."""
        return await self._run(self.store.next_message_id, chat_id)

    async def chat_vectors(self, chat_id: int) -> tuple[np.ndarray, np.ndarray]:
        return await self._run(self.store.chat_vectors, chat_id)

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

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self._run(self.embedder.embed_batch, list(texts))

    async def compare(self, text_a: str, text_b: str) -> dict[str, float]:
        """Cosine similarity, Euclidean distance and dot product of two texts' embeddings."""
        a, b = await self.embed([text_a, text_b])
        return ranking.similarity_measures(a, b)

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

    async def recover_reminders(self, unknown_outcome: str, next_occurrence: NextOccurrence) -> dict[str, int]:
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
