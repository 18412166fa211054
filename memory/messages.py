"""A chat's messages: every write (store, edit, forget, move) and the reads of single messages, with the async
face the bot uses (`AsyncMessages`, memory.messages), which also reaches recall (memory/search.py) and the
whole-chat reads (memory/corpus.py).

Each write is one transaction over the three tables (messages, vectors, FTS5 via triggers): a crash leaves
committed messages complete and nothing half-written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from memory import migrations, vectors
from memory.corpus import FOREVER, ChatCorpus, Corpora, WindowState, rows_by_id
from memory.embedded import EmbeddingQueue, Embeddings
from memory.models import MESSAGE_COLUMNS, Hit, Message, RecallMethod, clean_text, evidence_sql
from memory.search import Search
from memory.shared import Shared
from memory.text import index_terms
from memory.threads import Threads


def insert(shared: Shared, message: Message) -> int:
    """Insert a new message row with its keyword terms (its keyword entry follows by trigger); returns its row id.
    Inside a transaction. Shared by live messages and imports (memory/imports.py)."""
    row_id = shared.conn.execute(
        "INSERT INTO messages (chat_id, message_id, sender_id, sender_name, role, text, created_at,"
        " edited_at, reply_to, meta, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.chat_id, message.message_id, message.sender_id, message.sender_name or "",
            message.role, message.text, message.created_at, message.edited_at,
            message.reply_to, json.dumps(message.meta) if message.meta else None,
            index_terms(message.text, message.sender_name or ""),
        ),
    ).lastrowid
    shared.chat_sizes.grow(message.chat_id, 1)
    _write_days(shared.conn, row_id, message.chat_id, (message.meta or {}).get(DAYS))
    return row_id


LONGEST_DAYS = 367 * 86400.0  # no span a message speaks of is longer (a year): bounds the index range read
DAYS = "days"  # meta key: the calendar days a message speaks of, [[start, end], ...] (migrations.m009_message_days)


def _write_days(conn, row_id: int, chat_id: int, days) -> None:
    """The day spans a message speaks of, as rows of message_days (none when `days` is not a list of pairs)."""
    if not isinstance(days, list):
        return
    rows = [(row_id, chat_id, float(s), float(e))
            for s, e in (d for d in days if isinstance(d, list | tuple) and len(d) == 2)]
    conn.executemany("INSERT INTO message_days (id, chat_id, start, end) VALUES (?, ?, ?, ?)", rows)


def _qualified(alias: str) -> str:
    return ", ".join(alias + c.strip() for c in MESSAGE_COLUMNS.split(","))


class Messages:
    """Synchronous and single-connection: use it from one thread (AsyncMessages runs it on the database thread)."""

    def __init__(self, shared: Shared, embeddings: Embeddings):
        self._shared = shared
        self._conn = shared.conn
        self._embeddings = embeddings  # embeds a batch at once when asked to (embed=True)

    # ----- writing -------------------------------------------------------------------------------------------
    def add(self, message: Message) -> Message:
        return self.add_many([message])[0]

    def add_many(self, messages: Sequence[Message], batch_size: int = 256,
                 vectors: np.ndarray | None = None, embed: bool = True) -> list[Message]:
        """Store messages, idempotent on (chat_id, message_id): the same message again changes nothing,
        the same id with another text is an edit. Each batch is one transaction.

        With embed=False the rows are written at once and listed in pending_vectors; their vectors follow with
        Embeddings.embed_pending() (or pending() + write_pending(), which is how the memory keeps the model off
        the database thread). `vectors` (one unit row per message) are stored as given instead of embedding:
        for benchmarks that build large synthetic databases.
        """
        out: list[Message] = []
        for start in range(0, len(messages), batch_size):
            given = None if vectors is None else vectors[start:start + batch_size]
            out.extend(self._add_batch(messages[start:start + batch_size], given, embed))
        return out

    def _add_batch(self, batch: Sequence[Message], given: np.ndarray | None = None,
                   embed: bool = True) -> list[Message]:
        existing = self._existing(batch)
        todo = [m for m in batch if existing.get((m.chat_id, m.message_id), (None, None))[1] != m.text]
        stored: dict[tuple[int, int], Message] = {}
        with self._shared.transaction():
            # Rows first, so each message's previous turn (possibly earlier in this batch) can be read back;
            # then the vectors, in the same transaction.
            for message in todo:
                key = (message.chat_id, message.message_id)
                if key in existing:
                    row_id = existing[key][0]
                    self._conn.execute(
                        "UPDATE messages SET text = ?, terms = ?, edited_at = ? WHERE id = ?",
                        (message.text, index_terms(message.text, message.sender_name or ""),
                         message.edited_at or time.time(), row_id),
                    )
                    # the days it spoke of are read again from the new text (set_days)
                    self._conn.execute("DELETE FROM message_days WHERE id = ?", (row_id,))
                    self._conn.execute("UPDATE messages SET meta = json_remove(meta, '$.days') WHERE id = ? "
                                       "AND meta IS NOT NULL", (row_id,))
                else:
                    row_id = insert(self._shared, message)
                existing[key] = (row_id, message.text)
                stored[key] = replace(message, id=row_id)
            fresh = list({m.id: m for m in stored.values()}.values())
            if fresh and given is not None:
                rows = {(m.chat_id, m.message_id): n for n, m in enumerate(batch)}
                vectors.insert(self._conn, [m.rowid for m in fresh], [m.chat_id for m in fresh],
                               given[[rows[(m.chat_id, m.message_id)] for m in fresh]])
            elif fresh and embed:
                self._embeddings.embed_rows(fresh)
            elif fresh:
                ids = [m.rowid for m in fresh]
                vectors.delete(self._conn, ids)  # an edited message's old vector no longer says what it says
                self._conn.executemany("INSERT OR IGNORE INTO pending_vectors (id) VALUES (?)", [(i,) for i in ids])
        for message in batch:
            key = (message.chat_id, message.message_id)
            if key not in stored:
                stored[key] = replace(message, id=existing[key][0])
        return [stored[(m.chat_id, m.message_id)] for m in batch]

    def _existing(self, batch: Sequence[Message]) -> dict[tuple[int, int], tuple[int, str]]:
        found: dict[tuple[int, int], tuple[int, str]] = {}
        for m in batch:
            row = self._conn.execute(
                "SELECT id, text FROM messages WHERE chat_id = ? AND message_id = ?", (m.chat_id, m.message_id)
            ).fetchone()
            if row:
                found[(m.chat_id, m.message_id)] = (row[0], row[1])
        return found

    def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None,
             embed: bool = True) -> Message | None:
        """Change a stored message's text and re-embed it (or list it as pending); None if it is not stored."""
        current = self.get(chat_id, message_id)
        if current is None:
            return None
        if current.text == text:
            return current
        edited = replace(current, text=text, edited_at=edited_at or time.time())
        return self._add_batch([edited], embed=embed)[0]

    def fill(self, chat_id: int, message_id: int, text: str, meta: dict | None, embed: bool = True
             ) -> Message | None:
        """Give a stored message the text it was waiting for (a voice message's transcript, the text read in a
        picture) and new meta: re-indexed and re-embedded (or listed as pending) as an edit is, but not marked
        edited, since nobody edited it. None if it is not stored (forgotten meanwhile)."""
        current = self.get(chat_id, message_id)
        if current is None:
            return None
        filled = replace(current, text=clean_text(text), meta=meta or None)
        with self._shared.transaction():
            self._conn.execute("UPDATE messages SET text = ?, terms = ?, meta = ? WHERE id = ?",
                               (filled.text, index_terms(filled.text, filled.sender_name or ""),
                                json.dumps(meta) if meta else None, filled.rowid))
            # the days it speaks of are read from the new text (set_days), unless the new meta has them
            self._conn.execute("DELETE FROM message_days WHERE id = ?", (filled.rowid,))
            _write_days(self._conn, filled.rowid, filled.chat_id, (meta or {}).get(DAYS))
            if embed:
                self._embeddings.embed_rows([filled])
            else:
                vectors.delete(self._conn, [filled.rowid])  # the placeholder's vector no longer says what it says
                self._conn.execute("INSERT OR IGNORE INTO pending_vectors (id) VALUES (?)", (filled.rowid,))
        return filled

    def delete_ids(self, chat_id: int, ids: Iterable[int]) -> int:
        """Delete messages of one chat by row id, from all three tables at once."""
        ids = [i for i, m in rows_by_id(self._conn, list(ids)).items() if m.chat_id == chat_id]
        if not ids:
            return 0
        with self._shared.transaction():
            vectors.delete(self._conn, ids)
            self._conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
        self._shared.chat_sizes.forget(chat_id)
        return len(ids)

    def delete(self, chat_id: int, message_id: int) -> bool:
        message = self.get(chat_id, message_id)
        return bool(message and self.delete_ids(chat_id, [message.rowid]))

    def delete_chat(self, chat_id: int) -> int:
        ids = [i for (i,) in self._conn.execute("SELECT id FROM messages WHERE chat_id = ?", (chat_id,))]
        with self._shared.transaction():
            vectors.delete(self._conn, ids)
            self._conn.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))
        self._shared.chat_sizes.forget(chat_id)
        return len(ids)

    def move_chat(self, old: int, new: int) -> int:
        """Carry a chat's memory over to a new chat id (a Telegram group that became a supergroup).

        Message ids restart in the new chat, so moved messages keep theirs negated (Telegram's are positive) and
        the original in meta. vec0 partition keys cannot be updated, and the keyword index holds the chat token:
        both are rewritten (the index of terms by trigger, the Porter index of an older database here). The
        chat's settings and reminders follow. One transaction; returns the messages moved.
        """
        rows = [Message.from_row(r) for r in self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?", (old,))]
        with self._shared.transaction():
            if rows:
                ids = [m.rowid for m in rows]
                stored = vectors.get(self._conn, ids)
                vectors.delete(self._conn, ids)
                legacy = self._shared.keyword_legacy
                for m in rows:
                    if legacy:
                        self._conn.execute(
                            "INSERT INTO messages_fts (messages_fts, rowid, text, sender_name, chat) "
                            "VALUES ('delete', ?, ?, ?, ?)",
                            (m.id, m.text, m.sender_name, migrations.chat_token(old)),
                        )
                    meta = {**(m.meta or {}), "migrated_from": old, "original_message_id": m.message_id}
                    self._conn.execute(
                        "UPDATE messages SET chat_id = ?, message_id = ?, meta = ? WHERE id = ?",
                        (new, -abs(m.message_id), json.dumps(meta), m.id),
                    )
                    self._conn.execute("UPDATE message_days SET chat_id = ? WHERE id = ?", (new, m.id))
                    if legacy:
                        self._conn.execute(
                            "INSERT INTO messages_fts (rowid, text, sender_name, chat) VALUES (?, ?, ?, ?)",
                            (m.id, m.text, m.sender_name, migrations.chat_token(new)),
                        )
                kept = [i for i in ids if i in stored]
                if kept:
                    vectors.insert(self._conn, kept, [new] * len(kept), np.stack([stored[i] for i in kept]))
            self._conn.execute("INSERT OR IGNORE INTO chats (chat_id, timezone, context_since, language, "
                               "language_seen) SELECT ?, timezone, context_since, language, language_seen "
                               "FROM chats WHERE chat_id = ?", (new, old))
            self._conn.execute("UPDATE reminders SET chat_id = ? WHERE chat_id = ?", (new, old))
        self._shared.chat_sizes.forget(old)
        self._shared.chat_sizes.forget(new)
        return len(rows)

    # ----- reading -------------------------------------------------------------------------------------------
    def get(self, chat_id: int, message_id: int) -> Message | None:
        row = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        ).fetchone()
        return Message.from_row(row) if row else None

    def recent(self, chat_id: int, n: int, since: float = 0.0) -> list[Message]:
        """The last n messages of a chat created at or after `since`, oldest first."""
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND created_at >= ? "
            "ORDER BY created_at DESC, id DESC LIMIT ?",
            (chat_id, since, n),
        ).fetchall()
        return [Message.from_row(r) for r in reversed(rows)]

    def next_message_id(self, chat_id: int) -> int:
        """A message id not used yet in this chat (for front ends without their own ids, e.g. the terminal)."""
        row = self._conn.execute("SELECT max(message_id) FROM messages WHERE chat_id = ?", (chat_id,)).fetchone()
        return (row[0] or 0) + 1

    def count(self, chat_id: int | None = None) -> int:
        if chat_id is None:
            return self._conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        return self._conn.execute("SELECT count(*) FROM messages WHERE chat_id = ?", (chat_id,)).fetchone()[0]

    def export(self, chat_id: int) -> list[dict]:
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY created_at, id", (chat_id,)
        )
        return [Message.from_row(r).to_json() for r in rows]

    def stats(self, chat_id: int | None = None) -> dict:
        """Messages (of a chat, or of all) by role, their first and last times, the database's size and model."""
        page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        model = self._embeddings.recorded_model()
        where, args = ("WHERE chat_id = ?", (chat_id,)) if chat_id is not None else ("", ())
        by_role = dict(self._conn.execute(f"SELECT role, count(*) FROM messages {where} GROUP BY role", args))
        first_last = self._conn.execute(f"SELECT min(created_at), max(created_at) FROM messages {where}",
                                        args).fetchone()
        return {
            "messages": sum(by_role.values()),
            "by_role": by_role,
            "chats": self._conn.execute("SELECT count(DISTINCT chat_id) FROM messages").fetchone()[0],
            "first": first_last[0],
            "last": first_last[1],
            "database_bytes": page_size * pages,
            "embedding_model": model[0] if model else None,
            "embedding_dim": model[1] if model else None,
        }

    # ----- the days messages speak of (bot/when/mentions.py reads them) ---------------------------------------
    def set_days(self, days: Sequence[tuple[int, Sequence[tuple[float, float]]]]) -> None:
        """Record the day spans each message (by row id) speaks of, replacing what was recorded; an empty list
        records that it speaks of none (it is read no more)."""
        with self._shared.transaction():
            for row_id, spans in days:
                pairs = [[float(s), float(e)] for s, e in spans]
                self._conn.execute("DELETE FROM message_days WHERE id = ?", (row_id,))
                row = self._conn.execute(
                    "UPDATE messages SET meta = json_set(coalesce(meta, '{}'), '$.days', json(?)) WHERE id = ? "
                    "RETURNING chat_id", (json.dumps(pairs), row_id)).fetchone()
                if row is not None:
                    _write_days(self._conn, row_id, row[0], pairs)

    def undated(self, after_id: int, limit: int) -> list[tuple[int, int, str, float]]:
        """(row id, chat id, text, created at) of people's messages whose days were never read, from `after_id` on."""
        return self._conn.execute(
            "SELECT id, chat_id, text, created_at FROM messages WHERE id > ? AND role = 'user' "
            "AND (meta IS NULL OR json_type(meta, '$.days') IS NULL) ORDER BY id LIMIT ?", (after_id, limit)
        ).fetchall()

    def speaking_of(self, chat_id: int, start: float, end: float, limit: int = 50) -> list[Message]:
        """People's messages of a chat that speak of a day within [start, end), by the first such day."""
        rows = self._conn.execute(
            f"SELECT {_qualified('m.')}, min(d.start) AS first FROM message_days d JOIN messages m ON m.id = d.id "
            f"WHERE d.chat_id = ? AND d.start < ? AND d.start > ? AND d.end > ? AND m.role = 'user' "
            f"AND {evidence_sql('m.')} GROUP BY m.id ORDER BY first, m.id LIMIT ?",
            (chat_id, end, start - LONGEST_DAYS, start, limit)
        ).fetchall()
        return [Message.from_row(r[:-1]) for r in rows]

    def said_between(self, chat_id: int, start: float, end: float, limit: int = 50) -> list[Message]:
        """People's messages of a chat written within [start, end), oldest first (the newest `limit`)."""
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND created_at >= ? AND created_at < ? "
            f"AND role = 'user' AND {evidence_sql()} ORDER BY created_at DESC, id DESC LIMIT ?",
            (chat_id, start, end, limit)).fetchall()
        return [Message.from_row(r) for r in reversed(rows)]

    def told_by(self, chat_id: int, sender_id: int | None, sender_name: str, limit: int = 200) -> list[Message]:
        """What one person (by id, or by name when the id is not known) wrote in a chat, newest first."""
        who, args = ("sender_id = ?", sender_id) if sender_id is not None else ("sender_name = ?", sender_name)
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND role = 'user' AND {who} "
            f"AND {evidence_sql()} ORDER BY created_at DESC, id DESC LIMIT ?", (chat_id, args, limit)
        ).fetchall()
        return [Message.from_row(r) for r in rows]

    # ----- per-chat settings ---------------------------------------------------------------------------------
    def chat_settings(self, chat_id: int) -> dict:
        row = self._conn.execute("SELECT timezone, context_since, language, language_seen FROM chats "
                                 "WHERE chat_id = ?", (chat_id,)).fetchone()
        if row is None:
            return {"timezone": None, "context_since": 0.0, "language": None, "language_seen": None}
        return {"timezone": row[0], "context_since": row[1], "language": row[2], "language_seen": row[3]}

    def set_chat_setting(self, chat_id: int, **values) -> None:
        allowed = {"timezone", "context_since", "language", "language_seen"}
        if not values or set(values) - allowed:
            raise ValueError(f"chat settings are {sorted(allowed)}")
        with self._shared.transaction():
            self._conn.execute("INSERT OR IGNORE INTO chats (chat_id) VALUES (?)", (chat_id,))
            for key, value in values.items():
                self._conn.execute(f"UPDATE chats SET {key} = ? WHERE chat_id = ?", (value, chat_id))


