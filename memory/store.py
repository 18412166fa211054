"""The synchronous store: one SQLite connection and the parts that hold every SQL statement, one part a concern.

    messages     memory/messages.py     writes, single-message reads, export, stats, per-chat settings
    search       memory/search.py       exact matches, vector and keyword search, hybrid recall
    keywords     memory/keyword_index.py  the keyword index's terms, the background fill of old messages'
    corpora      memory/corpus.py       a whole chat (or a window of it) at once
    embeddings   memory/embedded.py     the vectors' model and scheme, the pending ones, re-embedding
    imports      memory/imports.py      imported history
    inbox        memory/inbox.py        received Telegram updates
    reminders    memory/reminders.py    the reminders table
    maintenance  memory/maintenance.py  the consistency check, checkpoint, retention

Use it from one thread: memory.service.Memory opens it on its database thread and gives each part an async face;
benchmarks and tests use it directly. Each write is one transaction: a crash leaves committed messages complete
and nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memory import db, migrations, recall
from memory.corpus import Corpora
from memory.embedded import Embeddings
from memory.embedder import Embedder
from memory.imports import Imports
from memory.inbox import Inbox
from memory.keyword_index import KeywordIndex
from memory.maintenance import Maintenance
from memory.messages import Messages
from memory.models import OnModelChange
from memory.reminders import Reminders
from memory.search import Search
from memory.shared import Shared


class Store:
    def __init__(self, conn, embedder: Embedder, path: str, fusion: recall.FusionParams | None = None):
        self._shared = Shared(conn, path, embedder)  # the connection stays private to memory/
        self.path = path
        self.embedder = embedder
        self.embeddings = Embeddings(self._shared)
        self.messages = Messages(self._shared, self.embeddings)
        self.keywords = KeywordIndex(self._shared)
        self.search = Search(self._shared, self.keywords, fusion)
        self.corpora = Corpora(self._shared)
        self.imports = Imports(self._shared)
        self.inbox = Inbox(self._shared)
        self.reminders = Reminders(conn, self.messages.add)
        self.maintenance = Maintenance(self._shared, self.messages)

    @classmethod
    def open(
        cls,
        path: str | Path,
        embedder: Embedder,
        *,
        on_model_change: OnModelChange | str = OnModelChange.REFUSE,
        progress: Callable[[int, int], None] | None = None,
        fusion: recall.FusionParams | None = None,
    ) -> Store:
        """Connect, migrate the schema, and check the stored vectors' model against `embedder` (refuse another
        model's, or re-embed them with `on_model_change="reembed"`, reporting `progress(done, total)`)."""
        conn = db.connect(path)
        try:
            migrations.migrate(conn)
            store = cls(conn, embedder, str(path), fusion)
            store.keywords.check()
            store.embeddings.check_model(on_model_change, progress)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._shared.conn.close()
