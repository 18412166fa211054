"""Recurrence rules of repeating reminders, and the next occurrence of each.

A rule is stored as a short text spec (the `recurrence` column):

    interval 7200          every 2 hours, counted from the previous occurrence
    daily 08:00            every day at 08:00 local time
    weekdays 08:00         Monday to Friday at 08:00
    weekly mon 09:00       every Monday at 09:00

Local times are wall-clock times in the reminder's own time zone, so "every day at 8:00" stays at 8:00 across a
daylight-saving change (the interval between two firings is then 23 or 25 hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.i18n import N_, _, ngettext

T = TypeVar("T")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# "every Monday at 09:00": a whole phrase per weekday, so a language can decline the day's name as it needs
# ("каждый понедельник", "каждую среду").
EVERY_WEEKDAY = (N_("every Monday at {time}"), N_("every Tuesday at {time}"), N_("every Wednesday at {time}"),
                 N_("every Thursday at {time}"), N_("every Friday at {time}"), N_("every Saturday at {time}"),
                 N_("every Sunday at {time}"))


@dataclass(frozen=True)
class Recurrence:
    kind: str  # interval | daily | weekdays | weekly
    seconds: int | None = None  # interval only
    at: time | None = None  # daily, weekdays, weekly: local wall-clock time
    weekday: int | None = None  # weekly only: 0 = Monday

    # The field each kind needs, present (a rule built without it is a bug: said so, not an AttributeError).
    @property
    def _seconds(self) -> int:
        return _needed(self.seconds, self.kind, "seconds")

    @property
    def _at(self) -> time:
        return _needed(self.at, self.kind, "at")

    @property
    def _weekday(self) -> int:
        return _needed(self.weekday, self.kind, "weekday")

    @property
    def spec(self) -> str:
        if self.kind == "interval":
            return f"interval {self.seconds}"
        clock = self._at.strftime("%H:%M")
        if self.kind == "weekly":
            return f"weekly {WEEKDAYS[self._weekday]} {clock}"
        return f"{self.kind} {clock}"

    @classmethod
    def from_spec(cls, spec: str) -> Recurrence:
        parts = spec.split()
        if parts[0] == "interval" and len(parts) == 2:
            return cls("interval", seconds=int(parts[1]))
        if parts[0] in ("daily", "weekdays") and len(parts) == 2:
            return cls(parts[0], at=time.fromisoformat(parts[1]))
        if parts[0] == "weekly" and len(parts) == 3:
            return cls("weekly", at=time.fromisoformat(parts[2]), weekday=WEEKDAYS.index(parts[1]))
        raise ValueError(f"not a recurrence spec: {spec!r}")

    def describe(self) -> str:
        """Plain words for confirmations and lists: 'every Monday at 09:00'."""
        if self.kind == "interval":
            return describe_seconds(self._seconds)
        clock = self._at.strftime("%H:%M")
        if self.kind == "daily":
            return _("every day at {time}").format(time=clock)
        if self.kind == "weekdays":
            return _("every weekday at {time}").format(time=clock)
        return _(EVERY_WEEKDAY[self._weekday]).format(time=clock)

    def _matches(self, day: datetime) -> bool:
        if self.kind == "weekdays":
            return day.weekday() < 5
        if self.kind == "weekly":
            return day.weekday() == self.weekday
        return True

    def first_after(self, now: datetime, tz: str) -> datetime:
        """The first occurrence strictly after `now` (aware), in UTC."""
        if self.kind == "interval":
            return (now + timedelta(seconds=self._seconds)).astimezone(timezone.utc)
        return self._next_wall_clock(now, tz)

    def next_after(self, previous: datetime, now: datetime, tz: str) -> datetime:
        """The next occurrence after the one due at `previous`, skipping any that already passed by `now`.

        Missed occurrences (the bot was down for three days) are not replayed one by one: the late delivery of
        the missed one stands for all of them, and the rule continues from the future.
        """
        if self.kind == "interval":
            step = timedelta(seconds=self._seconds)
            following = previous + step
            if following <= now:
                skipped = (now - following) // step + 1
                following += skipped * step
            return following.astimezone(timezone.utc)
        return self._next_wall_clock(max(previous, now), tz)

    def _next_wall_clock(self, after: datetime, tz: str) -> datetime:
        zone = ZoneInfo(tz)
        local = after.astimezone(zone)
        for offset in range(0, 9):
            day = (local + timedelta(days=offset)).date()
            candidate = datetime.combine(day, self._at, tzinfo=zone)
            if self._matches(candidate) and candidate > after:
                return candidate.astimezone(timezone.utc)
        raise AssertionError("a weekly rule always matches within 8 days")


def _needed(value: T | None, kind: str, name: str) -> T:
    if value is None:
        raise ValueError(f"a {kind} recurrence needs {name}")
    return value


def describe_seconds(seconds: int) -> str:
    """'every 2 hours', 'every week', 'каждые 2 часа', 'каждый 21 день' (plural forms from the catalogue; one
    of a unit has its own text, "every hour", not the form a language uses for 21)."""
    if seconds % 604800 == 0:
        n = seconds // 604800
        return _("every week") if n == 1 else ngettext("every {n} week", "every {n} weeks", n).format(n=n)
    if seconds % 86400 == 0:
        n = seconds // 86400
        return _("every day") if n == 1 else ngettext("every {n} day", "every {n} days", n).format(n=n)
    if seconds % 3600 == 0:
        n = seconds // 3600
        return _("every hour") if n == 1 else ngettext("every {n} hour", "every {n} hours", n).format(n=n)
    if seconds % 60 == 0:
        n = seconds // 60
        return _("every minute") if n == 1 else ngettext("every {n} minute", "every {n} minutes", n).format(n=n)
    n = seconds
    return _("every second") if n == 1 else ngettext("every {n} second", "every {n} seconds", n).format(n=n)
