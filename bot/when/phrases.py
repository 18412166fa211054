"""Time phrases in recall queries: "what did I say last week about the flat" -> a window of time and the query
without its time phrase.

    >>> w = parse_time_phrase("what did I say last week about the flat", now, "Europe/Lisbon")
    >>> w.start, w.end, w.query, w.label
    (datetime(2026, 11, 23, 0, 0, tzinfo=Lisbon), datetime(2026, 11, 30, 0, 0, tzinfo=Lisbon),
     'what did I say about the flat', '23-29 Nov')

The window is half-open, [start, end), as aware datetimes in the chat's zone; calendar units are the zone's
(a day is midnight to midnight there, a week Monday to Sunday). Past only: a phrase about the
future ("tomorrow", "next week") is what the user is asking about, not when it was said, and gives None.

What is understood (case-insensitive; an optional leading "in", "on", "during", "from", "of", "at", "over",
"around" belongs to the phrase and goes with it):
- today, earlier today, this morning/afternoon/evening, tonight, yesterday (morning/...), last night,
  the day before yesterday;
- this/last/previous week, month, year, weekend (calendar units); the past week/month/year (rolling, ending
  today); the week/month/year before last;
- N days/weeks/months/years ago (N a number, a word up to twelve, "a", "a couple of"; "a few" = 2-4), a fortnight ago;
- in/over/during the last/past N days/weeks/months/years (a rolling window ending now);
- weekdays: "on Monday", "last Monday", "this Monday" (the most recent one before today; "this Monday" may
  be today); abbreviations ("sat", "sun", "wed") only after on/last/this;
- dates: "3 May", "May 3rd", "the 3rd of May", "May 3, 2023", "2023-05-03"; months: "in May", "May 2023",
  "2023-05"; years: "in 2023"; seasons: "last summer", "in the winter", "summer 2023" (northern hemisphere,
  meteorological: winter YEAR is December YEAR-1 to February YEAR);
- before / after / since / until + any of the above: open-ended windows ("before May" is the epoch to 1 May).
A month or day without a year is the most recent one not in the future. Bare month names need a date, a year
or a preposition ("in may"), so "may" the verb is left alone; bare years need a preposition ("in 2023").

Other languages: a phrase dateparser translates into one of the above is read the same way ("la semana
pasada", "на прошлой неделе", "letzte Woche" -> "1 week ago"; "پارسال" -> "1 year ago", bot/when/locales.py).

Event anchors ("before the trip") are not dates: they give None here (see the notes in the design doc).

Dates are read by dateparser (already a dependency, for reminders); the first call loads its tables (~0.5 s),
later ones take a few milliseconds. CPU work: call it off the event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.i18n import current
from bot.when import locales

__all__ = ["TimeWindow", "parse_time_phrase"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
             "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
             "sunday": 6, "sun": 6}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "couple of": 2,
            "a few": 3, "few": 3, "several": 3}
_SEASONS = {"spring": (3, 3), "summer": (6, 3), "autumn": (9, 3), "fall": (9, 3), "winter": (12, 3)}

# ----- patterns ---------------------------------------------------------------------------------------------------
_M = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|" \
     r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_D = r"(?:[12][0-9]|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_Y = r"(?:19[7-9][0-9]|20[0-9][0-9]|2100)"
_N = r"(?:\d{1,3}|a couple of|couple of|a few|few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten|" \
     r"eleven|twelve)"
_UNIT = r"(?:day|week|month|year)s?"
_WD = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
_SEASON = r"(?:spring|summer|autumn|fall|winter)"
_MOD = r"(?:(?P<mod>before|after|since|until|till|prior to)\s+)"

# Each core pattern names its kind; the first group set decides how it is read.
_CORES = [
    ("future", r"tomorrow|next\s+(?:week|month|year|weekend|" + _WD + r")|in\s+" + _N + r"\s+" + _UNIT
     + r"(?!\s+ago)|later\s+(?:today|this\s+week)"),
    ("rolling", r"(?:in|over|during|within)\s+the\s+(?:last|past|previous)\s+(?:(?P<rn>" + _N + r")\s+)?(?P<ru>"
     + _UNIT + r")|(?:the\s+)?(?:last|past|previous)\s+(?P<rn2>" + _N + r")\s+(?P<ru2b>" + _UNIT + r")"),
    ("ago", r"(?P<an>" + _N + r")\s+(?P<au>" + _UNIT + r")\s+ago|a\s+fortnight\s+ago"),
    ("before_last", r"the\s+(?P<bu>week|month|year)\s+before\s+last"),
    ("day_before_yesterday", r"the\s+day\s+before\s+yesterday"),
    ("last_night", r"last\s+night"),
    ("yesterday", r"yesterday(?:\s+(?:morning|afternoon|evening|night))?"),
    ("today", r"(?:earlier\s+)?today|this\s+(?:morning|afternoon|evening)|tonight"),
    ("relative_unit", r"(?:the\s+)?(?P<rw>this|last|past|previous)\s+(?P<ru2>week|month|year|weekend)"),
    ("weekday", r"(?:(?P<ww>last|this|this\s+past)\s+)?(?P<wd>" + _WD + r")(?!\w)"),
    ("iso_day", r"(?P<iy>" + _Y + r")-(?P<im>0[1-9]|1[0-2])-(?P<id>0[1-9]|[12][0-9]|3[01])"),
    ("iso_month", r"(?P<jy>" + _Y + r")-(?P<jm>0[1-9]|1[0-2])(?![-\d])"),
    ("day_month", r"(?:the\s+)?" + _D + r"(?:\s+of)?\s+" + _M + r"(?:,?\s+" + _Y + r")?"),
    ("month_day", _M + r"\s+" + _D + r"(?:,?\s+" + _Y + r")?(?!\d)"),
    ("month_year", _M + r",?\s+" + _Y),
    ("season", r"(?:(?P<sw>last|this|the)\s+)?(?P<sn>" + _SEASON + r")(?:\s+(?:of\s+)?(?P<sy>" + _Y + r"))?"),
    ("month", _M),
    ("year", _Y),
]
# Kinds that need a preposition or modifier in front (bare "may", "march", "fall", "2023" are often not times).
_NEEDS_PREP = {"month", "year", "season"}
_PATTERN = re.compile(
    r"(?<![\w-])(?:" + _MOD + r"|(?P<prep>in|on|during|from|at|over|around)\s+)?(?:"
    + "|".join(f"(?P<k_{name}>{core})" for name, core in _CORES) + r")(?![\w-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TimeWindow:
    start: datetime  # aware, in the chat's zone; inclusive
    end: datetime  # aware, in the chat's zone; exclusive
    query: str  # the query with the time phrase (and its preposition) removed
    label: str  # human-readable window, e.g. "23-29 Nov", "May 2023", "yesterday (1 Dec)"
    phrase: str  # the words recognised, as written

    @property
    def start_ts(self) -> float:
        return self.start.timestamp()

    @property
    def end_ts(self) -> float:
        return self.end.timestamp()

    def contains(self, ts: float) -> bool:
        return self.start_ts <= ts < self.end_ts


def parse_time_phrase(text: str, now: datetime, tz: str, lang: str | None = None) -> TimeWindow | None:
    """The first time phrase of `text` that names a window in the past, or None.

    `now` must be aware (any zone); `tz` is an IANA zone name (ValueError if unknown). `lang` (default: the
    current chat's, bot/i18n.py): in a language other than English, a phrase of it that dateparser translates
    into one this module reads ("la semana pasada" -> "1 week ago", "پارسال" -> "1 year ago") counts too."""
    found = _english(text, now, tz)
    lang = lang or current()
    if found is None and lang != "en":
        found = _translated(text, now, tz, lang)
    return found


MAX_FOREIGN_WORDS = 4  # longest phrase of another language tried ("на прошлой неделе", "в прошлом месяце")


def _translated(text: str, now: datetime, tz: str, lang: str) -> TimeWindow | None:
    """The longest run of words of `text` (first from the left) that dateparser translates into a whole English
    time phrase of this module, as a window of the original text."""
    tokens = list(re.finditer(r"\S+", text))
    vocabulary = locales.time_words(lang)
    timely = [any(w in vocabulary for w in re.findall(r"[^\W\d_]+", locales.fold(t[0]))) for t in tokens]
    for n in range(min(MAX_FOREIGN_WORDS, len(tokens)), 0, -1):
        for i in range(len(tokens) - n + 1):
            if not any(timely[i:i + n]):
                continue  # no word of dateparser's tables in it: not a time phrase
            start, end = tokens[i].start(), tokens[i + n - 1].end()
            span = text[start:end].strip(" ,.;:!?¿¡؟،")
            english = locales.translate_phrase(span, lang) if span else None
            if not english or english == span.lower() or (n == 1 and len(span) < 4):
                continue  # short single words are abbreviations as often as not ("mi" is not Wednesday)
            window = _english(english, now, tz)
            if window is None and not english.startswith("in "):  # "в ноябре" -> "november": a month named
                window = _english(f"in {english}", now, tz)  # with its preposition, which English needs
            if window is None or window.query.strip():
                continue  # the translation must be a time phrase and nothing else
            return TimeWindow(window.start, window.end, _remove(text, start, end), window.label, text[start:end])
    return None


def _english(text: str, now: datetime, tz: str) -> TimeWindow | None:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    try:
        zone = ZoneInfo(tz)
    except Exception:
        raise ValueError(f"unknown time zone {tz!r}") from None
    local_now = now.astimezone(zone)
    for match in _PATTERN.finditer(text):
        kind = next(name[2:] for name, value in match.groupdict().items() if name.startswith("k_") and value)
        bare = kind in _NEEDS_PREP and not (match.group("prep") or match.group("mod"))
        if bare and not (kind == "season" and (match.group("sw") in ("last", "this") or match.group("sy"))):
            continue
        if kind == "future":  # what the user asks about, not when it was said
            continue
        if kind == "weekday" and not (match.group("prep") or match.group("mod") or match.group("ww")) \
                and m_abbrev(match.group("wd")):
            continue  # "sat", "sun", "wed" alone are words, not days
        days = _window(kind, match, local_now)
        if days is None:
            continue
        first, last, label = days  # dates, inclusive
        start = _midnight(first, zone)
        end = _midnight(last + timedelta(days=1), zone)
        mod = (match.group("mod") or "").lower()
        if mod in ("before", "prior to"):
            start, end, label = EPOCH.astimezone(zone), start, f"before {label}"
        elif mod in ("until", "till"):
            start, label = EPOCH.astimezone(zone), f"until {label}"
        elif mod == "after":
            start, end, label = end, max(_midnight(local_now.date() + timedelta(days=1), zone), end), f"after {label}"
        elif mod == "since":
            end, label = max(_midnight(local_now.date() + timedelta(days=1), zone), end), f"since {label}"
        if end <= start:
            continue
        return TimeWindow(start, end, _remove(text, match.start(), match.end()), label, match.group(0))
    return None


# ----- reading one phrase -----------------------------------------------------------------------------------------
def _window(kind: str, m: re.Match, now: datetime) -> tuple[date, date, str] | None:
    today = now.date()
    if kind == "today":
        return today, today, f"today ({_day(today, today)})"
    if kind == "yesterday":
        d = today - timedelta(days=1)
        return d, d, f"yesterday ({_day(d, today)})"
    if kind == "day_before_yesterday":
        d = today - timedelta(days=2)
        return d, d, _day(d, today)
    if kind == "last_night":  # the evening of yesterday and the small hours of today: both days
        d = today - timedelta(days=1)
        return d, today, f"last night ({_day(d, today)})"
    if kind == "relative_unit":
        which, unit = m.group("rw").lower(), m.group("ru2").lower()
        if which == "past" and unit != "weekend":  # "the past month": a rolling window ending today
            first = _shift(today, unit, 1)
            return first, today, f"the past {unit} ({_range(first, today, today)})"
        return _unit_window(unit, today, 0 if which == "this" else 1, today)
    if kind == "before_last":
        return _unit_window(m.group("bu").lower(), today, 2, today)
    if kind == "ago":
        number = 2 if m.group("an") is None else _number(m.group("an"))  # None: "a fortnight ago"
        unit = "week" if m.group("an") is None else m.group("au").lower().rstrip("s")
        if number is None:
            return None
        n = number
        spread = 1 if m.group("an") and m.group("an").lower().strip() in ("a few", "few", "several") else 0
        first, last, label = _unit_window(unit, _shift(today, unit, n), 0, today)
        if spread:  # "a few weeks ago": two to four weeks ago
            first = _unit_window(unit, _shift(today, unit, n + 1), 0, today)[0]
            last = _unit_window(unit, _shift(today, unit, n - 1), 0, today)[1]
            label = _range(first, last, today) if unit in ("day", "week") else f"{label} ± 1 {unit}"
        return first, last, label
    if kind == "rolling":
        count, unit = (m.group("rn"), m.group("ru")) if m.group("ru") else (m.group("rn2"), m.group("ru2b"))
        rolled = _number(count) if count else 1
        if rolled is None:
            return None
        n, unit = rolled, unit.lower().rstrip("s")
        first = _shift(today, unit, n)
        return first, today, f"the past {n} {unit}{'s' if n != 1 else ''} ({_range(first, today, today)})"
    if kind == "weekday":
        wd = _WEEKDAYS[m.group("wd").lower()]
        which = (m.group("ww") or "").lower()
        back = (today.weekday() - wd) % 7
        if back == 0 and which != "this":
            back = 7
        d = today - timedelta(days=back)
        return d, d, f"{_WEEKDAY_NAMES[wd]} {_day(d, today)}"
    if kind == "season":
        return _season(m.group("sn").lower(), m.group("sw"), m.group("sy"), today)
    return _dated(kind, m, now)


_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def m_abbrev(word: str) -> bool:
    return word.lower() not in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _dated(kind: str, m: re.Match, now: datetime) -> tuple[date, date, str] | None:
    """Absolute dates, months and years, read by dateparser (most recent one not in the future)."""
    today = now.date()
    if kind == "iso_day":
        d = date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        return d, d, _day(d, today)
    if kind == "iso_month":
        y, mo = int(m.group("jy")), int(m.group("jm"))
        return _month(y, mo, today)
    core = m.group(f"k_{kind}")
    if kind == "year":
        y = int(core)
        return date(y, 1, 1), date(y, 12, 31), str(y)
    parsed = _dateparse(core, now)
    if parsed is None:
        return None
    when, period = parsed
    if kind in ("month", "month_year") or period == "month":
        return _month(when.year, when.month, today)
    d = when.date()
    return d, d, _day(d, today)


def _dateparse(phrase: str, now: datetime) -> tuple[datetime, str] | None:
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": now.replace(tzinfo=None),
                "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"}
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", phrase, flags=re.I)
    cleaned = re.sub(r"^the\s+", "", cleaned, flags=re.I)
    data = DateDataParser(languages=["en"], settings=settings).get_date_data(cleaned)
    if data is None or data.date_obj is None:
        return None
    when = data.date_obj
    # dateparser keeps a month-day without a year in the current year even when it is still to come
    if when.date() > now.date() and not re.search(r"\d{4}", phrase):
        try:
            when = when.replace(year=when.year - 1)
        except ValueError:  # 29 February
            when = when.replace(year=when.year - 1, day=28)
    return when, data.period or "day"


# ----- calendar helpers ------------------------------------------------------------------------------------------
def _number(word: str) -> int | None:
    word = " ".join(word.lower().split())
    if word.isdigit():
        n = int(word)
        return n if 0 < n <= 200 else None
    return _NUMBERS.get(word)


def _shift(d: date, unit: str, n: int) -> date:
    if unit == "day":
        return d - timedelta(days=n)
    if unit == "week":
        return d - timedelta(weeks=n)
    months = d.year * 12 + d.month - 1 - (n if unit == "month" else 12 * n)
    y, mo = divmod(months, 12)
    return date(y, mo + 1, min(d.day, _month_days(y, mo + 1)))


def _unit_window(unit: str, d: date, back: int, today: date) -> tuple[date, date, str]:
    """The calendar unit (day, week Mon-Sun, weekend Sat-Sun, month, year) `back` units before the one holding d;
    labels leave out `today`'s year."""
    if unit == "day":
        x = d - timedelta(days=back)
        return x, x, _day(x, today)
    if unit == "week":
        monday = d - timedelta(days=d.weekday()) - timedelta(weeks=back)
        return monday, monday + timedelta(days=6), _range(monday, monday + timedelta(days=6), today)
    if unit == "weekend":
        # the last Saturday-Sunday that has started ("this weekend" on a weekday is the one just past too)
        saturday = d - timedelta(days=(d.weekday() - 5) % 7)
        if back and d.weekday() >= 5:
            saturday -= timedelta(weeks=back)
        return saturday, saturday + timedelta(days=1), _range(saturday, saturday + timedelta(days=1), today)
    if unit == "month":
        x = _shift(d.replace(day=1), "month", back)
        return _month(x.year, x.month, today)
    y = d.year - back
    return date(y, 1, 1), date(y, 12, 31), str(y)


def _season(name: str, which: str | None, year: str | None, today: date) -> tuple[date, date, str]:
    first_month, length = _SEASONS[name]
    if year:
        y = int(year) - (1 if name == "winter" else 0)  # winter 2023: Dec 2022 - Feb 2023
    else:
        y = today.year
        start = date(y, first_month, 1)
        if start > today:  # not begun this year: the last one
            y -= 1
        current_end = _add_months(date(y, first_month, 1), length) - timedelta(days=1)
        if which == "last" and date(y, first_month, 1) <= today <= current_end:
            y -= 1  # "last summer" said in summer is the previous one
    start = date(y, first_month, 1)
    end = _add_months(start, length) - timedelta(days=1)
    label = f"{name} {y}" if name != "winter" else f"winter {y}-{str(y + 1)[2:]}"
    return start, end, label


def _add_months(d: date, n: int) -> date:
    months = d.year * 12 + d.month - 1 + n
    y, mo = divmod(months, 12)
    return date(y, mo + 1, 1)


def _month(y: int, mo: int, today: date) -> tuple[date, date, str]:
    first = date(y, mo, 1)
    last = date(y, mo, _month_days(y, mo))
    return first, last, f"{_MONTH_ABBR[mo - 1]} {y}" if y != today.year else _MONTH_ABBR[mo - 1]


def _month_days(y: int, mo: int) -> int:
    return ((date(y + (mo == 12), mo % 12 + 1, 1)) - date(y, mo, 1)).days


def _midnight(d: date, zone: ZoneInfo) -> datetime:
    """Local midnight starting day d (the first instant of the day where midnight is skipped by DST)."""
    naive = datetime.combine(d, time(0))
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:  # in a DST gap
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


def _day(d: date, today: date) -> str:
    return f"{d.day} {_MONTH_ABBR[d.month - 1]}" + ("" if d.year == today.year else f" {d.year}")


def _range(a: date, b: date, today: date) -> str:
    year = "" if a.year == b.year == today.year else f" {b.year}"
    if a == b:
        return _day(a, today)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}-{b.day} {_MONTH_ABBR[b.month - 1]}{year}"
    left = f"{a.day} {_MONTH_ABBR[a.month - 1]}" + (f" {a.year}" if a.year != b.year else "")
    return f"{left}-{b.day} {_MONTH_ABBR[b.month - 1]}{year}"


def _remove(text: str, start: int, end: int) -> str:
    """The text without [start, end), spaces tidied ("paint in July 2023?" -> "paint?")."""
    out = (text[:start].rstrip() + " " + text[end:].lstrip()).strip()
    out = re.sub(r"\s+([?!.,;:])", r"\1", out)
    out = re.sub(r"^[,;:]\s*", "", out)
    return re.sub(r"\s{2,}", " ", out)
