"""Understand "when" and "what" in `/remind <when> <what>` and in ordinary requests ("remind me to ...").

Dates and times are read by dateparser (English); only the recurrence words ("every day", "every monday",
"every 2 hours") and the split between the time phrase and the reminder text are rules of our own. The time
phrase may come first (`/remind tomorrow at 9 call Ana`) or last (`remind me to call Ana tomorrow at 10`): the
longest run of words at either end that dateparser accepts is taken as the time, the rest as the text.

Times are wall-clock times in the chat's time zone; the result carries the due time as an aware UTC datetime.
Parsing is CPU work of a few milliseconds (the first call loads dateparser's tables, ~0.5 s): call it off the
event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.errors import EngramError
from bot.reminders.recurrence import WEEKDAYS, Recurrence
from bot.when.zones import zone

USAGE = (
    "Usage: /remind <when> <what>\n"
    "Examples:\n"
    "  /remind in 10 minutes check the oven\n"
    "  /remind tomorrow at 9 call Ana\n"
    "  /remind on friday 18:30 drinks with Bo\n"
    "  /remind 2026-12-24 20:00 presents\n"
    "  /remind every day at 8:00 stretch\n"
    "  /remind every monday 9am team call"
)

MAX_WHEN_WORDS = 8  # longest time phrase tried; "on the 24th of december at 8:30 pm" is 8 words
DEFAULT_HOUR = time(9, 0)  # a day without a time ("on friday") means 09:00, not midnight
RECURRENCE_HEADS = {"every", "each", "daily", "hourly", "weekly"}
INTERVAL_UNITS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "s": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
    "day": 86400, "days": 86400, "d": 86400,
    "week": 604800, "weeks": 604800, "w": 604800,
}
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Words allowed before "remind me" in a natural request: politeness, not a question about the past.
POLITE_WORDS = {"please", "pls", "hey", "hi", "ok", "okay", "engram", "can", "could", "would", "will", "you",
                "kindly", "and", "also", "so", "oh", "then", "just", "bot"}
# The words that make ordinary text a reminder request; the Telegram handler filters messages with them too.
REQUEST_WORDS = re.compile(r"\b(?:remind me|set an? reminder)\b", re.I)
NATURAL_RE = re.compile(rf"^(?P<before>.*?){REQUEST_WORDS.pattern}(?P<rest>.*)$", re.I | re.S)
# dateparser skips these words, so "on friday about the" would be read as a time and eat the text.
DANGLING_WORDS = {"at", "on", "in", "the", "to", "about", "for", "of", "a", "an", "and", "that", "by", "after",
                  "before", "from", "until", "past"}
FILLER_RE = re.compile(r"^(?:to|about|that|of|for|:|-|,)(?:\s+|$)", re.I)
MAX_TEXT = 3000  # a reminder is sent in one Telegram message (4096 characters) with a prefix
# Times and days that cannot exist: dateparser would quietly read around them ("tomorrow at 25:99" became tomorrow
# at the current time, "at 99:99 on the 45th" the year 2045). A clock time with a colon anywhere, one after "at",
# an ordinal day after "the".
_CLOCK = re.compile(r"\b(\d{1,3}):(\d{2,})\b|\bat\s+(\d{1,3})(?:[.h](\d{2,}))?\b(?![.:]?\d)", re.I)
_DAY = re.compile(r"\bthe\s+(\d{1,4})(?:st|nd|rd|th)\b", re.I)


class ParseError(EngramError):
    """A reminder command could not be understood or carried out; the message says why and what to write."""


@dataclass(frozen=True)
class ParsedReminder:
    due_at: datetime  # first firing, aware, UTC
    text: str
    recurrence: Recurrence | None
    timezone: str


def parse_reminder(args: str, tz: str, now: datetime | None = None, *, min_interval: int = 60) -> ParsedReminder:
    """Parse the arguments of /remind. Raises ParseError with a usage message."""
    zone = _zone(tz)
    now = _aware_now(now)
    tokens = args.split()
    if len(tokens) < 2:
        raise ParseError(USAGE)
    _refuse_impossible_times(args)
    found = _split(tokens, zone, now, min_interval)
    if found is None:
        raise ParseError(f"I could not find a time in that.\n{USAGE}")
    return _finish(found, tz, now)


def detect_natural_request(text: str, tz: str, now: datetime | None = None, *,
                           min_interval: int = 60) -> ParsedReminder | None:
    """A reminder asked for in ordinary chat ("please remind me at 5pm to take the pills"), or None.

    None when the text is not a request (including questions such as "what did you remind me about?") or no
    time is found in it; ParseError when it is a request for a time that has passed.
    """
    match = NATURAL_RE.match(text.strip())
    if not match:
        return None
    before = re.findall(r"[a-z']+", match["before"].lower())
    if any(word not in POLITE_WORDS for word in before):
        return None
    rest = re.sub(r"^(?:for|,)\s+", "", match["rest"].strip().rstrip("?!. "), flags=re.I)
    tokens = rest.split()
    if len(tokens) < 2:
        return None
    _refuse_impossible_times(rest)
    zone = _zone(tz)
    now = _aware_now(now)
    found = _split(tokens, zone, now, min_interval)
    if found is None:
        return None
    return _finish(found, tz, now)


# ----- splitting "when" from "what" -----------------------------------------------------------------------------

def _split(tokens: list[str], zone: ZoneInfo, now: datetime, min_interval: int):
    """(due, recurrence, text) or None; recurrence first, then a date phrase at the start, then at the end."""
    lowered = [t.lower() for t in tokens]
    if lowered[0] in RECURRENCE_HEADS:
        return _recurring(tokens, zone, now, min_interval)
    for i in range(len(tokens) - 1, 0, -1):
        if lowered[i] in RECURRENCE_HEADS:
            found = _recurring(tokens[i:], zone, now, min_interval, text_before=tokens[:i])
            if found is not None:
                return found
    local_now = now.astimezone(zone)
    for k in range(min(MAX_WHEN_WORDS, len(tokens) - 1), 0, -1):  # the time phrase at the start
        due = _parse_when(" ".join(tokens[:k]), local_now)
        if due is not None:
            return due, None, tokens[k:]
    for k in range(min(MAX_WHEN_WORDS, len(tokens) - 1), 0, -1):  # ... or at the end
        due = _parse_when(" ".join(tokens[-k:]), local_now)
        if due is not None:
            return due, None, tokens[:-k]
    return None


def _recurring(tokens, zone, now, min_interval, text_before=None):
    """Parse "every <rule> [<time of day>] [<what>]"; with text_before, nothing may follow the time."""
    rule, used = _rule(tokens)
    if rule is None:
        return None
    rest = tokens[used:]
    local_now = now.astimezone(zone)
    clock, time_words = None, 0
    if rule != "interval":
        for k in range(min(MAX_WHEN_WORDS, len(rest)), 0, -1):
            parsed = _parse_when(" ".join(rest[:k]), local_now, for_clock=True)
            if parsed is not None:
                clock, time_words = parsed.time().replace(second=0, microsecond=0), k
                break
    text = rest[time_words:]
    if text_before is not None:
        if text:
            return None
        text = text_before
    recurrence = _make_recurrence(rule, clock or DEFAULT_HOUR)
    if recurrence.kind == "interval" and recurrence.seconds < min_interval:
        raise ParseError(f"A repeating reminder needs an interval of at least {min_interval} seconds.")
    return recurrence.first_after(now, zone.key), recurrence, text


def _rule(tokens: list[str]):
    """The recurrence words at the start: (rule, words used). rule is ('interval', seconds) or a name."""
    words = [t.lower().rstrip(",") for t in tokens]
    head = words[0]
    if head == "daily":
        return "daily", 1
    if head == "hourly":
        return ("interval", 3600), 1
    if head == "weekly":
        return ("interval", 604800), 1
    if len(words) < 2:
        return None, 0
    nxt = words[1]
    if nxt in ("day", "morning"):
        return "daily", 2
    if nxt in ("weekday", "weekdays", "workday", "workdays"):
        return "weekdays", 2
    day = _weekday(nxt)
    if day is not None:
        return ("weekly", day), 2
    if nxt in INTERVAL_UNITS and len(nxt) > 1:
        return ("interval", INTERVAL_UNITS[nxt]), 2
    number = re.fullmatch(r"(\d+)\s*([a-z]*)", nxt)
    if number:
        count, unit, used = int(number[1]), number[2], 2
        if not unit and len(words) > 2:
            unit, used = words[2], 3
        if unit in INTERVAL_UNITS and count > 0:
            return ("interval", count * INTERVAL_UNITS[unit]), used
    return None, 0


def _weekday(word: str) -> int | None:
    word = word.rstrip("s") if word not in ("tues", "thurs") else word
    for i, name in enumerate(FULL_WEEKDAYS):
        if word == name or word == WEEKDAYS[i] or (len(word) >= 3 and name.startswith(word)):
            return i
    return None


def _make_recurrence(rule, clock: time) -> Recurrence:
    if isinstance(rule, tuple) and rule[0] == "interval":
        return Recurrence("interval", seconds=rule[1])
    if isinstance(rule, tuple):
        return Recurrence("weekly", at=clock, weekday=rule[1])
    return Recurrence(rule, at=clock)


# ----- one time phrase --------------------------------------------------------------------------------------------

def _normalise(phrase: str) -> str:
    phrase = phrase.lower().strip(" ,.;:")
    # "at 9" would be read as September: make a bare hour after "at" a clock time.
    phrase = re.sub(r"\bat (\d{1,2})\b(?![:.]\d)(?!\s*(?:am|pm|a\.m|p\.m|h\b))", r"at \1:00", phrase)
    return phrase


def _parse_when(phrase: str, local_now: datetime, *, for_clock: bool = False) -> datetime | None:
    """A naive local datetime for the phrase, or None. local_now is aware, in the chat's zone.

    Rejects trailing numbers that would swallow the start of the text."""
    import dateparser

    text = _normalise(phrase)
    if not text or re.fullmatch(r"[\d\s]+", text) or text.split()[-1] in DANGLING_WORDS:
        return None
    # "in 10 minutes 5 pushups": dateparser also accepts "in 10 minutes 5"; the 5 belongs to the text.
    if re.search(r"[a-z]\s+\d+$", text) and not re.search(r"(?:at|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|"
                                                      r"aug\w*|sep\w*|oct\w*|nov\w*|dec\w*|the)\s+\d+$", text):
        return None
    if for_clock and not re.search(r"\d|noon|midnight|morning|evening|night", text):
        return None
    settings = {"RELATIVE_BASE": local_now.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                "RETURN_AS_TIMEZONE_AWARE": False}
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    if parsed is None:
        return None
    if parsed.tzinfo is not None:  # "at 9:00 UTC": convert to the chat's wall clock
        parsed = parsed.astimezone(local_now.tzinfo).replace(tzinfo=None)
    if (parsed.time() == time(0) and local_now.time() != time(0)
            and not re.search(r"midnight|\b0?0[:.]00\b|12\s*am", text)):
        parsed = datetime.combine(parsed.date(), DEFAULT_HOUR)
    return parsed


def _refuse_impossible_times(text: str) -> None:
    for match in _CLOCK.finditer(text):
        hour, minute = (match[1], match[2]) if match[1] is not None else (match[3], match[4])
        if int(hour) > 23 or (minute is not None and int(minute) > 59):
            raise ParseError(f"“{match[0]}” is not a time of day.\n{USAGE}")
    for match in _DAY.finditer(text):
        if not 1 <= int(match[1]) <= 31:
            raise ParseError(f"“{match[0]}” is not a day of a month.\n{USAGE}")


def _finish(found, tz: str, now: datetime) -> ParsedReminder:
    due, recurrence, text_tokens = found
    text = " ".join(text_tokens).strip()
    while True:  # "to call Ana", "about the meeting"
        stripped = FILLER_RE.sub("", text)
        if stripped == text:
            break
        text = stripped
    text = text.strip(" ,.;:-")
    if not text:
        raise ParseError(f"What should I remind you of?\n{USAGE}")
    if len(text) > MAX_TEXT:
        raise ParseError(f"That reminder is too long: keep it under {MAX_TEXT} characters.")
    if isinstance(due, datetime) and due.tzinfo is None:
        due = _localise(due, ZoneInfo(tz))
    if due <= now:
        shown = due.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")
        raise ParseError(f"That time has already passed ({shown}, {tz}). Give a time in the future.")
    return ParsedReminder(due.astimezone(timezone.utc), text, recurrence, tz)


def _localise(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach the zone; a wall-clock time that does not exist (DST gap) moves forward by the gap."""
    aware = naive.replace(tzinfo=zone)
    roundtrip = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if roundtrip != naive:  # in the gap: 02:30 on the spring-forward night is 03:30
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


def _zone(tz: str) -> ZoneInfo:
    found = zone(tz)
    if found is None:
        raise ParseError(f"Unknown time zone {tz!r}. Set one with /timezone Europe/Lisbon.")
    return found


def _aware_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now
