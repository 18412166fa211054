"""Parsing table for /remind and natural requests, with a fixed clock: Wednesday 13 May 2026, 10:00 in Lisbon."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.parse import ParseError, detect_natural_request, parse_reminder
from bot.reminders.recurrence import Recurrence

TZ = "Europe/Lisbon"
LISBON = ZoneInfo(TZ)
NOW = datetime(2026, 5, 13, 10, 0, tzinfo=LISBON)  # a Wednesday; Lisbon is UTC+1 in May


def local(due: datetime) -> str:
    return due.astimezone(LISBON).strftime("%a %Y-%m-%d %H:%M:%S")


# (arguments, expected local first firing, recurrence spec, text)
COMMANDS = [
    ("in 10 minutes check the oven", "Wed 2026-05-13 10:10:00", None, "check the oven"),
    ("in 2h call the bank", "Wed 2026-05-13 12:00:00", None, "call the bank"),
    ("in 90 seconds tea", "Wed 2026-05-13 10:01:30", None, "tea"),
    ("tomorrow at 9 call Ana", "Thu 2026-05-14 09:00:00", None, "call Ana"),
    ("on friday 18:30 drinks with Bo", "Fri 2026-05-15 18:30:00", None, "drinks with Bo"),
    ("2026-12-24 20:00 presents", "Thu 2026-12-24 20:00:00", None, "presents"),
    ("at 9 coffee", "Thu 2026-05-14 09:00:00", None, "coffee"),  # 9:00 passed today: the next one
    ("at 9pm bins out", "Wed 2026-05-13 21:00:00", None, "bins out"),
    ("friday pay the rent", "Fri 2026-05-15 09:00:00", None, "pay the rent"),  # a day without time: 09:00
    ("tomorrow renew the permit", "Thu 2026-05-14 09:00:00", None, "renew the permit"),  # not 10:00, the hour asked
    ("next week book the MOT", "Wed 2026-05-20 09:00:00", None, "book the MOT"),
    ("on Sundays call grandma", "Sun 2026-05-17 09:00:00", "weekly sun 09:00", "call grandma"),
    ("every other day water the cactus", "Fri 2026-05-15 10:00:00", "interval 172800", "water the cactus"),
    ("at lunchtime call the plumber", "Wed 2026-05-13 12:00:00", None, "call the plumber"),
    ("feed the cat at 6pm", "Wed 2026-05-13 18:00:00", None, "feed the cat"),  # "cat" is no time zone
    ("call the vet at 4pm", "Wed 2026-05-13 16:00:00", None, "call the vet"),
    ("about the evening class tomorrow at 9", "Thu 2026-05-14 09:00:00", None, "the evening class"),  # a thing
    ("about the night shift tomorrow at 6", "Thu 2026-05-14 06:00:00", None, "the night shift"),
    ("to call Ana tonight at 11", "Wed 2026-05-13 23:00:00", None, "call Ana"),
    ("dec 24 xmas dinner", "Thu 2026-12-24 09:00:00", None, "xmas dinner"),
    ("next monday at 10 dentist", "Mon 2026-05-18 10:00:00", None, "dentist"),
    ("in 3 days water the plants", "Sat 2026-05-16 10:00:00", None, "water the plants"),
    ("in 10 minutes 5 pushups", "Wed 2026-05-13 10:10:00", None, "5 pushups"),  # the 5 is not the time
    ("call mom in 10 minutes", "Wed 2026-05-13 10:10:00", None, "call mom"),  # time at the end
    ("tomorrow at 9 to call Ana", "Thu 2026-05-14 09:00:00", None, "call Ana"),
    ("in 6 seconds after the meeting", "Wed 2026-05-13 10:00:06", None, "after the meeting"),
    ("every day at 8:00 stretch", "Thu 2026-05-14 08:00:00", "daily 08:00", "stretch"),
    ("every monday 9am team call", "Mon 2026-05-18 09:00:00", "weekly mon 09:00", "team call"),
    ("every weekday at 7:30 standup", "Thu 2026-05-14 07:30:00", "weekdays 07:30", "standup"),
    ("every 2 hours drink water", "Wed 2026-05-13 12:00:00", "interval 7200", "drink water"),
    ("every hour stand up", "Wed 2026-05-13 11:00:00", "interval 3600", "stand up"),
    ("every sunday call grandma", "Sun 2026-05-17 09:00:00", "weekly sun 09:00", "call grandma"),
    ("daily at 22:00 pills", "Wed 2026-05-13 22:00:00", "daily 22:00", "pills"),
    ("stretch every day at 8", "Thu 2026-05-14 08:00:00", "daily 08:00", "stretch"),
    ("every evening at 9 take my pill", "Wed 2026-05-13 21:00:00", "daily 21:00", "take my pill"),
    ("every night read a chapter", "Wed 2026-05-13 21:00:00", "daily 21:00", "read a chapter"),
    ("every night at 2 check the server", "Thu 2026-05-14 02:00:00", "daily 02:00", "check the server"),
    ("every afternoon at 3 tea", "Wed 2026-05-13 15:00:00", "daily 15:00", "tea"),
    ("every night at 12 lock up", "Thu 2026-05-14 00:00:00", "daily 00:00", "lock up"),
    ("every evening at 06:00 walk", "Thu 2026-05-14 06:00:00", "daily 06:00", "walk"),  # a 24-hour clock: as said
    ("every night at 1am backup", "Thu 2026-05-14 01:00:00", "daily 01:00", "backup"),
]

# (arguments, a phrase the error message must contain)
BAD_COMMANDS = [
    ("", "Usage: /remind"),
    ("tomorrow", "Usage: /remind"),
    ("blah blah blah", "could not find a time"),
    ("yesterday at 9 something", "already passed"),
    ("2020-01-01 10:00 old news", "already passed"),
    ("in 0 minutes now", "already passed"),
    ("every 10 seconds spam", "at least 60 seconds"),
    ("tomorrow at 9 to", "What should I remind you of"),
]


@pytest.mark.parametrize("args, due, spec, text", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_phrasings(args, due, spec, text):
    parsed = parse_reminder(args, TZ, NOW)
    assert local(parsed.due_at) == due
    assert parsed.due_at.tzinfo == timezone.utc
    assert (parsed.recurrence.spec if parsed.recurrence else None) == spec
    assert parsed.text == text
    assert parsed.timezone == TZ


@pytest.mark.parametrize("args, message", BAD_COMMANDS, ids=[c[0] or "<empty>" for c in BAD_COMMANDS])
def test_bad_commands_say_why(args, message):
    with pytest.raises(ParseError) as caught:
        parse_reminder(args, TZ, NOW)
    assert message in str(caught.value)


# (chat text, expected local due or None when it is not a request, text)
NATURAL = [
    ("remind me to call Ana tomorrow at 10", "Thu 2026-05-14 10:00:00", "call Ana"),
    ("please remind me at 5pm to take the pills", "Wed 2026-05-13 17:00:00", "take the pills"),
    ("Can you remind me in 20 minutes to check the oven?", "Wed 2026-05-13 10:20:00", "check the oven"),
    ("hey engram, remind me on friday about the rent", "Fri 2026-05-15 09:00:00", "the rent"),
    ("set a reminder for 6pm to leave", "Wed 2026-05-13 18:00:00", "leave"),
    ("remind me about the meeting tomorrow at 9:30", "Thu 2026-05-14 09:30:00", "the meeting"),
    ("what did you remind me about yesterday?", None, None),
    ("did you remind me to call Ana?", None, None),
    ("I told him to remind me tomorrow", None, None),
    ("remind me to call Ana", None, None),  # no time: left to the assistant
    ("the weather is nice tomorrow at 9", None, None),
]


@pytest.mark.parametrize("text, due, what", NATURAL, ids=[n[0] for n in NATURAL])
def test_natural_requests(text, due, what):
    parsed = detect_natural_request(text, TZ, NOW)
    if due is None:
        assert parsed is None
    else:
        assert parsed is not None and local(parsed.due_at) == due and parsed.text == what


def test_natural_recurring_request():
    parsed = detect_natural_request("remind me every day at 8 to stretch", TZ, NOW)
    assert parsed.recurrence == Recurrence("daily", at=parsed.recurrence.at)
    assert parsed.recurrence.spec == "daily 08:00" and parsed.text == "stretch"


def test_natural_request_for_a_past_time_is_an_error():
    with pytest.raises(ParseError, match="already passed"):
        detect_natural_request("remind me yesterday at 9 to do it", TZ, NOW)


def test_time_zone_matters():
    """The same words mean different instants in different zones."""
    lisbon = parse_reminder("tomorrow at 9 call Ana", TZ, NOW)
    tokyo = parse_reminder("tomorrow at 9 call Ana", "Asia/Tokyo", NOW)
    assert lisbon.due_at.hour == 8  # 09:00 WEST = 08:00 UTC
    assert tokyo.due_at.astimezone(ZoneInfo("Asia/Tokyo")).hour == 9
    assert lisbon.due_at != tokyo.due_at


def test_unknown_time_zone():
    with pytest.raises(ParseError, match="time zone"):
        parse_reminder("in 10 minutes x", "Mars/Olympus", NOW)


def test_daily_rule_keeps_wall_clock_across_dst():
    """Lisbon leaves summer time on 25 Oct 2026: 08:00 stays 08:00 local, so the UTC gap is 25 hours."""
    rule = Recurrence.from_spec("daily 08:00")
    before = datetime(2026, 10, 24, 8, 0, tzinfo=LISBON)
    after = rule.next_after(before, before, TZ)
    assert after.astimezone(LISBON).strftime("%d %H:%M") == "25 08:00"
    assert (after - before).total_seconds() == 25 * 3600


def test_interval_rule_skips_missed_occurrences():
    rule = Recurrence.from_spec("interval 3600")
    previous = datetime(2026, 5, 13, 10, 0, tzinfo=timezone.utc)
    now = datetime(2026, 5, 13, 13, 30, tzinfo=timezone.utc)  # down for 3.5 hours
    assert rule.next_after(previous, now, TZ) == datetime(2026, 5, 13, 14, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("spec", ["interval 90", "daily 08:00", "weekdays 07:30", "weekly fri 18:45"])
def test_recurrence_spec_round_trip(spec):
    assert Recurrence.from_spec(spec).spec == spec
