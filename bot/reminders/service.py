"""The reminder service: create, list, cancel, and deliver reminders, for every front end.

The database is the truth; the timers (bot/reminders/timers.py: PTB's JobQueue under Telegram, asyncio in the
terminal chat) only wake the service up. On start every pending reminder of the chats it serves gets a timer
again, reminders a crash left half-delivered are resolved (see memory/reminders.py for the protocol), and ones that
fell due while the front end was closed fire at once, marked late. A sweep every minute catches any reminder whose
timer was lost; the claim in the database makes a second timer for the same reminder harmless.

Sending goes through an injected `send(chat_id, text) -> message_id` coroutine, so this module needs no Bot:
handlers/delivery.telegram_sender(bot) sends to Telegram, the terminal chat prints. It raises DeliveryRejected
for errors a retry cannot fix.

The commands' logic is here too (/reminders' list, /cancel, /timezone), returning plain data that
bot/reminders/texts.py words the same way for Telegram and the terminal.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from bot.commands.actions import id_argument
from bot.config import Config
from bot.errors import EngramError, retry_after_seconds
from bot.i18n import _, chat_language, current, using
from bot.reminders import texts
from bot.reminders.parse import ParsedReminder, ParseError, parse_reminder
from bot.reminders.recurrence import Recurrence
from bot.reminders.timers import Timer, Timers
from bot.when.zones import chat_timezone, zone
from memory import Memory, Message
from memory.models import UnknownOutcome
from memory.reminders import Reminder, delivery_message

log = logging.getLogger(__name__)

Send = Callable[[int, str], Awaitable[int]]
LATE_AFTER = 60.0  # seconds past due after which a delivery says "(late)"
RETRY_DELAYS = (15, 60, 300, 900, 3600)  # seconds between attempts when sending fails; the last one repeats
MAX_LISTED = 20  # reminders shown by /reminders (the soonest)


class DeliveryRejected(EngramError):
    """The front end refused the message for good (bot blocked, chat gone): retrying cannot help."""


@dataclass(frozen=True)
class ChatScope:
    """The chats whose reminders a service delivers: `only` these (the terminal chat's), or all but `besides`
    (Telegram: every chat but the terminal's, which Telegram cannot reach)."""

    only: frozenset[int] | None = None
    besides: frozenset[int] = frozenset()

    def __contains__(self, chat_id: object) -> bool:
        return chat_id not in self.besides and (self.only is None or chat_id in self.only)


EVERY_CHAT = ChatScope()


@dataclass(frozen=True)
class Listing:
    """/reminders: the soonest pending reminders of a chat, how many more there are, in the chat's time zone."""

    shown: list[Reminder]
    more: int
    timezone: str

    def text(self) -> str:
        return texts.listing_text(self.shown, self.more, self.timezone)


@dataclass(frozen=True)
class TimezoneAnswer:
    """/timezone: the chat's zone, and whether this command just set it."""

    name: str
    changed: bool

    def text(self) -> str:
        return texts.timezone_text(self.name, self.changed)


class ReminderService:
    def __init__(self, memory: Memory, timers: Timers, send: Send, default_tz: str = "UTC", *,
                 clock: Callable[[], datetime] | None = None,
                 unknown_outcome: UnknownOutcome | str = UnknownOutcome.RESEND, min_interval: int = 60,
                 sweep_seconds: float = 60.0, chats: ChatScope = EVERY_CHAT):
        self.memory = memory
        self.timers = timers
        self.send = send
        self.default_tz = default_tz
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))
        self.unknown_outcome = UnknownOutcome(unknown_outcome)  # ValueError: neither resend nor drop
        self.min_interval = min_interval
        self.sweep_seconds = sweep_seconds
        self.chats = chats
        self._jobs: dict[int, Timer] = {}
        self._retry_at: dict[int, float] = {}
        self._sweeper: Timer | None = None
        self.deliveries = 0  # for /stats and tests

    @classmethod
    def from_config(cls, memory: Memory, timers: Timers, send: Send, config: Config, *,
                    chats: ChatScope = EVERY_CHAT) -> ReminderService:
        """With the settings of bot.config.Config.reminders."""
        r = config.reminders
        return cls(memory, timers, send, r.timezone, unknown_outcome=r.unknown_outcome,
                   min_interval=r.min_interval_seconds, chats=chats)

    # ----- lifecycle -----------------------------------------------------------------------------------------
    async def start(self) -> dict[str, Any]:
        """Resolve half-delivered reminders, then give every pending one a timer. Returns what was done."""
        now = self.clock().timestamp()
        report = await self._recover()
        pending = [r for r in await self.memory.reminders.pending() if r.chat_id in self.chats]
        overdue = 0
        for reminder in pending:
            late = reminder.due_at <= now  # fell due while the bot was down
            overdue += late
            self._schedule(reminder, late=late)
        if self.sweep_seconds > 0:
            self._sweeper = self.timers.every(self.sweep_seconds, self._on_sweep, "reminders:sweep")
        report.update(scheduled=len(pending), overdue=overdue)
        log.info("reminders: %s", report)
        return report

    async def _recover(self) -> dict[str, Any]:
        """Resolve the reminders a crash left in 'sending'. A service of every chat resolves them all (see
        memory/reminders.py); one of a few chats (the terminal) touches only its own, with the outcome policy:
        another process may be sending the others right now."""
        if self.chats.only is None:
            return dict(await self.memory.reminders.recover(self.unknown_outcome, next_occurrence))
        resolved = 0
        for chat_id in sorted(self.chats.only):
            for reminder in await self.memory.reminders.pending(chat_id):
                if reminder.status != "sending" or reminder.claim_token is None:
                    continue
                error = "outcome unknown after a restart"
                if self.unknown_outcome is UnknownOutcome.RESEND:
                    await self.memory.reminders.release(reminder.id, reminder.claim_token, error)
                else:
                    await self.memory.reminders.fail(reminder.id, reminder.claim_token, error)
                resolved += 1
        return {"resolved": resolved}

    async def stop(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()
        self._jobs.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    # ----- the API the front ends use --------------------------------------------------------------------------
    async def timezone_for(self, chat_id: int) -> str:
        return await chat_timezone(self.memory, chat_id, self.default_tz)

    async def set_timezone(self, chat_id: int, tz: str) -> str:
        """Validate and store the chat's time zone; returns its canonical name. ParseError if unknown."""
        found = zone(tz)
        if found is None:
            raise ParseError(_("Unknown time zone {zone!r}: use a name like Europe/Lisbon or America/New_York.")
                             .format(zone=tz))
        name = found.key
        await self.memory.messages.set_chat_setting(chat_id, timezone=name)
        return name

    async def parse(self, chat_id: int, args: str) -> ParsedReminder:
        """Parse /remind arguments in the chat's zone and language (the current one, bot/i18n.py), then English
        (off the event loop: dateparser is CPU work)."""
        tz = await self.timezone_for(chat_id)
        now = self.clock()
        return await asyncio.to_thread(parse_reminder, args, tz, now, min_interval=self.min_interval,
                                       lang=current())

    async def create(self, chat_id: int, created_by: int | None, parsed: ParsedReminder) -> Reminder:
        now = self.clock().timestamp()
        reminder = await self.memory.reminders.add(
            chat_id=chat_id, created_by=created_by, text=parsed.text, due_at=parsed.due_at.timestamp(),
            recurrence=parsed.recurrence.spec if parsed.recurrence else None, timezone=parsed.timezone, now=now,
        )
        self._schedule(reminder)
        return reminder

    async def remember_confirmation(self, chat_id: int, message_id: int, text: str, reminder: Reminder,
                                    at: float) -> None:
        """Store the confirmation a front end showed: the memory knows a reminder was set."""
        await self.memory.messages.remember(Message(chat_id, message_id, text, role="assistant", created_at=at,
                                           meta={"kind": "reminder-set", "reminder_id": reminder.id}))

    async def pending(self, chat_id: int) -> list[Reminder]:
        return await self.memory.reminders.pending(chat_id)

    async def listing(self, chat_id: int, limit: int = MAX_LISTED) -> Listing:
        """/reminders: the soonest `limit` pending reminders of the chat."""
        pending = await self.pending(chat_id)
        return Listing(pending[:limit], max(0, len(pending) - limit), await self.timezone_for(chat_id))

    async def cancel(self, chat_id: int, reminder_id: int) -> Reminder | None:
        """Cancel one of this chat's reminders; None if it has none active with that id."""
        cancelled = await self.memory.reminders.cancel(chat_id, reminder_id)
        if cancelled is not None:
            self._unschedule(reminder_id)
        return cancelled

    async def cancel_command(self, chat_id: int, args: str) -> Reminder:
        """/cancel <id>: the cancelled reminder; ParseError says what was wrong (no id, no such reminder)."""
        reminder_id = id_argument(args)
        if reminder_id is None:
            raise ParseError(texts.cancel_usage())
        cancelled = await self.cancel(chat_id, reminder_id)
        if cancelled is None:
            raise ParseError(texts.not_pending(reminder_id))
        return cancelled

    async def timezone_command(self, chat_id: int, args: str) -> TimezoneAnswer:
        """/timezone [Area/City]: the chat's zone, set first when one is given (ParseError if it is unknown)."""
        if not args.strip():
            return TimezoneAnswer(await self.timezone_for(chat_id), changed=False)
        return TimezoneAnswer(await self.set_timezone(chat_id, args.strip()), changed=True)

    # ----- timers ----------------------------------------------------------------------------------------------
    def _schedule(self, reminder: Reminder, *, late: bool = False, at: float | None = None,
                  name: str = "reminder") -> None:
        self._unschedule(reminder.id)
        when = max(0.0, (at if at is not None else reminder.due_at) - self.clock().timestamp())
        timer: list[Timer] = []

        async def due() -> None:
            if timer and self._jobs.get(reminder.id) is timer[0]:
                del self._jobs[reminder.id]
            await self.fire(reminder.id, late=late)

        timer.append(self.timers.once(when, due, f"{name}:{reminder.id}"))
        self._jobs[reminder.id] = timer[0]

    def _unschedule(self, reminder_id: int) -> None:
        job = self._jobs.pop(reminder_id, None)
        if job is not None:
            job.cancel()
        self._retry_at.pop(reminder_id, None)

    async def _on_sweep(self) -> None:
        now = self.clock().timestamp()
        due = await self.memory.reminders.due(now - 1.0)
        for reminder in due:
            if reminder.chat_id not in self.chats:
                continue
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
        with using(await chat_language(self.memory, reminder.chat_id)):  # a timer is outside any update
            sent_text, memory_text = texts.delivery_text(reminder, late), texts.memory_text(reminder, late)
        try:
            message_id = await self.send(reminder.chat_id, sent_text)
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
        message = delivery_message(reminder, token, message_id, memory_text, sent_at.timestamp(), late)
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
        self._schedule(reminder, late=late, at=retry_at, name="reminder-retry")
        self._retry_at[reminder.id] = retry_at


def next_occurrence(reminder: Reminder, after: float) -> float | None:
    """Unix time of a recurring reminder's next firing after `after` (Unix time); None for a one-shot reminder."""
    if not reminder.recurrence:
        return None
    rule = Recurrence.from_spec(reminder.recurrence)
    previous = datetime.fromtimestamp(reminder.due_at, tz=timezone.utc)
    return rule.next_after(previous, datetime.fromtimestamp(after, tz=timezone.utc), reminder.timezone).timestamp()
