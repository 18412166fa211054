"""The async front end of the memory: what the bot, the terminal chat and the tools call.

`Memory` starts and stops the store (memory/store.py) and the two worker threads (memory/threads.py: the
database thread owns the SQLite connection, the model thread runs the embedding model), and exposes the store's
parts as async ones, each in the file of its SQL:

    memory.messages     memory/messages.py     store, edit, forget, read, recall, search, whole-chat reads, stats
    memory.embeddings   memory/embedded.py     the background embedding of pending messages, the model for texts
    memory.keyword_fill memory/keyword_index.py the background fill of old messages' keyword terms
    memory.reminders    memory/reminders.py    reminders and their delivery protocol
    memory.inbox        memory/inbox.py        received Telegram updates
    memory.imports      memory/imports.py      imported history
    memory.maintenance  memory/maintenance.py  the consistency check, checkpoint, backups, retention

Each async method runs its part's synchronous work on the database thread (Threads.run) and embeds on the model
thread, so the event loop never waits for SQLite or the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from memory import recall as ranking
from memory.embedded import EmbeddingQueue
from memory.embedder import Embedder
from memory.imports import AsyncImports
from memory.inbox import AsyncInbox
from memory.keyword_index import KeywordFill
from memory.maintenance import AsyncMaintenance
from memory.messages import AsyncMessages
from memory.models import OnModelChange
from memory.reminders import AsyncReminders
from memory.store import Store
from memory.threads import Threads

log = logging.getLogger(__name__)


def logged_progress(step: float = 0.05) -> Callable[[int, int], None]:
    """A re-embed's progress as log lines ("re-embedding: 1200/24000 messages"), one every `step` of the total:
    for the front ends without a terminal bar (the Telegram bot)."""
    state = {"next": 0.0}

    def report(done: int, total: int) -> None:
        if total and (done / total >= state["next"] or done >= total):
            log.info("re-embedding: %d/%d messages", done, total)
            state["next"] = done / total + step

    return report

T = TypeVar("T")


def _started(part: T | None) -> T:
    if part is None:
        raise RuntimeError("Memory is not started")
    return part


class Memory:
    def __init__(self, path: str | Path, embedder: Embedder, *,
                 on_model_change: OnModelChange | str = OnModelChange.REFUSE,
                 fusion: ranking.FusionParams | None = None):
        self.path = Path(path)
        self.embedder = embedder
        self.on_model_change = OnModelChange(on_model_change)
        self.fusion = fusion
        self._threads = Threads(embedder)
        self._store: Store | None = None
        # The async parts, made at start over the opened store (and bound to the running loop).
        self._messages: AsyncMessages | None = None
        self._embeddings: EmbeddingQueue | None = None
        self._reminders: AsyncReminders | None = None
        self._inbox: AsyncInbox | None = None
        self._imports: AsyncImports | None = None
        self._maintenance: AsyncMaintenance | None = None
        self._keyword_fill: KeywordFill | None = None

    # ----- lifecycle -----------------------------------------------------------------------------------------
    async def start(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Open the store on the database thread (migrations, the model check, a re-embed reporting `progress`,
        by default as log lines), then start embedding what a crash left pending."""
        progress = progress or logged_progress()
        self._threads.start()
        try:
            store = await self._threads.run(
                Store.open, self.path, self.embedder, on_model_change=self.on_model_change, progress=progress,
                fusion=self.fusion,
            )
        except BaseException:
            await self._threads.stop()
            raise
        self._store = store
        threads = self._threads
        self._embeddings = EmbeddingQueue(threads, store.embeddings)
        self._messages = AsyncMessages(threads, store.messages, store.search, store.corpora, self._embeddings)
        self._reminders = AsyncReminders(threads, store.reminders)
        self._inbox = AsyncInbox(threads, store.inbox)
        self._imports = AsyncImports(threads, store.imports)
        self._maintenance = AsyncMaintenance(threads, store.maintenance, self.path)
        self._embeddings.start()
        self._keyword_fill = KeywordFill(threads, store.keywords)
        self._keyword_fill.start()

    async def stop(self) -> None:
        if not self._threads.started:
            return
        if self._embeddings is not None:
            await self._embeddings.stop()
        if self._keyword_fill is not None:
            await self._keyword_fill.stop()
            self._keyword_fill = None
        if self._store is not None:
            await self._threads.run(self._store.close)
            self._store = None
        self._messages = self._embeddings = self._reminders = None
        self._inbox = self._imports = self._maintenance = None
        await self._threads.stop()

    async def __aenter__(self) -> Memory:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ----- the parts -----------------------------------------------------------------------------------------
    @property
    def messages(self) -> AsyncMessages:
        return _started(self._messages)

    @property
    def embeddings(self) -> EmbeddingQueue:
        return _started(self._embeddings)

    @property
    def keyword_fill(self) -> KeywordFill:
        """The background fill of the keyword index's terms (a database from before migration m010)."""
        return _started(self._keyword_fill)

    @property
    def reminders(self) -> AsyncReminders:
        return _started(self._reminders)

    @property
    def inbox(self) -> AsyncInbox:
        return _started(self._inbox)

    @property
    def imports(self) -> AsyncImports:
        return _started(self._imports)

    @property
    def maintenance(self) -> AsyncMaintenance:
        return _started(self._maintenance)
