"""What the store's parts share: the one connection, the database's path, the embedder and the chat sizes.

Each part of the store (memory/messages.py, search.py, corpus.py, embedded.py, imports.py, inbox.py,
maintenance.py, reminders.py) is a small class over one `Shared`, handed to it by memory/store.py: they see the
same connection and the same cache, and none reaches into another's private state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memory import db
from memory.embedder import Embedder


class ChatSizes:
    """Messages per chat, counted once and then kept up to date by the writes: keyword scores need a chat's size
    on every query (IDF), and counting a big chat each time would cost more than the query itself."""

    def __init__(self, conn: Any):
        self._conn = conn
        self._sizes: dict[int, int] = {}

    def get(self, chat_id: int) -> int:
        if chat_id not in self._sizes:
            self._sizes[chat_id] = self._conn.execute("SELECT count(*) FROM messages WHERE chat_id = ?",
                                                      (chat_id,)).fetchone()[0]
        return self._sizes[chat_id]

    def grow(self, chat_id: int, n: int) -> None:
        """n messages were added to the chat (a chat not counted yet is counted when next asked)."""
        if chat_id in self._sizes:
            self._sizes[chat_id] += n

    def forget(self, chat_id: int | None = None) -> None:
        """Count the chat (or every chat) again when next asked: after deletes and moves."""
        if chat_id is None:
            self._sizes.clear()
        else:
            self._sizes.pop(chat_id, None)


@dataclass
class Shared:
    """The connection (used from one thread only: the memory's database thread), where the database is, the
    embedder that made its vectors, and the chat sizes every write keeps current."""

    conn: Any
    path: str
    embedder: Embedder
    chat_sizes: ChatSizes = field(init=False)
    # Keyword search still reads the Porter index of m003 while old messages get their terms (memory/keyword_index.py).
    keyword_legacy: bool = False

    def __post_init__(self) -> None:
        self.chat_sizes = ChatSizes(self.conn)

    def transaction(self):
        """One write: BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (memory/db.py)."""
        return db.transaction(self.conn)
