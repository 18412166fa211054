"""The message store: every SQL statement about messages, their vectors and their keyword index.

Synchronous and single-connection: use it from one thread (memory.service.Memory runs it on a worker thread).
Each write is one transaction over the three tables (messages, vectors, FTS5 via triggers): a crash leaves
committed messages complete and nothing half-written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from memory import db, maintenance, migrations, recall, vectors
from memory.corpus import Corpora
from memory.embedded import Embedded, embedding_input
from memory.embedder import Embedder
from memory.imports import Importing
from memory.inbox import Inbox
from memory.models import MESSAGE_COLUMNS, Message, OnModelChange
from memory.reminders import Reminders
from memory.search import Searching


class Store(Searching, Importing, Corpora, Embedded, Inbox):
    def __init__(self, conn, embedder: Embedder, path: str, fusion: recall.FusionParams | None = None):
        self._conn = conn  # private to memory/: everything else goes through the methods
        self.embedder = embedder
        self.path = path
        self.fusion = fusion or recall.FusionParams()
        self.reminders = Reminders(conn, self.add)
        self._chat_sizes: dict[int, int] = {}  # messages per chat, counted once, kept up to date by the writes

    # ----- opening -------------------------------------------------------------------------------------------
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
        conn = db.connect(path)
        try:
            migrations.migrate(conn)
            store = cls(conn, embedder, str(path), fusion)
            store._check_model(on_model_change, progress)
        except BaseException:
            conn.close()
            raise
        return store

    def close(self) -> None:
        self._conn.close()

    # ----- writing -------------------------------------------------------------------------------------------
    def _transaction(self):
        return db.transaction(self._conn)

    def add(self, message: Message) -> Message:
        return self.add_many([message])[0]

    def add_many(self, messages: Sequence[Message], batch_size: int = 256,
                 vectors: np.ndarray | None = None, embed: bool = True) -> list[Message]:
        """Store messages, idempotent on (chat_id, message_id): the same message again changes nothing,
        the same id with another text is an edit. Each batch is one transaction.

        With embed=False the rows are written at once and listed in pending_vectors; their vectors follow with
        embed_pending() (or pending_embeddings() + write_vectors(), which is how Memory keeps the model off the
        database thread). `vectors` (one unit row per message) are stored as given instead of embedding: for
        benchmarks that build large synthetic databases.
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
        with self._transaction():
            # Rows first, so each message's previous turn (possibly earlier in this batch) can be read back;
            # then the vectors, in the same transaction.
            for message in todo:
                key = (message.chat_id, message.message_id)
                if key in existing:
                    row_id = existing[key][0]
                    self._conn.execute(
                        "UPDATE messages SET text = ?, edited_at = ? WHERE id = ?",
                        (message.text, message.edited_at or time.time(), row_id),
                    )
                else:
                    row_id = self._insert(message)
                existing[key] = (row_id, message.text)
                stored[key] = replace(message, id=row_id)
            fresh = list({m.id: m for m in stored.values()}.values())
            if fresh and given is not None:
                rows = {(m.chat_id, m.message_id): n for n, m in enumerate(batch)}
                vectors.insert(self._conn, [m.rowid for m in fresh], [m.chat_id for m in fresh],
                               given[[rows[(m.chat_id, m.message_id)] for m in fresh]])
            elif fresh and embed:
                self._embed_rows(fresh)
            elif fresh:
                ids = [m.rowid for m in fresh]
                vectors.delete(self._conn, ids)  # an edited message's old vector no longer says what it says
                self._conn.executemany("INSERT OR IGNORE INTO pending_vectors (id) VALUES (?)", [(i,) for i in ids])
        for message in batch:
            key = (message.chat_id, message.message_id)
            if key not in stored:
                stored[key] = replace(message, id=existing[key][0])
        return [stored[(m.chat_id, m.message_id)] for m in batch]

    def _insert(self, message: Message) -> int:
        """Insert a new message row (its keyword entry follows by trigger); returns its row id. Inside a
        transaction."""
        row_id = self._conn.execute(
            "INSERT INTO messages (chat_id, message_id, sender_id, sender_name, role, text, created_at,"
            " edited_at, reply_to, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.chat_id, message.message_id, message.sender_id, message.sender_name or "",
                message.role, message.text, message.created_at, message.edited_at,
                message.reply_to, json.dumps(message.meta) if message.meta else None,
            ),
        ).lastrowid
        self._grow_chat_size(message.chat_id, 1)
        return row_id

    def _embed_rows(self, messages: Sequence[Message]) -> None:
        """Embed stored messages, one model pass each ("Sender: text"), and write their vectors. Inside a
        transaction."""
        embedded = self.embedder.embed_batch([embedding_input(m) for m in messages])
        self._write_vectors([m.rowid for m in messages], embedded)

    def _write_vectors(self, ids: list[int], embedded: np.ndarray) -> None:
        """Write vectors of stored messages (under each message's current chat). Inside a transaction."""
        chats = dict(db.rows_in(self._conn, "SELECT id, chat_id FROM messages WHERE id IN ({marks})", ids))
        vectors.insert(self._conn, ids, [chats[i] for i in ids], embedded)
        self._conn.executemany("DELETE FROM pending_vectors WHERE id = ?", [(i,) for i in ids])

    def _grow_chat_size(self, chat_id: int, n: int) -> None:
        if chat_id in self._chat_sizes:
            self._chat_sizes[chat_id] += n

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

    def delete_ids(self, chat_id: int, ids: Iterable[int]) -> int:
        """Delete messages of one chat by row id, from all three tables at once."""
        ids = [i for i, m in self.get_rows(list(ids)).items() if m.chat_id == chat_id]
        if not ids:
            return 0
        with self._transaction():
            vectors.delete(self._conn, ids)
            self._conn.executemany("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])
        self._forget_chat_size(chat_id)
        return len(ids)

    def delete(self, chat_id: int, message_id: int) -> bool:
        message = self.get(chat_id, message_id)
        return bool(message and self.delete_ids(chat_id, [message.rowid]))

    def delete_chat(self, chat_id: int) -> int:
        ids = [i for (i,) in self._conn.execute("SELECT id FROM messages WHERE chat_id = ?", (chat_id,))]
        with self._transaction():
            vectors.delete(self._conn, ids)
            self._conn.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))
        self._forget_chat_size(chat_id)
        return len(ids)

    def move_chat(self, old: int, new: int) -> int:
        """Carry a chat's memory over to a new chat id (a Telegram group that became a supergroup).

        Message ids restart in the new chat, so moved messages keep theirs negated (Telegram's are positive) and
        the original in meta. vec0 partition keys cannot be updated, and the keyword index holds the chat token:
        both are rewritten. One transaction; returns the messages moved.
        """
        rows = [Message.from_row(r) for r in self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ?", (old,))]
        with self._transaction():
            if rows:
                ids = [m.rowid for m in rows]
                stored = vectors.get(self._conn, ids)
                vectors.delete(self._conn, ids)
                for m in rows:
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
                    self._conn.execute(
                        "INSERT INTO messages_fts (rowid, text, sender_name, chat) VALUES (?, ?, ?, ?)",
                        (m.id, m.text, m.sender_name, migrations.chat_token(new)),
                    )
                kept = [i for i in ids if i in stored]
                if kept:
                    vectors.insert(self._conn, kept, [new] * len(kept), np.stack([stored[i] for i in kept]))
            self._conn.execute("INSERT OR IGNORE INTO chats (chat_id, timezone, context_since) "
                              "SELECT ?, timezone, context_since FROM chats WHERE chat_id = ?", (new, old))
            self._conn.execute("UPDATE reminders SET chat_id = ? WHERE chat_id = ?", (new, old))
        self._forget_chat_size(old)
        self._forget_chat_size(new)
        return len(rows)

    def delete_older_than(self, cutoff: float) -> int:
        """Retention: delete every message created before `cutoff` (Unix time), in all chats."""
        deleted = 0
        for (chat_id,) in self._conn.execute(
            "SELECT DISTINCT chat_id FROM messages WHERE created_at < ?", (cutoff,)
        ).fetchall():
            ids = [i for (i,) in self._conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND created_at < ?", (chat_id, cutoff)
            )]
            deleted += self.delete_ids(chat_id, ids)
        return deleted

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

    def chat_vectors(self, chat_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and float32 unit vectors of every message of a chat (a brute-force scan, topics)."""
        rows = self._conn.execute(
            "SELECT m.id, v.embedding FROM messages m JOIN message_vectors v ON v.id = m.id WHERE m.chat_id = ? "
            "ORDER BY m.id", (chat_id,),
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.array([r[0] for r in rows], dtype=np.int64), vectors.matrix_from_blobs([r[1] for r in rows])

    def check(self) -> dict:
        """SQLite's integrity check, the keyword index's own check, and whether every message has both its float
        and its quantised vector or is listed as pending, with nothing left over ("consistent")."""
        def one(sql: str):
            return self._conn.execute(sql).fetchone()[0]

        try:
            self._conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            keyword_index = "ok"
        except db.operational_error() as exc:
            keyword_index = str(exc)
        # Every message has its vectors or is listed as pending (never both); nothing without a message.
        with_vector = "SELECT id FROM (SELECT id FROM message_vectors UNION ALL SELECT id FROM pending_vectors)"
        differ = sum(one(f"SELECT count(*) FROM ({a} {op} {b})") for a, op, b in (
            ("SELECT id FROM messages", "EXCEPT", with_vector),
            (with_vector, "EXCEPT", "SELECT id FROM messages"),
            ("SELECT id FROM message_vectors", "EXCEPT", f"SELECT rowid FROM {vectors.TABLE}"),
            (f"SELECT rowid FROM {vectors.TABLE}", "EXCEPT", "SELECT id FROM message_vectors"),
            ("SELECT id FROM message_vectors", "INTERSECT", "SELECT id FROM pending_vectors"),
        ))
        return {
            "integrity": one("PRAGMA integrity_check"),
            "keyword_index": keyword_index,
            "messages": one("SELECT count(*) FROM messages"),
            "vectors": one("SELECT count(*) FROM message_vectors"),
            "pending_vectors": one("SELECT count(*) FROM pending_vectors"),
            "keyword_rows": one("SELECT count(*) FROM messages_fts_docsize"),
            "consistent": differ == 0 and keyword_index == "ok",
            "journal_mode": one("PRAGMA journal_mode"),
            "busy_timeout_ms": one("PRAGMA busy_timeout"),
        }

    def checkpoint(self) -> tuple[int, int, int]:
        return maintenance.checkpoint(self._conn)

    def export(self, chat_id: int) -> list[dict]:
        rows = self._conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY created_at, id", (chat_id,)
        )
        return [Message.from_row(r).to_json() for r in rows]

    def stats(self, chat_id: int | None = None) -> dict:
        page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        model = self.recorded_model()
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

    # ----- per-chat settings ---------------------------------------------------------------------------------
    def chat_settings(self, chat_id: int) -> dict:
        row = self._conn.execute("SELECT timezone, context_since FROM chats WHERE chat_id = ?", (chat_id,)).fetchone()
        return {"timezone": row[0], "context_since": row[1]} if row else {"timezone": None, "context_since": 0.0}

    def set_chat_setting(self, chat_id: int, **values) -> None:
        allowed = {"timezone", "context_since"}
        if not values or set(values) - allowed:
            raise ValueError(f"chat settings are {sorted(allowed)}")
        with self._transaction():
            self._conn.execute("INSERT OR IGNORE INTO chats (chat_id) VALUES (?)", (chat_id,))
            for key, value in values.items():
                self._conn.execute(f"UPDATE chats SET {key} = ? WHERE chat_id = ?", (value, chat_id))
