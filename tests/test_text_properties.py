"""Property-based tests of the text path (hypothesis): any Unicode string — lone surrogates, control characters,
right-to-left marks, 5,000+ characters — is stored, searched, exported, put in a prompt and rendered without
raising, and round-trips as documented (a lone surrogate becomes U+FFFD); any command argument gets an answer."""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import text
from bot.commands import actions, views
from bot.errors import EngramError
from bot.reminders.parse import parse_reminder
from bot.reply.prompt import build_prompt
from handlers.format import MESSAGE_LIMIT, split_text, to_html, utf16_len
from memory import HashEmbedder, Memory, Message, Store
from memory.models import clean_text

# Every code point, surrogates included; biased towards the troublesome ones.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
AWKWARD = st.sampled_from(["\ud800", "\udfff", "\u200f", "\u202e", "\u200b", "\x00", "\n", "😀", "\ufeff",
                           '"', "*", "(", ")", "NEAR", "AND", "<b>", "&amp;", "`"])
TEXT = st.lists(st.one_of(ANY_CHAR, AWKWARD), max_size=300).map("".join)
LONG_TEXT = st.builds(lambda t, n: (t or "x") * n, TEXT, st.integers(1, 40))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def word_count(messages) -> int:
    return sum(len(m["content"].split()) + 4 for m in messages)


@SETTINGS
@given(text=st.one_of(TEXT, LONG_TEXT), sender=TEXT)
def test_any_text_is_stored_searched_exported_and_prompted(text, sender):
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "p.db", HashEmbedder(32))
        try:
            stored = store.messages.add(Message(5, 1, text, sender_name=sender, created_at=1000.0))
            assert stored.text == clean_text(text) and store.messages.get(5, 1).text == clean_text(text)
            assert "\ud800" not in stored.text
            for method in ("hybrid", "keyword", "vector"):
                assert isinstance(store.search.recall(5, text, 3, method=method), list)
            assert isinstance(store.search.matching(5, text), list)
            exported = json.dumps(store.messages.export(5), ensure_ascii=False).encode("utf-8")
            assert json.loads(exported)[0]["text"] == clean_text(text)
            hits = store.search.recall(5, text, 3)
            prompt = build_prompt("S", hits, [], Message(5, 2, text, sender_name=sender), word_count, 20_000)
            assert prompt.messages[-1]["content"]
            assert store.maintenance.check()["consistent"]
        finally:
            store.close()


@SETTINGS
@given(text=st.one_of(TEXT, LONG_TEXT))
def test_any_reply_text_renders_and_splits_within_telegrams_limit(text):
    text = clean_text(text)
    parts = split_text(text)
    assert all(utf16_len(p) <= MESSAGE_LIMIT for p in parts)
    for part in parts:
        to_html(part)


@SETTINGS
@given(args=st.one_of(TEXT, st.sampled_from(["all", "a | b", "|", "||", "#12", "99999999999999999999999", " "])))
def test_any_command_argument_gets_an_answer(args):
    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            memory = Memory(Path(tmp) / "c.db", HashEmbedder(32))
            await memory.start()
            try:
                await memory.messages.remember(Message(7, 1, "the red door is locked", created_at=1000.0))
                for markup in (text.PLAIN, text.HTML):
                    await answered(lambda: actions.search(memory, 7, args), views.search_text, markup)
                    await answered(lambda: actions.compare(memory, args), views.compare_text, markup)
                    request = await answered(lambda: actions.forget_request(memory, 7, args), None, markup)
                    if request is not None:
                        views.forget_question(request, markup) or views.forget_nothing(request)
            finally:
                await memory.stop()

    asyncio.run(run())
    identifier = actions.id_argument(args)
    assert identifier is None or 0 < identifier < 2**63
    try:
        parse_reminder(args, "UTC")
    except EngramError:
        pass  # a usage message, written for a person


async def answered(call, render, markup):
    """The command's result rendered, or a UsageError's words: never another exception."""
    try:
        result = await call()
    except actions.UsageError as exc:
        assert str(exc).startswith("Usage")
        return None
    if render is not None:
        assert render(result, markup)
    return result


@given(count=st.integers(min_value=0, max_value=10**9), noun=st.sampled_from(sorted(text.PLURALS)))
def test_a_count_and_its_noun_agree(count, noun):
    said = text.plural(count, noun)
    many = text.PLURALS[noun](2).replace("{n} ", "")  # the English catalogue's plural form ("chats")
    assert many != noun and said == f"{count:,} {noun if count == 1 else many}"
    assert said.endswith(f" {noun}") == (count == 1)


def test_plural_reads_as_english_and_every_counted_noun_is_in_the_table():
    assert [text.plural(n, "message") for n in (0, 1, 2, 29, 12_000)] == [
        "0 messages", "1 message", "2 messages", "29 messages", "12,000 messages"]
    assert text.plural(1, "chat") == "1 chat" and text.plural(1, "vote") == "1 vote"
    # Every plural(…, "noun") in the code names a noun of the table: the words stay in one place.
    root = Path(__file__).resolve().parents[1]
    called = re.compile(r"""plural\([^()]*?(?:\([^()]*\)[^()]*?)*,\s*["']([^"']+)["']\)""")
    nouns = {noun for package in ("bot", "handlers", "bench") for path in (root / package).rglob("*.py")
             for noun in called.findall(path.read_text(encoding="utf-8"))}
    assert {"message", "chat", "error", "vote", "topic"} <= nouns and nouns <= set(text.PLURALS)
