"""The memory's two worker threads, which keep the event loop free; every async part of the memory reaches them here.

The database thread owns the SQLite connection: every statement runs there (`Threads.run`), so writes are
serialised without locks, and each is short. The model thread runs the embedding model (`Threads.embed`), so a
batch being embedded never holds up a read or a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import numpy as np

from memory.embedder import Embedder, embed_queries

P = ParamSpec("P")
T = TypeVar("T")


async def cancel(task: asyncio.Task | None) -> None:
    """Cancel a background task of ours and wait until it has stopped (its CancelledError is the expected end)."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Threads:
    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._db: ThreadPoolExecutor | None = None
        self._model: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-db")
        self._model = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-embed")

    async def stop(self) -> None:
        for pool in (self._model, self._db):
            if pool is not None:
                await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)
        self._db = self._model = None

    @property
    def started(self) -> bool:
        return self._db is not None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(*args, **kwargs) on the database thread: the one way the async parts reach the store."""
        if self._db is None:
            raise RuntimeError("Memory is not started")
        return await asyncio.get_running_loop().run_in_executor(self._db, functools.partial(fn, *args, **kwargs))

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The embedding model, on the model thread."""
        if self._model is None:
            raise RuntimeError("Memory is not started")
        return await asyncio.get_running_loop().run_in_executor(self._model, self.embedder.embed_batch, list(texts))

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions through the embedding model (its query role, where it has one), on the model thread."""
        if self._model is None:
            raise RuntimeError("Memory is not started")
        return await asyncio.get_running_loop().run_in_executor(
            self._model, functools.partial(embed_queries, self.embedder, list(texts)))
