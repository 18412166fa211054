"""Housekeeping jobs for a long-running bot, on PTB's JobQueue: WAL checkpoint + PRAGMA optimize, a daily online
backup, retention. The work itself is the memory's (memory/maintenance.py says why a backup is safe while the bot
writes); this module only decides when, and never runs a checkpoint during a backup (TRUNCATE would wait for
the backup's read transaction).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import Config, HousekeepingConfig
from bot.errors import EngramError
from memory import Memory
from memory.maintenance import list_backups

log = logging.getLogger(__name__)

CATCH_UP_DELAY = 300.0  # seconds after start before a missed daily backup is taken


class HousekeepingError(EngramError):
    """Housekeeping was asked for something the configuration does not allow."""


class Housekeeping:
    """Schedules the jobs on PTB's JobQueue. Each can also be called directly (tests, a CLI command)."""

    def __init__(self, memory: Memory, config: HousekeepingConfig, *, backup_dir: Path | None, tz: str = "UTC",
                 clock=lambda: datetime.now(timezone.utc)):
        self.memory = memory
        self.config = config
        self.backup_dir = backup_dir
        self.tz = tz
        self.clock = clock
        self._lock = asyncio.Lock()
        self._jobs: list = []

    @classmethod
    def from_config(cls, memory: Memory, config: Config) -> Housekeeping:
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
            result = await self.memory.maintenance.checkpoint()
        log.info("checkpoint (busy, wal pages, checkpointed): %s", result)
        return result

    async def backup(self) -> Path:
        if self.backup_dir is None:
            raise HousekeepingError("no housekeeping.backup_dir is configured")
        async with self._lock:
            return await self.memory.maintenance.backup(self.backup_dir, self.config.backup_keep, self.clock())

    async def apply_retention(self) -> int:
        """Delete messages older than retention_days (0 = keep forever); returns how many went."""
        if self.config.retention_days <= 0:
            return 0
        cutoff = (self.clock() - timedelta(days=self.config.retention_days)).timestamp()
        async with self._lock:
            deleted = await self.memory.maintenance.delete_older_than(cutoff)
        log.info("retention: deleted %d messages older than %s days", deleted, self.config.retention_days)
        return deleted
