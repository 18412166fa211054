"""The inbox of received updates (migration m004): an update is kept here before Telegram is told it arrived,
and handled again after a crash if it was not marked handled (handlers/intake.py). After a restart, the messages
the assistant was asked to answer but had not answered are found here too (`unanswered`)."""

from __future__ import annotations

import time

from memory.models import MESSAGE_COLUMNS, Message
from memory.shared import Shared
from memory.threads import Threads

INBOX_KEEP = 86400.0  # seconds a handled update's id is remembered, to recognise a re-delivery


class Inbox:
    """The inbox table (synchronous: AsyncInbox runs it on the database thread)."""

    def __init__(self, shared: Shared):
        self._shared = shared
        self._conn = shared.conn

    def add(self, update_id: int, payload: str, received_at: float) -> bool:
        """Keep a received update until it is handled; False if its id is known (a re-delivery)."""
        with self._shared.transaction():
            return self._conn.execute(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                (update_id, payload, received_at),
            ).rowcount == 1

    def done(self, update_id: int, handled_at: float) -> None:
        with self._shared.transaction():
            self._conn.execute("UPDATE inbox SET handled_at = ?, payload = '' WHERE update_id = ?",
                               (handled_at, update_id))

    def unhandled(self) -> list[tuple[int, str]]:
        """Updates received but not handled yet (update_id, payload), oldest first."""
        return self._conn.execute(
            "SELECT update_id, payload FROM inbox WHERE handled_at IS NULL ORDER BY update_id").fetchall()

    def prune(self, before: float) -> int:
        """Forget handled updates older than `before` (Telegram only re-sends recent unconfirmed ones)."""
        with self._shared.transaction():
            return self._conn.execute("DELETE FROM inbox WHERE handled_at IS NOT NULL AND handled_at < ?",
                                      (before,)).rowcount

    def unanswered(self, since: float) -> list[Message]:
        """Per chat, its last message the assistant was asked to answer (meta `addressed`), if it came at or after
        `since` and nothing of the assistant's followed it."""
        rows = self._conn.execute(
            f"SELECT {', '.join('m.' + c.strip() for c in MESSAGE_COLUMNS.split(','))} FROM messages m "
            "WHERE m.created_at >= ? AND m.role = 'user' AND json_extract(m.meta, '$.addressed') "
            "AND NOT EXISTS (SELECT 1 FROM messages later WHERE later.chat_id = m.chat_id "
            "AND (later.created_at, later.id) > (m.created_at, m.id) "
            "AND (later.role = 'assistant' OR json_extract(later.meta, '$.addressed'))) "
            "ORDER BY m.created_at", (since,),
        ).fetchall()
        return [Message.from_row(r) for r in rows]


class AsyncInbox:
    """The inbox off the event loop (memory.inbox), stamped with the time of each call."""

    def __init__(self, threads: Threads, inbox: Inbox):
        self._threads = threads
        self._inbox = inbox

    async def add(self, update_id: int, payload: str) -> bool:
        return await self._threads.run(self._inbox.add, update_id, payload, time.time())

    async def done(self, update_id: int) -> None:
        await self._threads.run(self._inbox.done, update_id, time.time())

    async def unhandled(self) -> list[tuple[int, str]]:
        """What a crash left unhandled (handled updates older than INBOX_KEEP are forgotten first)."""
        await self._threads.run(self._inbox.prune, time.time() - INBOX_KEEP)
        return await self._threads.run(self._inbox.unhandled)

    async def unanswered(self, since: float) -> list[Message]:
        return await self._threads.run(self._inbox.unanswered, since)
