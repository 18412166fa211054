"""A relative time copied from a memory is said as the time it meant (bot/reply/dating.py)."""

from __future__ import annotations

from bot.reply.dating import TimeResolver, resolved
from bot.reply.prompt import format_day
from memory import Hit, Message

SAID = 1_691_712_000.0  # 11 August 2023


def memory(text: str, created_at: float = SAID) -> Hit:
    return Hit(Message(-1, 1, text, sender_name="Maria", created_at=created_at), 1.0)


def run(chunks: list[str], memories: list[Hit], question: str = "") -> str:
    times = TimeResolver(memories, format_day, question)
    return "".join(times.feed(c) for c in chunks) + times.finish()


def test_phrases_resolve_to_the_day_they_were_said():
    day = "11 August 2023"
    assert resolved("last Friday", day) == "the Friday before 11 August 2023"
    assert resolved("two weeks ago", day) == "two weeks before 11 August 2023"
    assert resolved("Yesterday", day) == "the day before 11 August 2023"
    assert resolved("next month", day) == "the month after 11 August 2023"
    assert resolved("this week", day) == "the week of 11 August 2023"


def test_a_streamed_reply_is_rewritten_with_its_memorys_day():
    coco = memory("I got Coco two weeks ago, she's a sweetheart!")
    said = "Maria got Coco two weeks before 11 August 2023."
    assert run(["Maria got", " Coco two", " weeks", " ago."], [coco]) == said
    assert run(["Maria got Coco two weeks ago."], [coco]) == said
    older = memory("We went hiking last weekend with the church group.", created_at=SAID - 20 * 86400)
    assert run(["She went hiking last weekend", " with friends."], [coco, older]) == (
        "She went hiking the weekend before 22 July 2023 with friends.")


def test_a_phrase_no_memory_holds_or_an_uncertain_one_stays():
    coco = memory("I got Coco two weeks ago, she's a sweetheart!")
    assert run(["It was last Friday."], [coco]) == "It was last Friday."  # the model's own words
    assert run(["It is on Friday."], [memory("The party is on Friday.")]) == "It is on Friday."
    assert run(["Hello there, how are you?"], []) == "Hello there, how are you?"
    assert run(["Short"], [coco]) == "Short"
    script = memory("I finished my screenplay last Friday!")
    asked = "What did Joanna finish last Friday?"  # the asker's own "last Friday": not the memory's
    assert run(["Joanna finished last Friday."], [script], asked) == "Joanna finished last Friday."
    assert run(["It was last Friday."], [memory("The cake was great last Friday.")]) == "It was last Friday."


def test_nothing_is_held_back_when_no_memory_holds_a_relative_time():
    resolver = TimeResolver([], lambda ts: "1 May 2023")
    assert resolver.feed("Once ") == "Once "  # streamed at once: a reply cut midway has shown its words
    assert resolver.finish() == ""
