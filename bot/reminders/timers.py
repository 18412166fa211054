"""The timers a ReminderService runs on: PTB's JobQueue under Telegram, plain asyncio in the terminal chat.

The service decides what fires when (bot/reminders/service.py); a `Timers` only calls it back after a delay, once
or every so often. `JobQueueTimers` wraps a python-telegram-bot JobQueue without importing telegram (bot/ never
does); `AsyncioTimers` needs nothing but the running event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]
# APScheduler's defaults would drop a timer that is 1 s late, or run a missed one several times.
JOB_KWARGS: dict[str, Any] = {"misfire_grace_time": None, "coalesce": True}


class Timer(Protocol):
    def cancel(self) -> None:
        """Stop it from firing (again). A callback already running is left to finish."""


class Timers(Protocol):
    def once(self, delay: float, callback: Callback, name: str) -> Timer:
        """Call `callback` once, `delay` seconds from now."""

    def every(self, interval: float, callback: Callback, name: str) -> Timer:
        """Call `callback` every `interval` seconds, the first time `interval` seconds from now."""


class JobQueueTimers:
    """Timers on a python-telegram-bot JobQueue (the Telegram bot's, started and stopped with its Application)."""

    def __init__(self, job_queue: Any) -> None:
        self.job_queue = job_queue

    def once(self, delay: float, callback: Callback, name: str) -> Timer:
        return _Job(self.job_queue.run_once(_job_callback(callback), when=delay, name=name, job_kwargs=JOB_KWARGS))

    def every(self, interval: float, callback: Callback, name: str) -> Timer:
        return _Job(self.job_queue.run_repeating(_job_callback(callback), interval=interval, first=interval,
                                                 name=name, job_kwargs=JOB_KWARGS))


def _job_callback(callback: Callback) -> Callable[[object], Awaitable[None]]:
    async def run(_context: object) -> None:
        await callback()

    return run


class _Job:
    def __init__(self, job: Any) -> None:
        self.job = job

    def cancel(self) -> None:
        try:
            self.job.schedule_removal()
        except Exception:  # it already ran, or the queue is shut down (apscheduler's JobLookupError)
            pass


class AsyncioTimers:
    """Timers as tasks of the running event loop (the terminal chat). `close()` ends every one still waiting."""

    def __init__(self) -> None:
        self._timers: set[_Task] = set()

    def once(self, delay: float, callback: Callback, name: str) -> Timer:
        return self._start(delay, None, callback, name)

    def every(self, interval: float, callback: Callback, name: str) -> Timer:
        return self._start(interval, interval, callback, name)

    def _start(self, delay: float, interval: float | None, callback: Callback, name: str) -> _Task:
        timer = _Task(delay, interval, callback, name, self._timers.discard)
        self._timers.add(timer)
        return timer

    async def close(self) -> None:
        """Cancel every timer, a running callback too (the process is leaving), and wait for them to end."""
        timers = list(self._timers)
        for timer in timers:
            timer.task.cancel()
        await asyncio.gather(*(t.task for t in timers), return_exceptions=True)


class _Task:
    def __init__(self, delay: float, interval: float | None, callback: Callback, name: str,
                 done: Callable[[_Task], None]) -> None:
        self.waiting = True  # sleeping, not running the callback: cancel() may interrupt it
        self.cancelled = False
        self.task = asyncio.get_running_loop().create_task(self._run(delay, interval, callback, name, done),
                                                           name=name)

    async def _run(self, delay: float, interval: float | None, callback: Callback, name: str,
                   done: Callable[[_Task], None]) -> None:
        try:
            while not self.cancelled:
                self.waiting = True
                await asyncio.sleep(max(0.0, delay))
                self.waiting = False
                try:
                    await callback()
                except Exception:  # a timer's error is logged; the next round still comes
                    log.exception("timer %s failed", name)
                if interval is None:
                    break
                delay = interval
        finally:
            done(self)

    def cancel(self) -> None:
        self.cancelled = True
        if self.waiting:
            self.task.cancel()
