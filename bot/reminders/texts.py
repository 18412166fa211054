"""The words of reminders: what is sent when one fires, what is stored in memory, how one is listed."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot.reminders.recurrence import Recurrence
from memory.reminders import Reminder


def local_time(when: datetime | float, tz: str) -> str:
    """'Fri 24 Dec 2026 20:00' in the given zone."""
    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(when, tz=timezone.utc)
    return when.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def delivery_text(reminder: Reminder, late: bool) -> str:
    """What the chat receives: '⏰ call Ana', '⏰ (late) call Ana'."""
    if reminder.resend_unknown:
        return f"⏰ (late, resent after a restart: you may have had it already) {reminder.text}"
    return f"⏰ (late) {reminder.text}" if late else f"⏰ {reminder.text}"


def memory_text(reminder: Reminder, late: bool) -> str:
    """What memory stores for a delivery, so recall finds "what did you remind me about"."""
    return f"Reminder (delivered late): {reminder.text}" if late else f"Reminder: {reminder.text}"


def schedule_text(reminder: Reminder, tz: str | None = None) -> str:
    """'Fri 24 Dec 2026 20:00 (Europe/Lisbon)', plus the rule for a recurring one."""
    tz = tz or reminder.timezone
    text = f"{local_time(reminder.due_at, tz)} ({tz})"
    if reminder.recurrence:
        text += f", then {Recurrence.from_spec(reminder.recurrence).describe()}"
    return text


def list_line(reminder: Reminder, tz: str | None = None) -> str:
    return f"#{reminder.id} · {schedule_text(reminder, tz)} · {reminder.text}"
