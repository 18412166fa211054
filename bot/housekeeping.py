"""Housekeeping jobs for a long-running bot: WAL checkpoint + PRAGMA optimize, daily online backup, retention.

Why the backup opens its own connection, in a worker thread, instead of using the memory's connection:
the memory connection lives on the memory thread, and a backup there would stall every recall and every write
for as long as it copies. Under WAL a second connection is safe: `backup()` with the default pages=-1 copies the
whole database in one step, i.e. inside one read transaction, so it sees one consistent snapshot (every
transaction committed before it began, none after) while the memory thread keeps writing. Copying in several
steps would not be safe the same way: SQLite restarts a stepwise backup whenever another connection writes.
The copy is checked (quick_check), switched out of WAL so it is one self-contained file, and renamed into place
only when complete: a crash never leaves a half-written file that looks like a backup.

The checkpoint runs on the memory thread (it needs no second connection) and never during a backup: both hold a
lock of their own, and TRUNCATE would otherwise wait for the backup's read transaction to end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.errors import EngramError
from memory import db

log = logging.getLogger(__name__)

BACKUP_PREFIX = "engram-"
BACKUP_SUFFIX = ".db"
CATCH_UP_DELAY = 300.0  # seconds after start before a missed daily backup is taken


class HousekeepingError(EngramError):
    """A backup could not be made or failed its check."""


# ----- the work itself (synchronous, testable) -----------------------------------------------------------------

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
        raise HousekeepingError(f"the backup failed its check: {verdict}")
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


# ----- the jobs ------------------------------------------------------------------------------------------------

class Housekeeping:
    """Schedules the jobs on PTB's JobQueue. Each can also be called directly (tests, a CLI command)."""

    def __init__(self, memory, config, *, backup_dir: Path | None, tz: str = "UTC",
                 clock=lambda: datetime.now(timezone.utc)):
        self.memory = memory
        self.config = config  # bot.config.HousekeepingConfig
        self.backup_dir = backup_dir
        self.tz = tz
        self.clock = clock
        self._lock = asyncio.Lock()
        self._jobs: list = []

    @classmethod
    def from_config(cls, memory, config) -> "Housekeeping":
        """From the whole bot.config.Config: paths resolved against the config file's folder."""
        h = config.housekeeping
        backup_dir = config.resolve(h.backup_dir) if h.backup_dir else None
        return cls(memory, h, backup_dir=backup_dir, tz=config.reminders.timezone)

    def schedule(self, job_queue) -> list:
        h = self.config
        kwargs = {"job_kwargs": {"misfire_grace_time": 3600, "coalesce": True}}
        if h.checkpoint_minutes > 0:
            seconds = h.checkpoint_minutes * 60
            self._jobs.append(job_queue.run_repeating(self._job(self.checkpoint), interval=seconds, first=seconds,
                                                      name="housekeeping:checkpoint", **kwargs))
        at = dtime(h.backup_hour, 0, tzinfo=ZoneInfo(self.tz))
        if self.backup_dir is not None:
            self._jobs.append(job_queue.run_daily(self._job(self.backup), time=at, name="housekeeping:backup",
                                                  **kwargs))
            newest = list_backups(self.backup_dir)[-1:] or None
            if newest is None or time.time() - newest[0].stat().st_mtime > 25 * 3600:
                self._jobs.append(job_queue.run_once(self._job(self.backup), when=CATCH_UP_DELAY,
                                                     name="housekeeping:backup-catch-up", **kwargs))
        if h.retention_days > 0:
            later = dtime(h.backup_hour, 30, tzinfo=ZoneInfo(self.tz))
            self._jobs.append(job_queue.run_daily(self._job(self.apply_retention), time=later,
                                                  name="housekeeping:retention", **kwargs))
        return self._jobs

    def unschedule(self) -> None:
        for job in self._jobs:
            try:
                job.schedule_removal()
            except Exception:  # already ran (the catch-up backup) or the queue is shut down
                pass
        self._jobs.clear()

    @staticmethod
    def _job(method):
        async def callback(context) -> None:
            try:
                await method()
            except Exception:  # a failed backup must not take the bot down; the log says why
                log.exception("housekeeping job %s failed", method.__name__)
        callback.__name__ = method.__name__
        return callback

    async def checkpoint(self) -> tuple[int, int, int]:
        async with self._lock:
            result = await self.memory.call(lambda store: checkpoint(store.conn))
        log.info("checkpoint (busy, wal pages, checkpointed): %s", result)
        return result

    async def backup(self) -> Path:
        if self.backup_dir is None:
            raise HousekeepingError("no housekeeping.backup_dir is configured")
        async with self._lock:
            return await asyncio.to_thread(backup_database, self.memory.path, self.backup_dir,
                                           self.config.backup_keep, self.clock())

    async def apply_retention(self) -> int:
        """Delete messages older than retention_days (0 = keep forever); returns how many went."""
        if self.config.retention_days <= 0:
            return 0
        cutoff = (self.clock() - timedelta(days=self.config.retention_days)).timestamp()
        async with self._lock:
            deleted = await self.memory.call(lambda store: store.delete_older_than(cutoff))
        log.info("retention: deleted %d messages older than %s days", deleted, self.config.retention_days)
        return deleted
