"""Keeping a long-lived database healthy: WAL checkpoint + PRAGMA optimize, online backups, pruning of old backups.

Why the backup opens its own connection, in a worker thread, instead of using the memory's connection:
the memory connection lives on the memory thread, and a backup there would stall every recall and every write
for as long as it copies. Under WAL a second connection is safe: `backup()` with the default pages=-1 copies the
whole database in one step, i.e. inside one read transaction, so it sees one consistent snapshot (every
transaction committed before it began, none after) while the memory thread keeps writing. Copying in several
steps would not be safe the same way: SQLite restarts a stepwise backup whenever another connection writes.
The copy is checked (quick_check), switched out of WAL so it is one self-contained file, and renamed into place
only when complete: a crash never leaves a half-written file that looks like a backup.

The checkpoint runs on the memory thread (it needs no second connection); bot/housekeeping.py never runs it
during a backup, since TRUNCATE would otherwise wait for the backup's read transaction to end.

`Maintenance` is the store's part for this (with the consistency check and retention), `AsyncMaintenance` its
async face (memory.maintenance).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from memory import db, vectors
from memory.errors import MemoryStoreError
from memory.messages import Messages
from memory.shared import Shared
from memory.threads import Threads

log = logging.getLogger(__name__)

BACKUP_PREFIX = "engram-"
BACKUP_SUFFIX = ".db"


class BackupError(MemoryStoreError):
    """A backup could not be made or failed its check."""


def checkpoint(conn, busy_ms: int = 2000) -> tuple[int, int, int]:
    """Let SQLite refresh its statistics, then checkpoint the WAL and truncate it. Returns (busy, log, done).

    busy_timeout is lowered meanwhile so that a reader in another process (./engram stats) delays the memory
    thread for at most busy_ms; a busy checkpoint is not an error, the next one catches up.
    """
    conn.execute("PRAGMA optimize")  # first: it may write statistics, which the checkpoint then folds in
    previous = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    try:
        return tuple(conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone())
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(previous)}")


def backup_database(db_path: str | Path, backup_dir: str | Path, keep: int, now: datetime | None = None) -> Path:
    """Copy the live database to backup_dir/engram-YYYYmmdd-HHMMSS.db and keep only the newest `keep`."""
    sqlite = db.sqlite_module()
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    final = backup_dir / f"{BACKUP_PREFIX}{stamp}{BACKUP_SUFFIX}"
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    source = sqlite.connect(str(db_path), timeout=30, isolation_level=None)
    try:
        target = sqlite.connect(str(partial), isolation_level=None)
        try:
            source.backup(target)  # pages=-1: one step, one read transaction, one consistent snapshot
            target.execute("PRAGMA journal_mode=DELETE")
            verdict = target.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            target.close()
    finally:
        source.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup failed its check: {verdict}")
    os.replace(partial, final)
    prune_backups(backup_dir, keep)
    log.info("backup %s (%d bytes) in %.2f s", final, final.stat().st_size, time.perf_counter() - started)
    return final


def list_backups(backup_dir: str | Path) -> list[Path]:
    """Completed backups, oldest first (the names sort by time)."""
    folder = Path(backup_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}") if p.is_file())


def prune_backups(backup_dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (and leftovers of interrupted ones); returns what was deleted."""
    backups = list_backups(backup_dir)
    doomed = backups[:-keep] if keep > 0 else backups
    doomed += list(Path(backup_dir).glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}.partial"))
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


class Maintenance:
    """The store's upkeep: the consistency check, the checkpoint and retention (synchronous, on the database
    thread; backups use a connection of their own, see above)."""

    def __init__(self, shared: Shared, messages: Messages):
        self._conn = shared.conn
        self._shared = shared
        self._messages = messages  # retention deletes through it, so the chat sizes stay right

    def check(self) -> dict:
        """SQLite's integrity check, the keyword index's own check, and whether every message has both its float
        and its quantised vector or is listed as pending, with nothing left over ("consistent")."""
        def one(sql: str):
            return self._conn.execute(sql).fetchone()[0]

        keyword_index = "ok"
        for table in ("messages_terms", "messages_fts") if self._shared.keyword_legacy else ("messages_terms",):
            try:
                self._conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
            except db.operational_error() as exc:
                keyword_index = f"{table}: {exc}"
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
            "keyword_rows": one("SELECT count(*) FROM messages_terms_docsize"),
            "keyword_pending": one("SELECT count(*) FROM messages WHERE terms IS NULL"),
            "consistent": differ == 0 and keyword_index == "ok",
            "journal_mode": one("PRAGMA journal_mode"),
            "busy_timeout_ms": one("PRAGMA busy_timeout"),
        }

    def checkpoint(self) -> tuple[int, int, int]:
        return checkpoint(self._conn)  # the module's function above

    def delete_older_than(self, cutoff: float) -> int:
        """Retention: delete every message created before `cutoff` (Unix time), in all chats."""
        deleted = 0
        for (chat_id,) in self._conn.execute(
            "SELECT DISTINCT chat_id FROM messages WHERE created_at < ?", (cutoff,)
        ).fetchall():
            ids = [i for (i,) in self._conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND created_at < ?", (chat_id, cutoff)
            )]
            deleted += self._messages.delete_ids(chat_id, ids)
        return deleted


class AsyncMaintenance:
    """Housekeeping off the event loop (memory.maintenance), for bot/housekeeping.py and the tools."""

    def __init__(self, threads: Threads, maintenance: Maintenance, path: str | Path):
        self._threads = threads
        self._maintenance = maintenance
        self._path = path

    async def check(self) -> dict:
        """Integrity and consistency of the database (Maintenance.check)."""
        return await self._threads.run(self._maintenance.check)

    async def checkpoint(self) -> tuple[int, int, int]:
        """WAL checkpoint + PRAGMA optimize, on the memory thread."""
        return await self._threads.run(self._maintenance.checkpoint)

    async def backup(self, backup_dir: str | Path, keep: int, now: datetime | None = None) -> Path:
        """An online backup from a second connection in a worker thread: the memory thread keeps working."""
        return await asyncio.to_thread(backup_database, self._path, backup_dir, keep, now)

    async def delete_older_than(self, cutoff: float) -> int:
        """Retention: delete every message created before `cutoff` (Unix time), in all chats."""
        return await self._threads.run(self._maintenance.delete_older_than, cutoff)
