"""Understand "when" and "what" in `/remind <when> <what>` and in ordinary requests ("remind me to ...").

Dates and times are read by dateparser in the chat's language (then English); only the recurrence words ("every
day", "every monday", "every 2 hours") and the split between the time phrase and the reminder text are rules of
our own, written in English: another language's recurrence words are read through dateparser's translation of
them, with the few words it lacks from bot/when/locales.py ("каждый", "cada", "jeden", "هر") and the parts of the
day, which dateparser has none of ("вечером", "por la tarde", "abends", "شب": "каждый вечер в 9" is 21:00). A
request in ordinary chat is found by its words in any of those languages ("напомни мне", "recuérdame", "یادم
بنداز"), and that language is the one the rest is read in. The time phrase may come first (`/remind tomorrow at
9 call Ana`) or last (`remind me to call Ana tomorrow at 10`): the longest run of words at either end that
dateparser accepts is taken as the time, the rest as the text.

Times are wall-clock times in the chat's time zone; the result carries the due time as an aware UTC datetime.
Parsing is CPU work of a few milliseconds (the first call loads dateparser's tables, ~0.5 s): call it off the
event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo

from bot.errors import EngramError
from bot.i18n import N_, _, current, local_time
from bot.reminders.recurrence import WEEKDAYS, Recurrence
from bot.when import locales
from bot.when.zones import zone

# Translated at use (usage()); a translation's examples must be read by this parser in its language
# (tests/test_reminder_languages.py checks every catalogue's).
USAGE = N_(
    "Usage: /remind <when> <what>\n"
    "Examples:\n"
    "  /remind in 10 minutes check the oven\n"
    "  /remind tomorrow at 9 call Ana\n"
    "  /remind on friday 18:30 drinks with Bo\n"
    "  /remind 2026-12-24 20:00 presents\n"
    "  /remind every day at 8:00 stretch\n"
    "  /remind every monday 9am team call"
)


def usage() -> str:
    """/remind's usage with examples, in the current chat's language."""
    return _(USAGE)


MAX_WHEN_WORDS = 8  # longest time phrase tried; "on the 24th of december at 8:30 pm" is 8 words
DEFAULT_HOUR = time(9, 0)  # a day without a time ("on friday") means 09:00, not midnight
RECURRENCE_HEADS = {"every", "each", "daily", "hourly", "weekly"}  # English; other languages: locales.WORDS
INTERVAL_UNITS = {
    "second": 1, "seconds": 1, "sec": 1, "secs": 1, "s": 1,
    "minute": 60, "minutes": 60, "min": 60, "mins": 60, "m": 60,
    "hour": 3600, "hours": 3600, "hr": 3600, "hrs": 3600, "h": 3600,
    "day": 86400, "days": 86400, "d": 86400,
    "week": 604800, "weeks": 604800, "w": 604800,
}
FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# The words that make ordinary text a reminder request, in every language of bot/when/locales.py (a group per
# language); the Telegram handler filters messages with them too. Words allowed before them: politeness
# (locales.WORDS[lang].polite), not a question about the past.
REQUEST_WORDS = locales.request_pattern()
# dateparser skips these words, so "on friday about the" would be read as a time and eat the text.
DANGLING_WORDS = set(locales.WORDS["en"].dangling)
MAX_TEXT = 3000  # a reminder is sent in one Telegram message (4096 characters) with a prefix
# Times and days that cannot exist: dateparser would quietly read around them ("tomorrow at 25:99" became tomorrow
# at the current time, "at 99:99 on the 45th" the year 2045). A clock time with a colon anywhere, one after "at",
# an ordinal day after "the".
_CLOCK = re.compile(r"\b(\d{1,3}):(\d{2,})\b|(?<!\w)(?:at|a las|às|um|ساعت)\s+(\d{1,3})(?:[.h](\d{2,}))?"
                    r"\b(?![.:]?\d)", re.I)
_DAY = re.compile(r"\bthe\s+(\d{1,4})(?:st|nd|rd|th)\b", re.I)


class ParseError(EngramError):
    """A reminder command could not be understood or carried out; the message says why and what to write."""


@dataclass(frozen=True)
class ParsedReminder:
    due_at: datetime  # first firing, aware, UTC
    text: str
    recurrence: Recurrence | None
    timezone: str
    language: str = "en"  # the language the time was read in


def _languages(*preferred: str | None) -> list[str]:
    """The languages to read a time in, in order, English last (a Russian chat may still write "in 10 minutes")."""
    out: list[str] = []
    for lang in (*preferred, "en"):
        if lang and lang not in out:
            out.append(lang)
    return out


def parse_reminder(args: str, tz: str, now: datetime | None = None, *, min_interval: int = 60,
                   lang: str | None = None) -> ParsedReminder:
    """Parse the arguments of /remind, read in `lang` (default: the current chat's) and English.
    Raises ParseError with a usage message in the current chat's language."""
    zone = _zone(tz)
    now = _aware_now(now)
    tokens = locales.spoken_rules(args, lang or current()).split()
    if len(tokens) < 2:
        raise ParseError(usage())
    _refuse_impossible_times(args)
    for language in _languages(lang or current()):
        found = _split(tokens, zone, now, min_interval, language)
        if found is not None:
            return _finish(found, tz, now, language)
    raise ParseError(_("I could not find a time in that.") + "\n" + usage())


def detect_natural_request(text: str, tz: str, now: datetime | None = None, *,
                           min_interval: int = 60, lang: str | None = None) -> ParsedReminder | None:
    """A reminder asked for in ordinary chat ("please remind me at 5pm to take the pills", "напомни мне через
    2 минуты позвонить маме"), or None. The time is read in the request words' language first.

    None when the text is not a request (including questions such as "what did you remind me about?") or no
    time is found in it; ParseError when it is a request for a time that has passed.
    """
    stripped = text.strip()
    match = REQUEST_WORDS.search(stripped)
    if not match:
        return None
    said_in = match.lastgroup or "en"
    before = re.findall(r"[^\W\d_][\w'-]*", stripped[:match.start()].lower())
    polite = locales.words(said_in).polite | locales.WORDS["en"].polite
    if any(word not in polite for word in before):
        return None
    rest = stripped[match.end():].strip().rstrip("?!.؟ ")
    rest = re.sub(r"^(?:for|,|:)\s+", "", rest, flags=re.I).lstrip(",: ")
    tokens = _without_politeness(locales.spoken_rules(rest, said_in).split(), polite)
    if len(tokens) < 2:
        return None
    _refuse_impossible_times(rest)
    zone = _zone(tz)
    now = _aware_now(now)
    for language in _languages(said_in, lang):
        found = _split(tokens, zone, now, min_interval, language)
        if found is not None:
            return _finish(found, tz, now, language)
    return None


def _without_politeness(tokens: list[str], polite: frozenset[str]) -> list[str]:
    """"Напомни, пожалуйста, через 40 минут…", "erinnere mich bitte am Donnerstag…", "recuérdame, por favor,
    mañana…": words of politeness right after the request words are not the start of the time."""
    i = 0
    while i < min(3, len(tokens) - 2) and tokens[i].lower().rstrip(",") in polite:
        i += 1
    return tokens[i:]


# ----- splitting "when" from "what" -----------------------------------------------------------------------------

def _split(tokens: list[str], zone: ZoneInfo, now: datetime, min_interval: int, lang: str = "en"):
    """(due, recurrence, text) or None; recurrence first, then a date phrase at the start, then at the end."""
    tokens = _merge_heads(tokens, lang)
    if _is_head(tokens[0], lang):
        return _recurring(tokens, zone, now, min_interval, lang)
    for i in range(len(tokens) - 1, 0, -1):
        if _is_head(tokens[i], lang):
            found = _recurring(tokens[i:], zone, now, min_interval, lang, text_before=tokens[:i])
            if found is not None:
                return found
    local_now = now.astimezone(zone)
    for k in range(min(MAX_WHEN_WORDS, len(tokens) - 1), 0, -1):  # the time phrase at the start
        due = _parse_when(" ".join(tokens[:k]), local_now, lang)
        if due is not None:
            return due, None, tokens[k:]
    for k in range(min(MAX_WHEN_WORDS, len(tokens) - 1), 0, -1):  # ... or at the end
        due = _parse_when(" ".join(tokens[-k:]), local_now, lang)
        if due is not None:
            return due, None, tokens[:-k]
    return None


def _merge_heads(tokens: list[str], lang: str) -> list[str]:
    """Two-word recurrence heads ("todos los", "todas as") as one token, so they are looked at like "every"; a
    head glued to its weekday ("щосуботи") as two ("кожної суботи")."""
    w = locales.words(lang)
    if w.glued:
        tokens = [part for token in tokens for part in _unglued(token, lang)]
    heads = {h for h in w.every if " " in h}
    if not heads:
        return tokens
    merged: list[str] = []
    i = 0
    while i < len(tokens):
        pair = " ".join(tokens[i:i + 2]).lower()
        if i + 1 < len(tokens) and pair in heads:
            merged.append(" ".join(tokens[i:i + 2]))
            i += 2
        else:
            merged.append(tokens[i])
            i += 1
    return merged


def _unglued(token: str, lang: str) -> list[str]:
    w, word = locales.words(lang), token.lower()
    if not word.startswith(w.glued) or word in w.daily or word in w.every:
        return [token]
    rest = token[len(w.glued):]
    if _weekday(locales.english_word(rest, lang)) is None:
        return [token]
    return [w.every[0], rest]


def _is_head(token: str, lang: str) -> bool:
    word = token.lower().rstrip(",")
    if word in RECURRENCE_HEADS:
        return True
    w = locales.words(lang)
    return lang != "en" and (word in w.every or word in w.daily)


# The parts of the day: "every evening at 9", "завтра в 9 вечера", "todas las noches a las 9" are 21:00; "every
# night" without a time 21:00, "завтра утром" 09:00. Each language's words for them are in bot/when/locales.py
# (TimeWords.parts), read into these English names.
PART_TIMES = {"morning": DEFAULT_HOUR, "afternoon": time(15, 0), "evening": time(19, 0), "night": time(21, 0),
              "lunch": time(12, 0)}
# A clock said as exactly as it can be ("at 1am", "06:00", "18:30"): kept whatever part of the day is named.
_EXACT_CLOCK = re.compile(r"(?<![a-z])[ap]\.?m\.?(?![a-z])|\b0\d[:.]\d\d|\b(?:1[3-9]|2[0-3])[:.]\d\d")


def _in_part_of_day(clock: time | None, part: str | None) -> time | None:
    """A clock time said with a part of the day ("every evening at 9", "в 9 вечера"): in that part of the day."""
    if part not in PART_TIMES:
        return clock
    if clock is None:
        return PART_TIMES[part]
    if part == "morning":
        return clock.replace(hour=0) if clock.hour == 12 else clock  # "в 12 утра": the start of the morning
    if clock.hour == 12 and part in ("night", "evening"):  # "every night at 12": midnight
        return clock.replace(hour=0)
    if 1 <= clock.hour < 12 and not (part == "night" and clock.hour < 5):  # "every night at 2" stays 02:00
        return clock.replace(hour=clock.hour + 12)
    return clock


def _with_part_of_day(text: str, lang: str) -> str:
    """A normalised phrase with its part of the day read into the clock: "завтра вечером в 9:00" -> "завтра в
    21:00", "mañana por la tarde" -> "mañana 15:00"; the phrase as it was when it names no part of the day."""
    part, rest = locales.part_of_day(text, lang)
    if part is None:
        return text
    clock = re.search(r"(?<![\d:])(\d{1,2})[:.](\d\d)(?![\d:])", rest)
    if clock is None:
        if re.search(r"\d\s*[ap]\.?m\b", rest):
            return rest  # "tomorrow morning at 7am": as said
        return f"{rest} {PART_TIMES[part].strftime('%H:%M')}".strip()
    if _EXACT_CLOCK.search(rest) or int(clock[1]) > 23:
        return rest
    moved = _in_part_of_day(time(int(clock[1]), int(clock[2]) % 60), part)
    assert moved is not None
    return f"{rest[:clock.start()]}{moved.strftime('%H:%M')}{rest[clock.end():]}"


def _recurring(tokens, zone, now, min_interval, lang="en", text_before=None):
    """Parse "every <rule> [<time of day>] [<what>]"; with text_before, nothing may follow the time."""
    rule, used = _rule(tokens, lang)
    if rule is None:
        return None
    words = _english_words(tokens, lang)
    part = None
    if rule == "daily":  # "every evening", "каждый вечер", "щовечора"
        part = words[1] if used == 2 else locales.part_of_day(tokens[0].lower(), lang)[0]
    rest = tokens[used:]
    local_now = now.astimezone(zone)
    clock, time_words = None, 0
    if rule != "interval":
        for k in range(min(MAX_WHEN_WORDS, len(rest)), 0, -1):
            parsed = _parse_when(" ".join(rest[:k]), local_now, lang, for_clock=True)
            if parsed is not None:
                clock, time_words = parsed.time().replace(second=0, microsecond=0), k
                break
    text = rest[time_words:]
    if text_before is not None:
        if text:
            return None
        text = text_before
    said = locales.ascii_digits(" ".join(rest[:time_words])).lower()
    if part in PART_TIMES and clock is not None and _EXACT_CLOCK.search(said):
        part = None  # "every night at 1am", "every evening at 06:00": as said
    clock = _in_part_of_day(clock, part)
    recurrence = _make_recurrence(rule, clock or DEFAULT_HOUR)
    if recurrence.kind == "interval" and recurrence.seconds < min_interval:
        raise ParseError(_("A repeating reminder needs an interval of at least {seconds} seconds.")
                         .format(seconds=min_interval))
    return recurrence.first_after(now, zone.key), recurrence, text


def _english_words(tokens: list[str], lang: str) -> list[str]:
    """The first words of a recurrence in English: the head as "every"/"daily", the rest as dateparser
    translates them ("среду" -> "wednesday", "часа" -> "hour")."""
    if lang == "en":
        return [t.lower().rstrip(",") for t in tokens]
    words = [locales.ascii_digits(t).lower().rstrip(",") for t in tokens[:3]]
    w = locales.words(lang)
    head = "daily" if words[0] in w.daily else "every" if words[0] in w.every else words[0]
    part = locales.part_after(words[0], words[1], lang) if len(words) > 1 else None
    return [head] + [part or _english_word(words[1], lang)] * (len(words) > 1) + [
        _english_word(word, lang) for word in words[2:]]


def _english_word(word: str, lang: str) -> str:
    """dateparser's English for a word, or for the word without a plural "s" ("lundis" -> "monday")."""
    english = locales.english_word(word, lang)
    if english == word and word.endswith("s") and len(word) > 3:
        singular = locales.english_word(word[:-1], lang)
        return singular if singular != word[:-1] else english
    return english


def _rule(tokens: list[str], lang: str = "en"):
    """The recurrence words at the start: (rule, words used). rule is ('interval', seconds) or a name."""
    words = _english_words(tokens, lang)
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
    if nxt in ("day", *PART_TIMES):
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

_MONTH_START = re.compile(r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")


def _trailing_number_is_text(text: str, lang: str) -> bool:
    """"in 10 minutes 5 pushups": dateparser also accepts "in 10 minutes 5"; the 5 belongs to the text — unless
    the word before it makes it a day or an hour ("at 9", "dec 24", "the 24")."""
    if not re.search(r"[^\W\d_]\s+\d+$", text):
        return False
    previous = text.split()[-2]
    if previous in ("at", "the") or _MONTH_START.match(previous):
        return False
    return not (lang != "en" and _MONTH_START.match(locales.english_word(previous, lang)))


def _parse_when(phrase: str, local_now: datetime, lang: str = "en", *, for_clock: bool = False) -> datetime | None:
    """A naive local datetime for the phrase read in `lang`, or None. local_now is aware, in the chat's zone.

    Rejects trailing numbers that would swallow the start of the text."""
    import dateparser

    if any(word in _zone_words() for word in phrase.split()):
        return None  # "feed the cat at 6": dateparser reads "cat" as Central Africa Time and eats the text
    text = _with_part_of_day(locales.normalise(phrase, lang), lang)
    words = locales.words(lang)
    if (not text or re.fullmatch(r"[\d\s]+", text) or text.split()[-1] in DANGLING_WORDS
            or text.split()[-1] in words.dangling):
        return None
    if _trailing_number_is_text(text, lang):
        return None
    if for_clock and not re.search(r"\d|noon|midnight|morning|evening|night", text):
        return None
    settings = {"RELATIVE_BASE": local_now.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                "RETURN_AS_TIMEZONE_AWARE": False}
    parsed = dateparser.parse(text, languages=[lang], settings=settings)
    if parsed is None:
        return None
    if parsed.tzinfo is not None:  # "at 9:00 UTC": convert to the chat's wall clock
        parsed = parsed.astimezone(local_now.tzinfo).replace(tzinfo=None)
    midnight = "|".join(map(re.escape, (*words.midnight, *locales.WORDS["en"].midnight)))
    if (parsed.time() == time(0) and local_now.time() != time(0)
            and not re.search(rf"{midnight}|\b0?0[:.]00\b|12\s*am", text)):
        parsed = datetime.combine(parsed.date(), DEFAULT_HOUR)
    elif (not for_clock and not re.search(r"\d", text) and parsed.date() != local_now.date()
          and parsed.time().replace(second=0, microsecond=0) == local_now.time().replace(second=0, microsecond=0,
                                                                                        tzinfo=None)):
        # "tomorrow", "next week", "завтра": a day, whose hour dateparser fills with the current one (a reminder
        # asked for at 3 am would ring at 3 am); a day said without a time is at DEFAULT_HOUR, like "friday".
        parsed = datetime.combine(parsed.date(), DEFAULT_HOUR)
    return parsed


# Zones people do write in lower case ("at 9 utc", "5pm est"); any other abbreviation of dateparser's ("cat",
# "vet", "eat", "get", "west", "must"…) written in lower case is a word of the text, not a zone.
_TYPED_ZONES = frozenset({"utc", "gmt", "cet", "cest", "eet", "eest", "bst", "ist", "msk", "est", "edt",
                          "cst", "cdt", "mst", "mdt", "pst", "pdt", "jst", "kst", "hkt", "sgt", "aest", "aedt",
                          "wib", "irst"})


@cache
def _zone_words() -> frozenset[str]:
    """Lower-case words dateparser would take for a time zone."""
    from dateparser.timezones import timezone_info_list

    names = {name.lower() for info in timezone_info_list for name, _offset in info["timezones"]}
    return frozenset(n for n in names if n.isalpha() and n not in _TYPED_ZONES)


def _refuse_impossible_times(text: str) -> None:
    text = locales.ascii_digits(text)
    for match in _CLOCK.finditer(text):
        hour, minute = (match[1], match[2]) if match[1] is not None else (match[3], match[4])
        if int(hour) > 23 or (minute is not None and int(minute) > 59):
            raise ParseError(_("“{phrase}” is not a time of day.").format(phrase=match[0]) + "\n" + usage())
    for match in _DAY.finditer(text):
        if not 1 <= int(match[1]) <= 31:
            raise ParseError(_("“{phrase}” is not a day of a month.").format(phrase=match[0]) + "\n" + usage())


def _strip_fillers(text: str, lang: str) -> str:
    """"to call Ana", "about the meeting", "о том, что", "que llame": the link words before the text."""
    fillers = locales.WORDS["en"].fillers | locales.words(lang).fillers
    elided = tuple(f for f in fillers if f.endswith("'"))  # French "d'appeler", "qu'il"
    while True:
        head, _sep, tail = text.partition(" ")
        if head.lower().strip(",:") in fillers or head in (":", "-", ","):
            text = tail.strip()
        elif elided and head.lower().startswith(elided) and len(head) > 2:
            return text[text.index("'") + 1:]
        else:
            return text


def _finish(found, tz: str, now: datetime, lang: str = "en") -> ParsedReminder:
    due, recurrence, text_tokens = found
    text = _strip_fillers(" ".join(text_tokens).strip(), lang)
    text = text.strip(" ,.;:-")
    if not text:
        raise ParseError(_("What should I remind you of?") + "\n" + usage())
    if len(text) > MAX_TEXT:
        raise ParseError(_("That reminder is too long: keep it under {limit} characters.").format(limit=MAX_TEXT))
    if isinstance(due, datetime) and due.tzinfo is None:
        due = _localise(due, ZoneInfo(tz))
    if due <= now:
        raise ParseError(_("That time has already passed ({time}, {zone}). Give a time in the future.")
                         .format(time=local_time(due, tz), zone=tz))
    return ParsedReminder(due.astimezone(timezone.utc), text, recurrence, tz, lang)


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
        raise ParseError(_("Unknown time zone {zone!r}. Set one with /timezone Europe/Lisbon.").format(zone=tz))
    return found


def _aware_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now
