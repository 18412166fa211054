"""The words of reminders, the same in Telegram and the terminal: what is sent when one fires, what is stored in
memory, the confirmation of /remind, the answers of /reminders, /cancel and /timezone — in the current chat's
language (bot/i18n.py). Plain text: reminder texts come from users and are shown as they are (isolated when they
are right-to-left, so the sentence around them keeps its order)."""

from __future__ import annotations

from bot.i18n import N_, _, isolate, local_time, ngettext
from bot.reminders.parse import ParsedReminder
from bot.reminders.recurrence import Recurrence
from memory.reminders import Reminder

__all__ = [
    "cancel_usage",
    "cancelled_text",
    "confirmation",
    "delivery_text",
    "list_line",
    "listing_text",
    "local_time",
    "memory_text",
    "no_pending",
    "not_pending",
    "schedule_text",
    "timezone_text",
]

CANCEL_USAGE = N_("Usage: /cancel <id> (the ids are in /reminders)")
NO_PENDING = N_("No pending reminders. Set one with /remind <when> <what>.")


def cancel_usage() -> str:
    return _(CANCEL_USAGE)


def no_pending() -> str:
    return _(NO_PENDING)


def delivery_text(reminder: Reminder, late: bool) -> str:
    """What the chat receives: '⏰ call Ana', '⏰ (late) call Ana'."""
    if reminder.resend_unknown:
        return _("⏰ (late, resent after a restart: you may have had it already) {text}").format(text=reminder.text)
    return _("⏰ (late) {text}").format(text=reminder.text) if late else f"⏰ {reminder.text}"


def memory_text(reminder: Reminder, late: bool) -> str:
    """What memory stores for a delivery, so recall finds "what did you remind me about"."""
    if late:
        return _("Reminder (delivered late): {text}").format(text=reminder.text)
    return _("Reminder: {text}").format(text=reminder.text)


def _with_rule(when: str, recurrence: Recurrence | None) -> str:
    if recurrence is None:
        return when
    return _("{time}, then {rule}").format(time=when, rule=recurrence.describe())


def schedule_text(reminder: Reminder, tz: str | None = None) -> str:
    """'Fri 24 Dec 2026 20:00 (Europe/Lisbon)', plus the rule for a recurring one."""
    tz = tz or reminder.timezone
    rule = Recurrence.from_spec(reminder.recurrence) if reminder.recurrence else None
    return _with_rule(f"{local_time(reminder.due_at, tz)} ({tz})", rule)


def list_line(reminder: Reminder, tz: str | None = None) -> str:
    return f"#{reminder.id} · {schedule_text(reminder, tz)} · {isolate(reminder.text)}"


def confirmation(reminder: Reminder, parsed: ParsedReminder) -> str:
    """'OK, I will remind you on Fri 24 Dec 2026 20:00 (Europe/Lisbon): presents' (+ the rule, + the id)."""
    when = _with_rule(f"{local_time(parsed.due_at, parsed.timezone)} ({parsed.timezone})", parsed.recurrence)
    return (_("⏰ OK, I will remind you on {time}: {text}").format(time=when, text=isolate(parsed.text)) + "\n"
            + _("(#{id}; /cancel {id} to cancel)").format(id=reminder.id))


def listing_text(shown: list[Reminder], more: int, tz: str) -> str:
    """/reminders (service.Listing): one line each, soonest first, in the chat's zone."""
    if not shown:
        return no_pending()
    lines = [list_line(r, tz) for r in shown]
    if more:
        lines.append(ngettext("… and {n} more.", "… and {n} more.", more).format(n=more))
    return _("Pending reminders:") + "\n" + "\n".join(lines)


def not_pending(reminder_id: int) -> str:
    return _("There is no pending reminder #{id} in this chat.").format(id=reminder_id)


def cancelled_text(reminder: Reminder) -> str:
    return _("Cancelled #{id}: {text}").format(id=reminder.id, text=isolate(reminder.text))


def timezone_text(name: str, changed: bool) -> str:
    """/timezone (service.TimezoneAnswer): the zone shown, or set."""
    if changed:
        return _("Time zone set to {zone}. New reminders are read in it; existing ones keep their time.").format(
            zone=name)
    return _("This chat's time zone is {zone}. Change it with /timezone Europe/Lisbon (an IANA name).").format(
        zone=name)
