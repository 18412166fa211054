"""The calendar days a message speaks of: "I have a dentist appointment on Tuesday at 10", said on Sunday
6 December 2026, speaks of Tuesday 8 December; "we went to Rome in May" of May before it was said.

phrases.py reads a question's window of *when things were said* (past only); this module reads the days a text
is *about*, future or past, as calendar days of the chat's zone:
- today, tonight, this morning/evening; tomorrow; the day after tomorrow; yesterday; the day before yesterday;
- weekdays ("on Tuesday", "Tuesday", "this Tuesday", "next Tuesday", "last Tuesday");
- this/next/last week, weekend, month, year; in N days/weeks (ahead), N days/weeks ago;
- dates and months ("3 May", "May 3rd", "2027-05-03", "in May", "May 2027").
A phrase that may point either way ("on Tuesday", "in May", "3 May") is read by the tense of the sentence: past
("went", "was", "had", "…ed", "did") → the most recent one before the day it was said, otherwise the next one
from that day on (a plan). English only; regular expressions only (~10 µs a message, no dateparser).

Each day span is (start, end) in Unix seconds, [start, end): midnight to midnight in the zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["Span", "about_the_past", "days_spoken_of", "span_label"]

Span = tuple[float, float]

_WD = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3,
       "thu": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
_WDR = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_M = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
     r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
           "nov": 11, "dec": 12}
_D = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_Y = r"(?:19[7-9][0-9]|20[0-9][0-9])"
_N = r"(?:\d{1,2}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a few)"
_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9, "ten": 10, "a couple of": 2, "a few": 3}
_PHRASE = re.compile(
    r"(?<![\w-])(?:"
    r"(?P<dat>the day after tomorrow)|(?P<dby>the day before yesterday)|"
    r"(?P<tom>tomorrow)|(?P<yes>yesterday|last night)|(?P<tod>today|tonight|this (?:morning|afternoon|evening))|"
    rf"(?P<wdw>(?:(?P<ww>this|next|last|coming|on)\s+)?(?P<wd>{_WDR}))|"
    r"(?P<unit>(?P<uw>this|next|last|coming)\s+(?P<uu>week|weekend|month|year))|"
    rf"(?P<ahead>in\s+(?P<an>{_N})\s+(?P<au>day|week|month)s?)(?!\s+ago)|"
    rf"(?P<ago>(?P<gn>{_N})\s+(?P<gu>day|week|month)s?\s+ago)|"
    rf"(?P<iso>(?P<iy>{_Y})-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12][0-9]|3[01]))|"
    rf"(?P<dm>(?:the\s+)?(?P<dmd>{_D})(?:\s+of)?\s+(?P<dmm>{_M})(?:,?\s+(?P<dmy>{_Y}))?)|"
    rf"(?P<md>(?P<mdm>{_M})\s+(?P<mdd>{_D})(?:,?\s+(?P<mdy>{_Y}))?(?!\d))|"
    # "in May", "plans for January" ("for May 3rd" is a date: the day follows)
    rf"(?P<mon>(?:in|during|by|until|since|for|through|throughout|over|all of|early|late|mid)\s+"
    rf"(?P<mo>{_M})(?!\s+{_D}(?![\d:]))(?:\s+(?P<moy>{_Y}))?)"
    r")(?![\w-])", re.I)
# A sentence about the past: its "on Tuesday", "in May" is the one before it was said.
_PAST = re.compile(r"\b(was|were|went|had|did|got|came|saw|met|said|told|took|made|gave|left|ate|bought|"
                   r"flew|drove|moved|\w{3,}ed)\b", re.I)
_FUTURE = re.compile(r"\b(will|going to|gonna|plans?|planning|have to|need to|must|should|shall|booked|"
                     r"scheduled|appointment|meeting)\b", re.I)


def days_spoken_of(text: str, at: float, tz: str) -> list[Span]:
    """The day spans `text` speaks of, said at `at` (Unix time) in the zone `tz`, in the order they appear."""
    if not _PHRASE.search(text):
        return []
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(at, tz=timezone.utc).astimezone(zone).date()
    future = not about_the_past(text)
    out: list[Span] = []
    for m in _PHRASE.finditer(text):
        days = _read(m, today, future)
        if days is not None:
            span = (_midnight(days[0], zone), _midnight(days[1] + timedelta(days=1), zone))
            if span not in out:
                out.append(span)
    return out


# "have got" is the present of "have" ("what have I got on this week?", "I've got the dentist on Tuesday").
_HAVE_GOT = re.compile(r"\b(?:have|has|'ve|’ve|'s|’s)\s+(?:(?:i|you|we|they|he|she|it)\s+)?got\b", re.I)


def about_the_past(text: str) -> bool:
    """True for a sentence in the past tense ("what did I have on Tuesday?"), read as days_spoken_of reads it."""
    return bool(_PAST.search(_HAVE_GOT.sub(" ", text))) and not _FUTURE.search(text)


def span_label(span: Span, tz: str) -> str:
    """'Tuesday 8 December' for one day, '7-13 December' for a longer span (the year when not the current one
    is left to the reader: spans are near the question)."""
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(span[0], tz=timezone.utc).astimezone(zone).date()
    last = datetime.fromtimestamp(span[1] - 1, tz=timezone.utc).astimezone(zone).date()
    if first == last:
        return f"{first:%A} {first.day} {first:%B}"
    if (first.year, first.month) == (last.year, last.month):
        if first.day == 1 and (last + timedelta(days=1)).day == 1:
            return f"{first:%B %Y}"
        return f"{first.day}-{last.day} {last:%B}"
    return f"{first.day} {first:%B} - {last.day} {last:%B}"


def _read(m: re.Match, today: date, future: bool) -> tuple[date, date] | None:
    if m["dat"]:
        return _one(today + timedelta(days=2))
    if m["dby"]:
        return _one(today - timedelta(days=2))
    if m["tom"]:
        return _one(today + timedelta(days=1))
    if m["yes"]:
        return _one(today - timedelta(days=1))
    if m["tod"]:
        return _one(today)
    if m["wdw"]:
        wd, which = _WD[m["wd"].lower()], (m["ww"] or "").lower()
        ahead = (wd - today.weekday()) % 7
        if which == "last" or (which in ("", "on") and not future):
            back = (today.weekday() - wd) % 7 or 7
            return _one(today - timedelta(days=back))
        if which == "next" and ahead == 0:
            ahead = 7
        return _one(today + timedelta(days=ahead))
    if m["unit"]:
        which, unit = m["uw"].lower(), m["uu"].lower()
        step = {"this": 0, "coming": 1, "next": 1, "last": -1}[which]
        return _unit(unit, today, step)
    if m["ahead"] or m["ago"]:
        n = _number(m["an"] or m["gn"])
        unit = (m["au"] or m["gu"]).lower()
        days = n * {"day": 1, "week": 7, "month": 30}[unit]
        return _one(today + timedelta(days=days if m["ahead"] else -days))
    if m["iso"]:
        return _dated(int(m["id"]), int(m["im"]), int(m["iy"]), today, future)  # "2026-02-30": no day
    if m["dm"] or m["md"]:
        day = int(re.sub(r"\D", "", m["dmd"] or m["mdd"]))
        month = _MONTHS[(m["dmm"] or m["mdm"])[:3].lower()]
        year = m["dmy"] or m["mdy"]
        return _dated(day, month, int(year) if year else None, today, future)
    if m["mon"]:
        month = _MONTHS[m["mo"][:3].lower()]
        year = int(m["moy"]) if m["moy"] else _nearest_year(date(today.year, month, 1), today, future, month=True)
        first = date(year, month, 1)
        return first, _add_months(first, 1) - timedelta(days=1)
    return None


def _one(d: date) -> tuple[date, date]:
    return d, d


def _number(word: str) -> int:
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else _NUM.get(word, 1)


def _unit(unit: str, today: date, step: int) -> tuple[date, date]:
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(days=6)
    if unit == "weekend":
        saturday = today + timedelta(days=(5 - today.weekday()) % 7) if today.weekday() < 5 else \
            today - timedelta(days=today.weekday() - 5)
        saturday += timedelta(weeks=step)
        return saturday, saturday + timedelta(days=1)
    if unit == "month":
        first = _add_months(today.replace(day=1), step)
        return first, _add_months(first, 1) - timedelta(days=1)
    return date(today.year + step, 1, 1), date(today.year + step, 12, 31)


def _dated(day: int, month: int, year: int | None, today: date, future: bool) -> tuple[date, date] | None:
    try:
        if year is not None:
            return _one(date(year, month, day))
        y = _nearest_year(date(today.year, month, min(day, 28)), today, future)
        return _one(date(y, month, day))
    except ValueError:  # 31 April, 29 February of a common year
        return None


def _nearest_year(d: date, today: date, future: bool, month: bool = False) -> int:
    """The year of the next such day (or month) from today on, or the last one before it for the past."""
    if month:
        this_month = (d.year, d.month) == (today.year, today.month)
        if this_month:
            return today.year
        ahead = (d.month, 1) > (today.month, 1)
    else:
        ahead = (d.month, d.day) >= (today.month, today.day)
    if future:
        return today.year if ahead else today.year + 1
    return today.year if not ahead else today.year - 1


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 + n
    y, mo = divmod(months, 12)
    return date(y, mo + 1, 1)


def _midnight(d: date, zone: ZoneInfo) -> float:
    naive = datetime.combine(d, time(0))
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:  # in a DST gap
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware.timestamp()
