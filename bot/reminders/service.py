"""The reminder service: create, list, cancel, and deliver reminders on PTB's JobQueue.

The database is the truth; the JobQueue only holds timers. On start every pending reminder gets a timer again
(nothing relies on APScheduler's own persistence), reminders a crash left half-delivered are resolved (see
memory/reminders.py for the protocol), and ones that fell due while the bot was down fire at once, marked late.
A sweep every minute catches any reminder whose timer was lost; the claim in the database makes a second
timer for the same reminder harmless.

Sending goes through an injected `send(chat_id, text) -> message_id` coroutine, so this module does not need
a Bot: handlers/delivery.py's telegram_sender(bot) makes one that raises DeliveryRejected for errors a retry
cannot fix.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from bot.errors import EngramError, retry_after_seconds
from bot.reminders import texts
from bot.reminders.parse import REQUEST_WORDS, ParsedReminder, ParseError, detect_natural_request, parse_reminder
from bot.reminders.recurrence import Recurrence
from bot.when.zones import chat_timezone, zone
from memory.models import UnknownOutcome
from memory.reminders import Reminder, delivery_message

log = logging.getLogger(__name__)

Send = Callable[[int, str], Awaitable[int]]
LATE_AFTER = 60.0  # seconds past due after which a delivery says "(late)"
RETRY_DELAYS = (15, 60, 300, 900, 3600)  # seconds between attempts when sending fails; the last one repeats
JOB_KWARGS = {"misfire_grace_time": None, "coalesce": True}  # APScheduler's default would drop a timer 1 s late


class DeliveryRejected(EngramError):
    """Telegram refused the message for good (bot blocked, chat gone): retrying cannot help."""


class ReminderService:
    def __init__(self, memory, job_queue, send: Send, default_tz: str = "UTC", *,
                 clock: Callable[[], datetime] | None = None,
                 unknown_outcome: UnknownOutcome | str = UnknownOutcome.RESEND, min_interval: int = 60,
                 sweep_seconds: float = 60.0):
        self.memory = memory
        self.job_queue = job_queue
        self.send = send
        self.default_tz = default_tz
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.unknown_outcome = UnknownOutcome(unknown_outcome)  # ValueError: neither resend nor drop
        self.min_interval = min_interval
        self.sweep_seconds = sweep_seconds
        self._jobs: dict[int, object] = {}
        self._retry_at: dict[int, float] = {}
        self._sweeper = None
        self.deliveries = 0  # for /stats and tests

    @classmethod
    def from_config(cls, memory, job_queue, send: Send, config) -> ReminderService:
        """With the settings of bot.config.Config.reminders."""
        r = config.reminders
        return cls(memory, job_queue, send, r.timezone, unknown_outcome=r.unknown_outcome,
                   min_interval=r.min_interval_seconds)

    # ----- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> dict:
        """Resolve half-delivered reminders, then give every pending one a timer. Returns what was done."""
        now = self.clock().timestamp()
        report = await self.memory.reminders.recover(self.unknown_outcome, next_occurrence)
        pending = await self.memory.reminders.pending()
        overdue = 0
        for reminder in pending:
            late = reminder.due_at <= now  # fell due while the bot was down
            overdue += late
            self._schedule(reminder, late=late)
        if self.sweep_seconds > 0:
            self._sweeper = self.job_queue.run_repeating(
                self._on_sweep, interval=self.sweep_seconds, first=self.sweep_seconds, name="reminders:sweep",
                job_kwargs=JOB_KWARGS,
            )
        report.update(scheduled=len(pending), overdue=overdue)
        log.info("reminders: %s", report)
        return report

    async def stop(self) -> None:
        for job in list(self._jobs.values()):
            _remove(job)
        self._jobs.clear()
        if self._sweeper is not None:
            _remove(self._sweeper)
            self._sweeper = None

    # ----- the API the handlers use ----------------------------------------------------------------------------
    async def timezone_for(self, chat_id: int) -> str:
        return await chat_timezone(self.memory, chat_id, self.default_tz)

    async def set_timezone(self, chat_id: int, tz: str) -> str:
        """Validate and store the chat's time zone; returns its canonical name. ParseError if unknown."""
        found = zone(tz)
        if found is None:
            raise ParseError(f"Unknown time zone {tz!r}: use a name like Europe/Lisbon or America/New_York.")
        name = found.key
        await self.memory.messages.set_chat_setting(chat_id, timezone=name)
        return name

    async def parse(self, chat_id: int, args: str) -> ParsedReminder:
        """Parse /remind arguments in the chat's zone (off the event loop: dateparser is CPU work)."""
        tz = await self.timezone_for(chat_id)
        now = self.clock()
        return await asyncio.to_thread(parse_reminder, args, tz, now, min_interval=self.min_interval)

    async def detect(self, chat_id: int, text: str) -> ParsedReminder | None:
        """A reminder asked for in ordinary chat, or None (cheap check first: most messages are not)."""
        if not REQUEST_WORDS.search(text):
            return None
        tz = await self.timezone_for(chat_id)
        now = self.clock()
        return await asyncio.to_thread(detect_natural_request, text, tz, now, min_interval=self.min_interval)

    async def create(self, chat_id: int, created_by: int | None, parsed: ParsedReminder) -> Reminder:
        now = self.clock().timestamp()
        reminder = await self.memory.reminders.add(
            chat_id=chat_id, created_by=created_by, text=parsed.text, due_at=parsed.due_at.timestamp(),
            recurrence=parsed.recurrence.spec if parsed.recurrence else None, timezone=parsed.timezone, now=now,
        )
        self._schedule(reminder)
        return reminder

    async def pending(self, chat_id: int) -> list[Reminder]:
        return await self.memory.reminders.pending(chat_id)

    async def cancel(self, chat_id: int, reminder_id: int) -> Reminder | None:
        """Cancel one of this chat's reminders; None if it has none active with that id."""
        cancelled = await self.memory.reminders.cancel(chat_id, reminder_id)
        if cancelled is not None:
            self._unschedule(reminder_id)
        return cancelled

    # ----- timers ----------------------------------------------------------------------------------------------
    def _schedule(self, reminder: Reminder, *, late: bool = False, at: float | None = None) -> None:
        self._unschedule(reminder.id)
        when = max(0.0, (at if at is not None else reminder.due_at) - self.clock().timestamp())
        self._jobs[reminder.id] = self.job_queue.run_once(
            self._on_timer, when=when, data=(reminder.id, late), name=f"reminder:{reminder.id}",
            chat_id=reminder.chat_id, job_kwargs=JOB_KWARGS,
        )

    def _unschedule(self, reminder_id: int) -> None:
        job = self._jobs.pop(reminder_id, None)
        if job is not None:
            _remove(job)
        self._retry_at.pop(reminder_id, None)

    async def _on_timer(self, context) -> None:
        reminder_id, late = context.job.data
        if self._jobs.get(reminder_id) is context.job:
            del self._jobs[reminder_id]
        await self.fire(reminder_id, late=late)

    async def _on_sweep(self, context) -> None:
        now = self.clock().timestamp()
        due = await self.memory.reminders.due(now - 1.0)
        for reminder in due:
            if reminder.id in self._jobs or self._retry_at.get(reminder.id, 0) > now:
                continue
            log.warning("reminder %s had no timer; delivering it now", reminder.id)
            await self.fire(reminder.id)

    # ----- delivery --------------------------------------------------------------------------------------------
    async def fire(self, reminder_id: int, *, late: bool = False) -> bool:
        """Claim, send, record. True if this call delivered the reminder."""
        now = self.clock()
        token = uuid.uuid4().hex
        reminder = await self.memory.reminders.claim(reminder_id, token, now.timestamp())
        if reminder is None:
            current = await self.memory.reminders.get(reminder_id)
            if current is not None and current.status == "pending" and current.due_at > now.timestamp():
                self._schedule(current)  # the timer went off early (clock change): wait for the real time
            return False
        late = late or now.timestamp() - reminder.due_at > LATE_AFTER
        try:
            message_id = await self.send(reminder.chat_id, texts.delivery_text(reminder, late))
        except DeliveryRejected as exc:
            log.warning("reminder %s cannot be delivered: %s", reminder.id, exc)
            error = str(exc)[:500]
            await self.memory.reminders.fail(reminder.id, token, error)
            return False
        except Exception as exc:  # network, flood limit, server error: try again later, never lose it
            delay = retry_after_seconds(exc) or RETRY_DELAYS[min(reminder.attempts, len(RETRY_DELAYS)) - 1]
            log.warning("reminder %s: sending failed (%s); retrying in %.0f s", reminder.id, exc, delay)
            error = repr(exc)[:500]
            await self.memory.reminders.release(reminder.id, token, error)
            self._schedule_retry(reminder, late, self.clock().timestamp() + delay)
            return False
        sent_at = self.clock()
        next_due = next_occurrence(reminder, sent_at.timestamp())
        message = delivery_message(reminder, token, message_id, texts.memory_text(reminder, late),
                                   sent_at.timestamp(), late)
        try:
            await self.memory.reminders.record_delivery(reminder, token, message, next_due)
        except Exception:  # it was sent; the start-up recovery resolves the 'sending' row
            log.exception("reminder %s was sent but could not be recorded", reminder.id)
            return True
        self.deliveries += 1
        self._retry_at.pop(reminder.id, None)
        if next_due is not None:
            current = await self.memory.reminders.get(reminder.id)
            if current is not None and current.status == "pending":
                self._schedule(current)
        return True

    def _schedule_retry(self, reminder: Reminder, late: bool, retry_at: float) -> None:
        self._unschedule(reminder.id)
        self._retry_at[reminder.id] = retry_at
        self._jobs[reminder.id] = self.job_queue.run_once(
            self._on_timer, when=max(0.0, retry_at - self.clock().timestamp()), data=(reminder.id, late),
            name=f"reminder:{reminder.id}:retry", chat_id=reminder.chat_id, job_kwargs=JOB_KWARGS,
        )


def _remove(job) -> None:
    """Remove a timer; one that already ran, or a queue already shut down, has nothing left to remove."""
    try:
        job.schedule_removal()
    except Exception:  # apscheduler's JobLookupError
        pass


def next_occurrence(reminder: Reminder, after: float) -> float | None:
    """Unix time of a recurring reminder's next firing after `after` (Unix time); None for a one-shot reminder."""
    if not reminder.recurrence:
        return None
    rule = Recurrence.from_spec(reminder.recurrence)
    previous = datetime.fromtimestamp(reminder.due_at, tz=timezone.utc)
    return rule.next_after(previous, datetime.fromtimestamp(after, tz=timezone.utc), reminder.timezone).timestamp()

