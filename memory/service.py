"""The async front end of the memory: what the bot, the terminal chat and the tools call.

All work (embedding, SQL) runs on one dedicated worker thread that owns the SQLite connection, so the event
loop is never blocked and writes are serialised without locks.
"""

from __future__ import annotations

import asyncio
import functools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from memory import recall as ranking
from memory.embedder import Embedder
from memory.models import Hit, Message
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

    async def __aenter__(self) -> "Memory":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def _run(self, fn, *args, **kwargs):
        if self._executor is None:
            raise RuntimeError("Memory is not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def call(self, fn: Callable[[Store], object]):
        """Run fn(store) on the memory thread: for tools (benchmarks, importers, housekeeping)."""
        return await self._run(lambda: fn(self.store))

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
        """Messages containing every word of the query (what /forget <query> would delete)."""
        return await self._run(self.store.matching, chat_id, query, limit)

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
