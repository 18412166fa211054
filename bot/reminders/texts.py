"""The words of reminders, the same in Telegram and the terminal: what is sent when one fires, what is stored in
memory, the confirmation of /remind, the answers of /reminders, /cancel and /timezone. Plain text: reminder texts
come from users and are shown as they are."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot.reminders.parse import ParsedReminder
from bot.reminders.recurrence import Recurrence
from memory.reminders import Reminder

CANCEL_USAGE = "Usage: /cancel <id> (the ids are in /reminders)"
NO_PENDING = "No pending reminders. Set one with /remind <when> <what>."


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


def confirmation(reminder: Reminder, parsed: ParsedReminder) -> str:
    """'OK, I will remind you on Fri 24 Dec 2026 20:00 (Europe/Lisbon): presents' (+ the rule, + the id)."""
    when = f"{local_time(parsed.due_at, parsed.timezone)} ({parsed.timezone})"
    rule = f", then {parsed.recurrence.describe()}" if parsed.recurrence else ""
    return (f"⏰ OK, I will remind you on {when}{rule}: {parsed.text}\n"
            f"(#{reminder.id}; /cancel {reminder.id} to cancel)")


def listing_text(shown: list[Reminder], more: int, tz: str) -> str:
    """/reminders (service.Listing): one line each, soonest first, in the chat's zone."""
    if not shown:
        return NO_PENDING
    lines = [list_line(r, tz) for r in shown]
    if more:
        lines.append(f"… and {more} more.")
    return "Pending reminders:\n" + "\n".join(lines)


def not_pending(reminder_id: int) -> str:
    return f"There is no pending reminder #{reminder_id} in this chat."


def cancelled_text(reminder: Reminder) -> str:
    return f"Cancelled #{reminder.id}: {reminder.text}"


def timezone_text(name: str, changed: bool) -> str:
    """/timezone (service.TimezoneAnswer): the zone shown, or set."""
    if changed:
        return f"Time zone set to {name}. New reminders are read in it; existing ones keep their time."
    return f"This chat's time zone is {name}. Change it with /timezone Europe/Lisbon (an IANA name)."
