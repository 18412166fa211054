"""Time phrases in queries (bot/when/phrases.py). Reference time: Wednesday 2 December 2026, 15:30 UTC."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.when.phrases import TimeWindow, parse_time_phrase

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=timezone.utc)  # a Wednesday
TZ = "Europe/Lisbon"
LISBON = ZoneInfo(TZ)


def local(y, m, d, h=0):
    return datetime(y, m, d, h, tzinfo=LISBON)


def window(text, now=NOW, tz=TZ) -> TimeWindow:
    found = parse_time_phrase(text, now, tz)
    assert found is not None, text
    return found


@pytest.mark.parametrize("text, start, end, query, label", [
    ("what did I say last week about the flat", (2026, 11, 23), (2026, 11, 30), "what did I say about the flat",
     "23-29 Nov"),
    ("what did Ana say yesterday", (2026, 12, 1), (2026, 12, 2), "what did Ana say", "yesterday (1 Dec)"),
    ("anything about rent today?", (2026, 12, 2), (2026, 12, 3), "anything about rent?", "today (2 Dec)"),
    ("notes from this morning", (2026, 12, 2), (2026, 12, 3), "notes", "today (2 Dec)"),
    ("the day before yesterday we talked about bikes", (2026, 11, 30), (2026, 12, 1), "we talked about bikes",
     "30 Nov"),
    ("what did we decide in May", (2026, 5, 1), (2026, 6, 1), "what did we decide", "May"),
    ("What did Mel paint in July 2023?", (2023, 7, 1), (2023, 8, 1), "What did Mel paint?", "Jul 2023"),
    ("who did I meet on 3 May", (2026, 5, 3), (2026, 5, 4), "who did I meet", "3 May"),
    ("How did Joanna feel on October 25, 2022 about it", (2022, 10, 25), (2022, 10, 26),
     "How did Joanna feel about it", "25 Oct 2022"),
    ("the topic on 11 December, 2023?", (2023, 12, 11), (2023, 12, 12), "the topic?", "11 Dec 2023"),
    ("what did I write on the 5th of December", (2025, 12, 5), (2025, 12, 6), "what did I write", "5 Dec 2025"),
    ("plans 2023-05-03", (2023, 5, 3), (2023, 5, 4), "plans", "3 May 2023"),
    ("budget from 2024-02", (2024, 2, 1), (2024, 3, 1), "budget", "Feb 2024"),
    ("trips in 2023", (2023, 1, 1), (2024, 1, 1), "trips", "2023"),
    ("what did we plan two years ago", (2024, 1, 1), (2025, 1, 1), "what did we plan", "2024"),
    ("3 days ago", (2026, 11, 29), (2026, 11, 30), "", "29 Nov"),
    ("a couple of weeks ago", (2026, 11, 16), (2026, 11, 23), "", "16-22 Nov"),
    ("a fortnight ago", (2026, 11, 16), (2026, 11, 23), "", "16-22 Nov"),
    ("the week before last", (2026, 11, 16), (2026, 11, 23), "", "16-22 Nov"),
    ("last month", (2026, 11, 1), (2026, 12, 1), "", "Nov"),
    ("last year", (2025, 1, 1), (2026, 1, 1), "", "2025"),
    ("this week", (2026, 11, 30), (2026, 12, 7), "", "30 Nov-6 Dec"),
    ("last weekend", (2026, 11, 28), (2026, 11, 30), "", "28-29 Nov"),
    ("on Monday", (2026, 11, 30), (2026, 12, 1), "", "Mon 30 Nov"),
    ("last Wednesday", (2026, 11, 25), (2026, 11, 26), "", "Wed 25 Nov"),
    ("in the past 3 days anything about rent", (2026, 11, 29), (2026, 12, 3), "anything about rent",
     "the past 3 days (29 Nov-2 Dec)"),
    ("summer 2023 holidays", (2023, 6, 1), (2023, 9, 1), "holidays", "summer 2023"),
    ("last summer", (2026, 6, 1), (2026, 9, 1), "", "summer 2026"),
    ("in the winter", (2026, 12, 1), (2027, 3, 1), "", "winter 2026-27"),  # the current one has begun
    ("last winter", (2025, 12, 1), (2026, 3, 1), "", "winter 2025-26"),
])
def test_windows(text, start, end, query, label):
    w = window(text)
    assert (w.start, w.end) == (local(*start), local(*end))
    assert w.query == query
    assert w.label == label


@pytest.mark.parametrize("text", [
    "before the trip",  # an event, not a date
    "what may I have missed",  # "may" the verb
    "I sat there for hours",  # "sat" the verb, not Saturday
    "what's the plan for tomorrow",  # the future is what is asked about
    "remind me what happens next week",
    "how many photos of May are there",  # bare month without a date preposition
    "the 2023 budget",  # bare year
    "what is my cat called",
    "",
])
def test_no_window(text):
    assert parse_time_phrase(text, NOW, TZ) is None


def test_open_windows():
    before = window("what did I say before May 2023")
    assert before.end == local(2023, 5, 1) and before.start.year == 1970
    assert before.label == "before May 2023" and before.query == "what did I say"
    since = window("since March")
    assert since.start == local(2026, 3, 1) and since.end == local(2026, 12, 3)
    after = window("after 3 May")
    assert after.start == local(2026, 5, 4) and after.label == "after 3 May"
    until = window("until yesterday")
    assert until.end == local(2026, 12, 2) and until.start.year == 1970


def test_future_phrase_skipped_for_a_past_one():
    w = window("what did I say yesterday about tomorrow's meeting")
    assert w.label == "yesterday (1 Dec)"
    assert w.query == "what did I say about tomorrow's meeting"


def test_month_day_in_the_future_means_last_year():
    assert window("on 24 December").start == local(2025, 12, 24)
    assert window("in December").start == local(2026, 12, 1)  # the current month


def test_explicit_future_year_is_kept():
    assert window("on 5 December 2026").start == local(2026, 12, 5)


def test_days_follow_the_chat_zone():
    # 23:30 UTC on 2 Dec is already 3 Dec in Tokyo: "yesterday" there is 2 Dec, local midnight to midnight.
    late = datetime(2026, 12, 2, 23, 30, tzinfo=timezone.utc)
    w = window("yesterday", now=late, tz="Asia/Tokyo")
    tokyo = ZoneInfo("Asia/Tokyo")
    assert (w.start, w.end) == (datetime(2026, 12, 2, tzinfo=tokyo), datetime(2026, 12, 3, tzinfo=tokyo))
    assert w.end - w.start == timedelta(days=1)


def test_dst_day_is_23_hours():
    # Europe/Lisbon springs forward on 29 March 2026: that day has 23 hours.
    w = window("on 29 March", now=datetime(2026, 4, 2, 12, tzinfo=timezone.utc))
    assert w.end_ts - w.start_ts == 23 * 3600


def test_contains_is_half_open():
    w = window("yesterday")
    assert w.contains(w.start_ts) and not w.contains(w.end_ts) and w.contains(w.end_ts - 1)


def test_now_must_be_aware_and_zone_known():
    with pytest.raises(ValueError):
        parse_time_phrase("yesterday", datetime(2026, 12, 2), TZ)
    with pytest.raises(ValueError):
        parse_time_phrase("yesterday", NOW, "Mars/Olympus")


def test_case_and_punctuation():
    w = window("What did Bo say LAST WEEK, about the car?")
    assert w.label == "23-29 Nov" and w.query == "What did Bo say, about the car?"
