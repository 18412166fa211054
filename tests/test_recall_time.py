"""Time-scoped recall (bot/when/phrases.py + Store.recall): a window boosts, never hides exact words.

A small chat in Europe/Lisbon over two years where topics come back (the flat, trips, the dentist, the bike,
mum's birthday); "now" is Wednesday 2 December 2026, 18:00 local. Hash embedder: the model does not matter here.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import text
from bot.commands import actions, views
from bot.when.phrases import parse_time_phrase
from memory import FusionParams, HashEmbedder, Memory, Message, Store

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
    store.add_many([Message(chat_id=1, message_id=i, text=t, sender_name="Ana", created_at=w) for i, w, t in CHAT])
    store.set_chat_setting(1, timezone=TZ)
    yield store
    store.close()


def top(store, query, k=3):
    found = parse_time_phrase(query, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
    hits = store.recall(1, query, k, now=NOW, window=(found.start_ts, found.end_ts) if found else None,
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
    hits = chat.recall(1, "the flat", 3, now=NOW, window=window, keyword_query="the flat")
    assert hits[0].message.message_id == 9
    assert {10, 12} & {h.message.message_id for h in hits}  # outside the window, still there
    chat.fusion = FusionParams(time_weight=0.0)
    off = chat.recall(1, "the flat", 3, now=NOW, window=window, keyword_query="the flat")
    assert [h.message.message_id for h in off] == [h.message.message_id for h in chat.recall(1, "the flat", 3, now=NOW)]


def test_a_window_never_brings_another_chats_messages(chat):
    # Chat 2 talks about the flat inside the same windows; chat 1's recall and window candidates stay in chat 1.
    chat.add_many([Message(chat_id=2, message_id=i, text="the flat and the bike and the dentist yesterday",
                           created_at=at(2026, 12, 1, 9) + i) for i in range(1, 30)])
    for query in ("the flat yesterday", "what did we talk about yesterday", "the bike last summer"):
        found = parse_time_phrase(query, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
        hits = chat.recall(1, query, 10, now=NOW, window=(found.start_ts, found.end_ts), keyword_query=found.query)
        assert hits and all(h.message.chat_id == 1 for h in hits)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200),
       start=st.floats(-1e12, 1e12, allow_nan=False), span=st.floats(-1e9, 1e12, allow_nan=False))
def test_hostile_time_phrases_and_windows_never_break_recall(chat, text, start, span):
    found = parse_time_phrase(text, datetime.fromtimestamp(NOW, tz=ZoneInfo(TZ)), TZ)
    if found is not None:
        assert found.start <= found.end and isinstance(found.label, str)
    hits = chat.recall(1, text, 3, now=NOW, window=(start, start + span), keyword_query=found.query if found else text)
    assert all(h.message.chat_id == 1 for h in hits)


async def test_search_says_which_window_it_used(tmp_path):
    memory = Memory(tmp_path / "search.db", HashEmbedder())
    await memory.start()
    try:
        await memory.remember_many([Message(1, i, t, sender_name="Ana", created_at=w) for i, w, t in CHAT])
        await memory.set_chat_setting(1, timezone=TZ)
        page = await actions.search(memory, 1, "flat last week", now=NOW)
        assert page.window == "23-29 Nov" and page.hits[0].message.message_id == 10
        assert views.search_text(page, text.PLAIN).startswith("Search: flat last week — 23-29 Nov")
        assert (await actions.search(memory, 1, "flat", now=NOW)).window is None
    finally:
        await memory.stop()