class AsyncMessages:
    """What the bot, the terminal chat and the tools do with messages (memory.messages), off the event loop.

    Storing a message writes its row and keyword entry at once; its vector follows from the background queue
    (EmbeddingQueue), so a burst of messages is stored in milliseconds each and the model works in batches.
    Recall, search and the whole-chat reads first embed whatever of their chat is still pending ("read your
    writes"): a reply never misses a message stored before it.
    """

    def __init__(self, threads: Threads, messages: Messages, search: Search, corpora: Corpora,
                 queue: EmbeddingQueue):
        self._threads = threads
        self._messages = messages
        self._search = search
        self._corpora = corpora
        self._queue = queue
        self.recall_latencies: list[float] = []  # seconds, since start (for /stats)

    # ----- writing -------------------------------------------------------------------------------------------
    async def remember(self, message: Message) -> Message:
        """Store a message (row and keyword entry now, its vector from the background queue)."""
        (stored,) = await self.remember_many([message])
        return stored

    async def remember_many(self, messages: Sequence[Message]) -> list[Message]:
        stored = await self._threads.run(self._messages.add_many, messages, embed=False)
        self._queue.wake()
        return stored

    async def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None) -> Message | None:
        edited = await self._threads.run(self._messages.edit, chat_id, message_id, text, edited_at, embed=False)
        self._queue.wake()
        return edited

    async def fill(self, chat_id: int, message_id: int, text: str, meta: dict | None) -> Message | None:
        """Messages.fill off the event loop: a transcript or the text of a picture, its vector from the queue."""
        filled = await self._threads.run(self._messages.fill, chat_id, message_id, text, meta, embed=False)
        self._queue.wake()
        return filled

    async def forget(self, chat_id: int, message_id: int) -> bool:
        return await self._threads.run(self._messages.delete, chat_id, message_id)

    async def forget_ids(self, chat_id: int, ids: Iterable[int]) -> int:
        return await self._threads.run(self._messages.delete_ids, chat_id, list(ids))

    async def forget_chat(self, chat_id: int) -> int:
        return await self._threads.run(self._messages.delete_chat, chat_id)

    async def move_chat(self, old: int, new: int) -> int:
        return await self._threads.run(self._messages.move_chat, old, new)

    async def set_chat_setting(self, chat_id: int, **values) -> None:
        await self._threads.run(self._messages.set_chat_setting, chat_id, **values)

    async def set_days(self, days: Sequence[tuple[int, Sequence[tuple[float, float]]]]) -> None:
        await self._threads.run(self._messages.set_days, days)

    async def undated(self, after_id: int, limit: int = 500) -> list[tuple[int, int, str, float]]:
        return await self._threads.run(self._messages.undated, after_id, limit)

    async def speaking_of(self, chat_id: int, start: float, end: float, limit: int = 50) -> list[Message]:
        return await self._threads.run(self._messages.speaking_of, chat_id, start, end, limit)

    async def said_between(self, chat_id: int, start: float, end: float, limit: int = 50) -> list[Message]:
        return await self._threads.run(self._messages.said_between, chat_id, start, end, limit)

    async def told_by(self, chat_id: int, sender_id: int | None, sender_name: str, limit: int = 200
                      ) -> list[Message]:
        return await self._threads.run(self._messages.told_by, chat_id, sender_id, sender_name, limit)

    # ----- reading -------------------------------------------------------------------------------------------
    async def get(self, chat_id: int, message_id: int) -> Message | None:
        return await self._threads.run(self._messages.get, chat_id, message_id)

    async def recent(self, chat_id: int, n: int, since: float = 0.0) -> list[Message]:
        return await self._threads.run(self._messages.recent, chat_id, n, since)

    async def count(self, chat_id: int | None = None) -> int:
        return await self._threads.run(self._messages.count, chat_id)

    async def next_message_id(self, chat_id: int) -> int:
        """A message id not used yet in this chat (for front ends without ids of their own: the terminal)."""
        return await self._threads.run(self._messages.next_message_id, chat_id)

    async def export(self, chat_id: int) -> list[dict]:
        return await self._threads.run(self._messages.export, chat_id)

    async def stats(self, chat_id: int | None = None) -> dict:
        return await self._threads.run(self._messages.stats, chat_id)

    async def chat_settings(self, chat_id: int) -> dict:
        return await self._threads.run(self._messages.chat_settings, chat_id)

    # ----- finding (memory/search.py) ---------------------------------------------------------------------------
    async def recall(self, chat_id: int, query: str, k: int = 6, *, exclude_ids: Iterable[int] = (),
                     method: RecallMethod | str = RecallMethod.HYBRID, window: tuple[float, float] | None = None,
                     keyword_query: str | None = None) -> list[Hit]:
        """Search.recall off the event loop; `window` and `keyword_query` come from bot/when/phrases (see there)."""
        started = time.perf_counter()
        query = clean_text(query)
        await self._queue.flush(chat_id)
        method = RecallMethod(method)
        query_vector = (await self._threads.embed_queries([query]))[0] if method is not RecallMethod.KEYWORD else None
        hits = await self._threads.run(self._search.recall, chat_id, query, k, exclude_ids=list(exclude_ids),
                                       method=method, query_vector=query_vector, window=window,
                                       keyword_query=keyword_query)
        self.recall_latencies.append(time.perf_counter() - started)
        del self.recall_latencies[:-1000]
        return hits

    async def search(self, chat_id: int, query: str, k: int = 10, *, window: tuple[float, float] | None = None,
                     keyword_query: str | None = None) -> list[Hit]:
        """User-facing search (/search): hybrid, no exclusions, no recency prior."""
        return await self.recall(chat_id, query, k, window=window, keyword_query=keyword_query)

    async def matching(self, chat_id: int, query: str, limit: int = 100) -> list[Message]:
        """Messages containing every word of the query, newest first (what /forget <query> offers to delete)."""
        return await self._threads.run(self._search.matching, chat_id, clean_text(query), limit)

    # ----- a whole chat at once (memory/corpus.py) -------------------------------------------------------------
    async def chat_vectors(self, chat_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and vectors of every message of a chat (pending ones embedded first)."""
        await self._queue.flush(chat_id)
        return await self._threads.run(self._corpora.chat_vectors, chat_id)

    async def chat_corpus(self, chat_id: int, window: tuple[float, float] = FOREVER) -> ChatCorpus:
        """A chat's messages of a window [start, end) as arrays with their vectors (pending ones embedded first)."""
        await self._queue.flush(chat_id)
        return await self._threads.run(self._corpora.chat_corpus, chat_id, *window)

    async def times_matching(self, chat_id: int, query: np.ndarray, similarity: float, words: Sequence[str]
                             ) -> np.ndarray:
        """When a chat's messages close to `query` (cosine >= similarity) or containing all `words` were written,
        read a chunk at a time (pending ones embedded first)."""
        await self._queue.flush(chat_id)
        return await self._threads.run(self._corpora.times_matching, chat_id, query, similarity, list(words))

    async def window_state(self, chat_id: int, window: tuple[float, float] = FOREVER, upto: int = 0) -> WindowState:
        """How many messages a window of a chat holds, its newest id, and how many of them have ids <= upto."""
        return await self._threads.run(self._corpora.window_state, chat_id, *window, upto)

    async def messages_by_ids(self, chat_id: int, ids: Sequence[int]) -> list[Message]:
        """The chat's messages with these row ids, in that order (others' and deleted ones left out)."""
        return await self._threads.run(self._corpora.messages_by_ids, chat_id, list(ids))
