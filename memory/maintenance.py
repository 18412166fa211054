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
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from memory import db
from memory.errors import MemoryStoreError

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
