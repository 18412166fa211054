"""A plan in a statement, offered as a reminder: "I have a dentist appointment on Tuesday at 10." -> an offer to
remind an hour before (Tuesday 09:00); "On Thursday I fly to Rome." -> that morning at 09:00. Never set unasked:
the front ends show the offer (a button in Telegram, a hint in the terminal) and create it only when accepted.

The time is read as reminders read theirs (bot/reminders/parse.py, dateparser, the chat's zone). Precision first:
the phrase must name a day (a weekday, tomorrow, tonight, a date), the time must be ahead (an hour or more away,
within a year), and a statement about the past ("I had…", "…was…", "last Tuesday") offers nothing. CPU work of a few
milliseconds: call it off the event loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.i18n import _
from bot.reminders.parse import DEFAULT_HOUR, MAX_WHEN_WORDS, _localise, _parse_when, _zone

LEAD = timedelta(hours=1)  # "remind me an hour before"
MIN_AHEAD = timedelta(minutes=5)  # a reminder that would fire sooner is not worth offering
MAX_AHEAD = timedelta(days=366)
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_DAYS = r"mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
_DAY_WORD = re.compile(rf"\b(?:today|tonight|tomorrow|(?:mon|tues|wednes|thurs|fri|satur|sun)day|(?:{_DAYS})\b|"
                       rf"(?:{_MONTHS})[a-z]*\s+\d|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})|"
                       r"\d{4}-\d\d-\d\d|next week)", re.I)
_HEADS = re.compile(rf"^(?:on|at|this|next|today|tonight|tomorrow|(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
                    rf"(?:{_MONTHS})[a-z]*|\d{{1,2}}(?:st|nd|rd|th)?|the)$", re.I)
_CLOCK = re.compile(r"\d{1,2}:\d\d|\b\d{1,2}\s*(?:am|pm|a\.m|p\.m|h)\b|\bat \d{1,2}\b|\bnoon\b|\bmidnight\b", re.I)
_PAST = re.compile(r"\b(?:was|were|had|did|went|got|ago|yesterday|last|earlier|already|used to|'d|"
                   r"every|each|always|usually|often|never|sometimes)\b", re.I)  # the past, or a habit
_ASKS = re.compile(r"\?\s*$")


@dataclass(frozen=True)
class PlanOffer:
    event_at: datetime  # when the plan is (aware, UTC)
    remind_at: datetime  # when the offered reminder would fire (aware, UTC): an hour before, or that morning
    text: str  # what the reminder would say: the statement as said
    timezone: str
    has_clock: bool  # a time of day was given ("at 10"): "an hour before"; else "that morning"

    @property
    def label(self) -> str:
        """The offer's words: the Telegram button's, the terminal hint's."""
        return _("remind me an hour before") if self.has_clock else _("remind me that morning")


def find_plan(text: str, tz: str, now: datetime) -> PlanOffer | None:
    """The plan a statement holds, as an offered reminder, or None."""
    said = " ".join(text.split())
    if not said or _ASKS.search(said) or _PAST.search(said) or not _DAY_WORD.search(said):
        return None
    zone = _zone(tz)
    local_now = now.astimezone(zone)
    tokens = said.split()
    for i, token in enumerate(tokens):
        if not _HEADS.match(token.strip(",.;:!").lower()):
            continue
        for k in range(min(MAX_WHEN_WORDS, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i:i + k]).strip(",.;:!")
            if not _DAY_WORD.search(phrase):
                continue
            parsed = _parse_when(phrase, local_now)
            if parsed is None:
                continue
            has_clock = bool(_CLOCK.search(phrase)) and not re.search(r"\bmorning\b", phrase, re.I)
            event = _localise(parsed, zone)
            remind = event - LEAD if has_clock else _localise(
                datetime.combine(parsed.date(), DEFAULT_HOUR), zone)
            if not (now + MIN_AHEAD <= remind and event - now <= MAX_AHEAD):
                return None
            return PlanOffer(event.astimezone(timezone.utc), remind.astimezone(timezone.utc),
                             said.rstrip(" .!"), tz, has_clock)
    return None
