"""Time-scoped recall (bot/when/phrases.py + Search.recall): a window boosts, never hides exact words.

A small chat in Europe/Lisbon over two years where topics come back (the flat, trips, the dentist, the bike,
mum's birthday); "now" is Wednesday 2 December 2026, 18:00 local. Hash embedder: the model does not matter here.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import text
from bot.commands import actions, views
from bot.when.phrases import parse_time_phrase
from memory import FusionParams, HashEmbedder, Hit, Memory, Message, Store

TZ = "Europe/Lisbon"
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=ZoneInfo(TZ)).timestamp()


def at(y, m, d, h=12):
    return datetime(y, m, d, h, tzinfo=ZoneInfo(TZ)).timestamp()


CHAT = [
    (1, at(2024, 3, 10), "I'm planning a trip to Madeira for the autumn"),
    (2, at(2025, 3, 18), "The dentist said no cavities, just floss more"),
    (3, at(2025, 5, 14), "For mum's birthday we went to Sintra"),
    (4, at(2026, 5, 4), "Booked the trip to Porto for June"),
    (5, at(2026, 5, 14), "Mum's birthday dinner at Taberna was perfect"),
    (6, at(2026, 6, 20), "The trip to Porto was great, the bridge at night was beautiful"),
    (7, at(2026, 7, 12), "Bought a new bike, a blue gravel bike"),
    (8, at(2026, 9, 15), "The bike got a flat tyre on the way to work"),
    (9, at(2026, 10, 3), "Viewed a flat in Alfama with a view of the river"),
    (10, at(2026, 11, 25), "The landlord of the flat wants 1200 a month"),
    (11, at(2026, 11, 30), "Dentist appointment moved to Friday"),
    (12, at(2026, 12, 1), "The flat inspection went fine, no damp"),
] + [(100 + n, at(2026, 11, 20 + n % 12, 9), text) for n, text in enumerate(
    ["Good morning!", "Lunch was soup again", "It's raining", "Coffee later", "Long day", "The tram was packed"])]


@pytest.fixture
def chat(tmp_path):
    store = Store.open(tmp_path / "time.db", HashEmbedder())
    store.messages.add_many([Message(chat_id=1, message_id=i, text=t, sender_name="Ana", created_at=w)
                             for i, w, t in CHAT])
    store.messages.set_chat_setting(1, timezone=TZ)
    yield store
    store.close()


def top(store, query, k=3):
    found = parse_time_phrase(query, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
    hits = store.search.recall(1, query, k, now=NOW, window=(found.start_ts, found.end_ts) if found else None,
                               keyword_query=found.query if found else None)
    return [h.message.message_id for h in hits]


@pytest.mark.parametrize("query, answer", [
    ("what did I say last week about the flat", 10),
    ("the flat yesterday", 12),
    ("what did I say about the flat in October", 9),
    ("the trip in May", 4),
    ("what trip was I planning two years ago", 1),
    ("dentist on Monday", 11),
    ("what did the dentist say in March 2025", 2),
    ("the bike last summer", 7),
    ("what happened to the bike in September", 8),
    ("mum's birthday last year", 3),
    ("mum's birthday in May", 5),
])
def test_the_window_picks_between_matches(chat, query, answer):
    assert top(chat, query)[0] == answer


def test_exact_words_outside_the_window_are_not_hidden(chat):
    # misremembered dates: the message named word for word still comes first
    assert top(chat, "landlord wants 1200 a month yesterday")[0] == 10
    assert top(chat, "Porto bridge at night in May")[0] == 6


def test_a_window_alone_brings_its_messages(chat):
    assert top(chat, "what did we talk about yesterday", 1) == [12]


def test_a_window_is_a_boost_and_can_be_switched_off(chat):
    window = (at(2026, 10, 1, 0), at(2026, 11, 1, 0))  # October
    hits = chat.search.recall(1, "the flat", 3, now=NOW, window=window, keyword_query="the flat")
    assert hits[0].message.message_id == 9
    assert {10, 12} & {h.message.message_id for h in hits}  # outside the window, still there
    chat.search.fusion = FusionParams(time_weight=0.0)
    off = chat.search.recall(1, "the flat", 3, now=NOW, window=window, keyword_query="the flat")
    plain = chat.search.recall(1, "the flat", 3, now=NOW)
    assert [h.message.message_id for h in off] == [h.message.message_id for h in plain]


def test_a_window_never_brings_another_chats_messages(chat):
    # Chat 2 talks about the flat inside the same windows; chat 1's recall and window candidates stay in chat 1.
    chat.messages.add_many([Message(chat_id=2, message_id=i, text="the flat and the bike and the dentist yesterday",
                                    created_at=at(2026, 12, 1, 9) + i) for i in range(1, 30)])
    for query in ("the flat yesterday", "what did we talk about yesterday", "the bike last summer"):
        found = parse_time_phrase(query, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
        hits = chat.search.recall(1, query, 10, now=NOW, window=(found.start_ts, found.end_ts),
                                  keyword_query=found.query)
        assert hits and all(h.message.chat_id == 1 for h in hits)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200),
       start=st.floats(-1e12, 1e12, allow_nan=False), span=st.floats(-1e9, 1e12, allow_nan=False))
def test_hostile_time_phrases_and_windows_never_break_recall(chat, text, start, span):
    found = parse_time_phrase(text, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
    if found is not None:
        assert found.start <= found.end and isinstance(found.label, str)
    hits = chat.search.recall(1, text, 3, now=NOW, window=(start, start + span),
                              keyword_query=found.query if found else text)
    assert all(h.message.chat_id == 1 for h in hits)


async def test_search_says_which_window_it_used(tmp_path):
    memory = Memory(tmp_path / "search.db", HashEmbedder())
    await memory.start()
    try:
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=w) for i, w, t in CHAT])
        await memory.messages.set_chat_setting(1, timezone=TZ)
        page = await actions.search(memory, 1, "flat last week", now=NOW)
        assert page.window == "23-29 Nov" and page.hits[0].message.message_id == 10
        assert views.search_text(page, text.PLAIN).startswith("Search: flat last week — 23-29 Nov")
        assert (await actions.search(memory, 1, "flat", now=NOW)).window is None
    finally:
        await memory.stop()


async def test_search_lists_best_first_by_the_score_it_shows_and_leaves_out_noise(tmp_path):
    """/search orders by the score it shows (the fused one), stops at the noise floor (under 0.35, or under half
    the best) on every page alike, and a fact searched for is still listed."""
    memory = Memory(tmp_path / "search.db", HashEmbedder())
    await memory.start()
    try:
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=w) for i, w, t in CHAT])
        page = await actions.search(memory, 1, "the bike", page_size=50, now=NOW)
        raw = await memory.messages.search(1, "the bike", 50)
        assert 2 <= len(page.hits) < len(raw) and page.left_out  # the tail of unrelated messages is gone
        assert {h.message.message_id for h in page.hits[:2]} == {7, 8}  # both bike messages
        best, (least, share) = page.hits[0].score, page.floor
        assert page.floor == (0.35, 0.5)  # the hash embedder has no calibration of its own: MiniLM's
        assert all(h.score >= max(least, share * best) for h in page.hits)
        assert all(h.score < max(least, share * best) for h in raw[len(page.hits):])
        shown = views.search_text(page, text.PLAIN)
        listed = [float(s) for s in re.findall(r"· score (\d\.\d\d) \(similarity", shown)]
        assert len(listed) == len(page.hits) and listed == sorted(listed, reverse=True)  # best first, truly
        assert "best first by score" in shown and shown.endswith("are left out.)")

        paged, number = [], 0  # pages of 1 (Telegram's "more" button) show the same hits and end where they do
        while True:
            one = await actions.search(memory, 1, "the bike", number, page_size=1, now=NOW)
            paged += one.hits
            if not one.more:
                break
            number += 1
        assert [h.message.id for h in paged] == [h.message.id for h in page.hits] and one.left_out

        nothing = await actions.search(memory, 1, "quantum chromodynamics", now=NOW)
        assert nothing.hits == [] and not nothing.more
        assert views.search_text(nothing, text.PLAIN).startswith(
            "Nothing in this chat's memory matches “quantum chromodynamics”")
    finally:
        await memory.stop()


def test_above_floor_is_absolute_and_relative_to_the_best():
    hits = [Hit(Message(1, i, "x"), score) for i, score in enumerate([1.2, 0.7, 0.59, 0.5, 0.3], start=1)]
    assert [h.score for h in actions.above_floor(hits)] == [1.2, 0.7]  # half the best: 0.6
    assert [h.score for h in actions.above_floor(hits[2:])] == [0.59, 0.5]  # 0.35 floor
    assert actions.above_floor(hits[4:]) == [] and actions.above_floor([]) == []


async def test_why_lists_best_first_by_the_score_it_shows(tmp_path):
    """The prompt gives people's words before the bot's; /why says "best first" and is: ordered by score."""
    from typing import Any, cast

    memory = Memory(tmp_path / "why.db", HashEmbedder())
    await memory.start()
    try:
        stored = await memory.messages.remember_many([
            Message(1, 1, "the flat is in Alfama", sender_name="Ana"),
            Message(1, 2, "Noted: the flat is in Alfama", role="assistant", sender_name="Engram"),
            Message(1, 3, "the landlord wants 1200", sender_name="Ana")])
        recalled = [Hit(stored[0], 1.223), Hit(stored[2], 0.875), Hit(stored[1], 0.986)]  # people's words first

        class Recalled:
            def __init__(self):
                self.memory = memory

            def last_recall(self, chat_id):
                return recalled

        hits = await actions.why(cast(Any, Recalled()), 1)
        # What people told before the assistant's words, whose score counts half, as shown: still best first.
        assert [h.score for h in hits] == [1.223, 0.875, 0.493]
        assert [h.message.message_id for h in hits] == [1, 3, 2]
        shown = views.why_text(hits, text.PLAIN)
        assert "best first by score" in shown
        assert re.findall(r"score (\d\.\d\d)", shown) == ["1.22", "0.88", "0.49"]
    finally:
        await memory.stop()
