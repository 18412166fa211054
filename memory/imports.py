"""Imported history: messages of an export, stored beside a chat's live messages without ever touching them.

An imported message carries its origin in meta: `import.source` (the exported chat, e.g. "telegram:-1001234")
and `import.id` (its id there); migration m006 indexes both, so an import that runs again, or a newer export of
the same chat, adds only what is not there yet.

Which message id it gets in the target chat:
- When the export's ids are the target chat's own ids (`shared_ids`: a Telegram supergroup or channel imported
  into itself, whose ids are one sequence for everyone, or Engram's export into the chat it came from), the
  message keeps its id: a live reply to it finds it, and a message the bot already stored under that id is the
  same message, left as it is ("already present").
- Otherwise (private chats and basic groups, whose ids are each account's own, or any import into another chat)
  ids of the export mean nothing in the target chat: the message gets a fresh negative id below FOREIGN_IDS, far
  from Telegram's (positive) and from those of a migrated group (minus the old id), and its replies point at the
  ids their targets got.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from memory import db, vectors
from memory.embedded import embedding_input
from memory.messages import insert
from memory.migrations import IMPORT_ID_SQL, IMPORT_SOURCE_SQL
from memory.models import Message
from memory.shared import Shared
from memory.threads import Threads

FOREIGN_IDS = -(2**40)  # imported messages with ids of their own are numbered downwards from here


def origin(message: Message) -> tuple[str, int]:
    """(source, original id) of a message being imported."""
    mark = (message.meta or {}).get("import") or {}
    return str(mark["source"]), int(mark["id"])


class Imports:
    """The store's writes and lookups for imports (synchronous: AsyncImports runs them on the database thread)."""

    def __init__(self, shared: Shared):
        self._shared = shared
        self._conn = shared.conn

    def imported_ids(self, chat_id: int, source: str, originals: Sequence[int],
                     shared_ids: bool) -> dict[int, int]:
        """{original id: message id in the chat} of the given originals already stored in the chat."""
        if shared_ids:
            sql = f"SELECT message_id, message_id FROM messages WHERE chat_id = {int(chat_id)} " \
                  "AND message_id IN ({marks})"
            return dict(db.rows_in(self._conn, sql, list(originals)))
        found: dict[int, int] = {}
        for start in range(0, len(originals), db.MAX_VARIABLES):
            chunk = list(originals[start:start + db.MAX_VARIABLES])
            found.update(self._conn.execute(
                f"SELECT {IMPORT_ID_SQL}, message_id FROM messages WHERE chat_id = ? AND {IMPORT_SOURCE_SQL} = ? "
                f"AND {IMPORT_ID_SQL} IN ({','.join('?' * len(chunk))})", (chat_id, source, *chunk)))
        return found

    def add(self, messages: Sequence[Message], embedded: np.ndarray, shared_ids: bool) -> int:
        """Store one batch of imported messages of one chat and one source (meta `import`), with their vectors,
        in one transaction. Messages already there are left as they are; returns how many were added."""
        if not messages:
            return 0
        chat_id = messages[0].chat_id
        source = origin(messages[0])[0]
        originals = [origin(m)[1] for m in messages]
        with self._shared.transaction():
            present = self.imported_ids(chat_id, source, originals, shared_ids)
            todo = [n for n, original in enumerate(originals) if original not in present]
            if not todo:
                return 0
            stored_as = dict(present)
            if not shared_ids:
                lowest = self._conn.execute("SELECT min(message_id) FROM messages WHERE chat_id = ?",
                                            (chat_id,)).fetchone()[0]
                start = min(lowest if lowest is not None else 0, FOREIGN_IDS) - 1
                stored_as.update({originals[n]: start - i for i, n in enumerate(todo)})
                replied = {m.reply_to for m in messages if m.reply_to is not None} - set(stored_as)
                stored_as.update(self.imported_ids(chat_id, source, sorted(replied), False))
            rows = []
            for n in todo:
                message = messages[n]
                if not shared_ids:
                    message = replace(message, message_id=stored_as[originals[n]],
                                      reply_to=stored_as.get(message.reply_to) if message.reply_to else None)
                rows.append(insert(self._shared, message))
            vectors.insert(self._conn, rows, [chat_id] * len(rows), embedded[todo])
        return len(rows)


class AsyncImports:
    """Imports off the event loop (memory.imports): an importer (bot/importing) embeds a batch on the model thread,
    then stores it with its vectors in one transaction on the database thread."""

    def __init__(self, threads: Threads, imports: Imports):
        self._threads = threads
        self._imports = imports

    async def imported_ids(self, chat_id: int, source: str, originals: Sequence[int],
                           shared_ids: bool) -> dict[int, int]:
        return await self._threads.run(self._imports.imported_ids, chat_id, source, originals, shared_ids)

    async def embed(self, messages: Sequence[Message]) -> np.ndarray:
        """Vectors for messages about to be stored, made as stored messages' are ("Sender: text")."""
        return await self._threads.embed([embedding_input(m) for m in messages])

    async def add(self, messages: Sequence[Message], vectors: np.ndarray, shared_ids: bool) -> int:
        """Store a batch of imported messages with their vectors (one transaction); returns how many were new."""
        return await self._threads.run(self._imports.add, messages, vectors, shared_ids)
