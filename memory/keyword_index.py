"""The keyword index of every language (migration m010): each message's terms (memory/text.py index_terms),
computed in Python when the message is written, and the background fill of the messages stored before.

A database from before m010 has its messages in the Porter index (m003) and none in the new one: keyword search
keeps reading the Porter index (`legacy`) while `KeywordFill` computes the terms of the old messages in batches
on the database thread, as the re-embed of another scheme does; the last batch drops the Porter index and search
switches over. New messages get their terms at once either way.

`KeywordIndex` is the synchronous part (on the database thread), `KeywordFill` the background task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from memory import migrations
from memory.shared import Shared
from memory.text import index_terms, query_terms, words
from memory.threads import Threads, cancel

log = logging.getLogger(__name__)

FILL_BATCH = 500  # messages given their terms in one transaction: a write or a recall waits for one batch at most


class KeywordIndex:
    def __init__(self, shared: Shared):
        self._shared = shared
        self._conn = shared.conn

    def check(self) -> None:
        """At open: search reads the Porter index while messages are still without their terms."""
        has_porter = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages_fts'").fetchone() is not None
        if has_porter and not self.missing():
            with self._shared.transaction():
                migrations.drop_porter_index(self._conn)
            has_porter = False
        self._shared.keyword_legacy = has_porter

    def missing(self) -> int:
        """Messages still without their terms."""
        return self._conn.execute("SELECT count(*) FROM messages WHERE terms IS NULL").fetchone()[0]

    def unfilled(self, batch: int = FILL_BATCH) -> list[tuple[int, str, str]]:
        """(id, text, sender) of a batch of messages without their terms, oldest first."""
        return self._conn.execute(
            "SELECT id, text, sender_name FROM messages WHERE terms IS NULL ORDER BY id LIMIT ?", (batch,)
        ).fetchall()

    def write(self, rows: list[tuple[int, str, str]], terms: list[str]) -> None:
        """Store the terms computed for unfilled() rows (a message edited since keeps its own); when no message is
        left without terms, drop the Porter index and switch search to the new one. One transaction."""
        with self._shared.transaction():
            self._conn.executemany(
                "UPDATE messages SET terms = ? WHERE id = ? AND terms IS NULL AND text = ? AND sender_name = ?",
                [(t, id_, text, sender) for (id_, text, sender), t in zip(rows, terms)])
            if self._shared.keyword_legacy and not self.missing():
                migrations.drop_porter_index(self._conn)
                self._shared.keyword_legacy = False
                log.info("keyword index: every message has its terms; the Porter index is dropped")

    def fill(self, batch: int = FILL_BATCH) -> int:
        """Give one batch of messages their terms, on this thread. Returns how many were filled (0: done)."""
        rows = self.unfilled(batch)
        self.write(rows, terms_of(rows))
        return len(rows)

    def fill_all(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Fill every message still without its terms, on this thread (tools and tests); returns how many."""
        total, done = self.missing(), 0
        while n := self.fill():
            done += n
            if progress:
                progress(done, total)
        return done

    # ----- the queries --------------------------------------------------------------------------------------------
    def word_queries(self, text: str) -> list[str]:
        """One FTS5 expression for each keyword of `text` (at most 32), matching the index terms of the word
        ('("собаку" OR "собак")'). Every term is a quoted string, so no input is read as FTS5 syntax (AND, NEAR(,
        *, column filters, quotes); a term is letters, digits and marks only (memory/text.py words)."""
        if self._shared.keyword_legacy:  # the Porter index stems English itself: the words as written
            return [f'"{group[0]}"' for group in query_terms(text)[:32]]
        return [_any(group) for group in query_terms(text)[:32]]

    def all_words_query(self, text: str) -> str | None:
        """An expression matching the messages that hold every keyword of `text` (every word if it has no
        keyword), or None when it has no word."""
        groups = [_any(g[:1] if self._shared.keyword_legacy else g) for g in query_terms(text)[:32]]
        if not groups:
            groups = [f'"{w}"' for w in dict.fromkeys(words(text))][:32]
        return " AND ".join(groups) if groups else None

    @property
    def table(self) -> str:
        """The FTS5 table search reads now, and its text column."""
        return "messages_fts" if self._shared.keyword_legacy else "messages_terms"


def terms_of(rows: list[tuple[int, str, str]]) -> list[str]:
    """The index terms of unfilled() rows (pure: any thread)."""
    return [index_terms(text, sender) for _, text, sender in rows]


def _any(terms: tuple[str, ...]) -> str:
    quoted = [f'"{t}"' for t in terms]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


class KeywordFill:
    """The background fill of the old messages' terms, one batch at a time: read and written on the database
    thread, computed in a worker thread meanwhile (the database thread stays free for reads and writes), logging
    its progress; nothing to do on a database made since m010."""

    def __init__(self, threads: Threads, index: KeywordIndex):
        self._threads = threads
        self._index = index
        self._task: asyncio.Task | None = None
        self.done = 0
        self.total = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._fill())

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    async def wait(self) -> None:
        """Until every message has its terms (tests, tools)."""
        if self._task is not None:
            await self._task

    async def _fill(self) -> None:
        self.total = await self._threads.run(self._index.missing)
        if not self.total:
            return
        log.info("keyword index: computing the terms of %d stored messages in the background", self.total)
        while True:
            try:
                rows = await self._threads.run(self._index.unfilled)
                terms = await asyncio.to_thread(terms_of, rows)
                await self._threads.run(self._index.write, rows, terms)
                n = len(rows)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed batch stays without terms and is tried again
                log.exception("keyword index: a batch failed")
                await asyncio.sleep(1.0)
                continue
            if not n:
                return
            self.done += n
            log.info("keyword index: %d/%d messages", self.done, self.total)
            await asyncio.sleep(0)
