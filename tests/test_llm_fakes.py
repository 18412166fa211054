"""Stop-string scanning (shared by the backends) and the ScriptedLLM other tests rely on."""

from __future__ import annotations

import asyncio

import pytest
from fake_llm import ScriptedLLM

from bot.errors import GenerationCancelled
from bot.llm.base import GenerationSettings
from bot.llm.stops import StopScanner


def scan(chunks: list[str], stops: list[str]) -> str:
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(c) for c in chunks)
    return out + scanner.flush()


def test_stop_string_split_across_chunks_is_cut_and_never_emitted():
    assert scan(["Fine.\nUs", "er: hi"], ["\nUser:"]) == "Fine."


def test_text_that_only_looks_like_a_stop_start_is_released():
    scanner = StopScanner(["END"])
    assert scanner.feed("the EN") == "the "  # "EN" held back: might become END
    assert scanner.feed("D-less? no, ENJOY") == ""  # END found: nothing after it
    assert scanner.hit
    assert scan(["the EN", "JOY"], ["END"]) == "the ENJOY"


def test_without_stops_text_passes_through():
    assert scan(["a", "b", "c"], []) == "abc"


async def test_scripted_llm_streams_its_replies_in_turn_and_records_calls():
    llm = ScriptedLLM(["one two three", "four"])
    await llm.start()
    messages = [{"role": "user", "content": "hi"}]
    first = [c async for c in llm.stream(messages)]
    second = "".join([c async for c in llm.stream(messages)])
    assert first == ["one", " two", " three"] and second == "four"
    assert llm.calls[0][0] == messages and len(llm.calls) == 2


async def test_scripted_llm_can_answer_from_the_messages_and_honours_max_tokens():
    llm = ScriptedLLM(lambda msgs: "you said " + msgs[-1]["content"])
    await llm.start()
    settings = GenerationSettings(max_new_tokens=3)
    text = "".join([c async for c in llm.stream([{"role": "user", "content": "apples and pears"}], settings)])
    assert text == "you said apples"


async def test_scripted_llm_cancel_stops_mid_reply():
    llm = ScriptedLLM("a b c d e f g h", delay=0.01)
    await llm.start()
    cancel = asyncio.Event()
    got = []
    with pytest.raises(GenerationCancelled):
        async for chunk in llm.stream([{"role": "user", "content": "x"}], cancel=cancel):
            got.append(chunk)
            if len(got) == 2:
                cancel.set()
    assert got == ["a", " b"]


def test_scripted_llm_counts_tokens_by_words():
    llm = ScriptedLLM()
    assert llm.count_tokens([{"role": "user", "content": "one two three"}]) < llm.count_tokens(
        [{"role": "user", "content": "one two three four five"}]
    )
