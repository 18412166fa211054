"""The assistant: store, recall, prompt, stream, store the reply — with a scripted LLM and the hash embedder."""

from __future__ import annotations

import asyncio
import time

import pytest
from fake_llm import ScriptedLLM

from bot.config import AssistantConfig, BusyPolicy, RecallConfig, Statements
from bot.errors import GenerationCancelled, LLMError
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant, Outcome, select_memories
from bot.reply.plan import NOT_TOLD
from bot.reply.prompt import demo_turns
from memory import Message


def make(memory, llm, busy_policy: BusyPolicy = BusyPolicy.QUEUE, **recall) -> Assistant:
    # No relevance floor unless a test asks for one: these tests are about storing and prompting.
    settings = {"k": 3, "recent_turns": 2, "min_score": 0.0, "min_relative_score": 0.0, **recall}
    return Assistant(memory, llm, recall=RecallConfig(**settings),
                     assistant=AssistantConfig(system_prompt="You are a test.", busy_policy=busy_policy,
                                               statements=Statements.MODEL),  # these tests are about the model's turn
                     settings=GenerationSettings())


async def started(llm):
    await llm.start()
    return llm


async def test_answer_stores_both_sides_and_uses_recalled_memory(memory):
    llm = await started(ScriptedLLM("Your dog is Rex."))
    assistant = make(memory, llm)
    await assistant.remember(Message(1, 1, "my dog is called Rex", sender_name="Ana", created_at=1000))
    for i in range(2, 6):
        await assistant.remember(Message(1, i, f"weather talk {i}", sender_name="Ana", created_at=1000 + i))
    reply = await assistant.reply_text(Message(1, 10, "what is my dog called", sender_name="Ana", created_at=2000))
    assert reply.text == "Your dog is Rex." and reply.outcome is Outcome.KEPT
    assert next(h.message.text for h in reply.recalled) == "my dog is called Rex"
    sent = llm.calls[0][0]
    demos = len(demo_turns())
    assert [m["content"] for m in sent[1 + demos:-1]] == ["weather talk 4", "weather talk 5"]  # recent_turns=2
    assert "my dog is called Rex" in sent[-1]["content"] and sent[-1]["content"].endswith("what is my dog called")
    stored = await memory.messages.recent(1, 2)
    assert stored[0].text == "what is my dog called"
    assert stored[1].role == "assistant" and stored[1].text == "Your dog is Rex." and stored[1].reply_to == 10
    assert assistant.last_recall(1) == reply.recalled
    assert len(assistant.timings.first_token) == 1


async def test_recall_never_crosses_chats(memory):
    llm = await started(ScriptedLLM("ok"))
    assistant = make(memory, llm)
    await assistant.remember(Message(1, 1, "my dog is called Rex"))
    reply = await assistant.reply_text(Message(2, 1, "what is my dog called"))
    assert reply.recalled == []
    assert llm.calls == [] and reply.text == NOT_TOLD  # nothing recalled: "you haven't told me", not the model


async def test_a_reply_is_kept_only_when_finished_with_the_front_ends_id(memory):
    assistant = make(memory, await started(ScriptedLLM("hello there")))
    reply = await assistant.answer(Message(1, 5, "What is the capital of Peru?"))
    with pytest.raises(ValueError, match="finished"):
        await assistant.keep(reply, 6)  # not written yet: nothing to keep
    async for _ in assistant.stream(reply):
        assert await memory.messages.get(1, 6) is None  # never stored while it is being written
    assert reply.outcome is Outcome.DONE
    kept = await assistant.keep(reply, 6)
    assert kept is not None and reply.outcome is Outcome.KEPT
    assert (await memory.messages.get(1, 6)).text == "hello there"
    assert await assistant.keep(reply, 7) is kept and await memory.messages.get(1, 7) is None  # kept once


async def test_cancelled_or_failed_reply_is_not_stored(memory):
    llm = await started(ScriptedLLM("one two three four five six", delay=0.05))
    assistant = make(memory, llm)
    reply = await assistant.answer(Message(1, 1, "talk"))
    with pytest.raises(GenerationCancelled):
        async for _chunk in assistant.stream(reply):
            reply.cancel()
    assert reply.outcome is Outcome.CANCELLED
    with pytest.raises(ValueError):
        await assistant.keep(reply)
    failing = make(memory, await started(ScriptedLLM("a b c", fail_with=LLMError("model broke"))))
    reply = await failing.answer(Message(1, 2, "again"))
    with pytest.raises(LLMError):
        async for _ in failing.stream(reply):
            pass
    assert reply.outcome is Outcome.FAILED
    assert [m.role for m in await memory.messages.recent(1, 10)] == ["user", "user"]


async def test_a_burst_gets_one_reply_chats_take_turns_and_the_loop_stays_free(memory):
    llm = await started(ScriptedLLM("w " * 20, delay=0.02))
    assistant = make(memory, llm)
    order: list[str] = []

    async def consume(tag, reply):
        async def mark() -> None:
            await reply.started.wait()
            order.append(tag)

        marker = asyncio.create_task(mark())
        async for _ in assistant.stream(reply):
            pass
        await marker

    delays = []

    async def ping():
        for _ in range(30):
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            delays.append(time.perf_counter() - t - 0.01)

    a1 = await assistant.answer(Message(1, 1, "question a1"))
    first = asyncio.create_task(consume("a1", a1))
    await a1.started.wait()
    a2 = await assistant.answer(Message(1, 2, "question a2"))  # a1 is being written: a2 waits for its turn ...
    assert await assistant.answer(Message(1, 3, "question a3")) is None  # ... and a3 joins it
    b1 = await assistant.answer(Message(2, 1, "question b1"))
    await asyncio.gather(first, consume("a2", a2), consume("b1", b1), ping())
    assert order == ["a1", "b1", "a2"]  # chat 2 had its turn before chat 1's second reply
    assert llm.max_active == 1  # one generation at a time
    assert [m.text for m in a2.messages] == ["question a2", "question a3"] and a2.message.message_id == 3
    prompt = [m["content"] for m in llm.prompts[-1]]
    assert "question a2" in prompt[-2] and prompt[-1].endswith("question a3")  # the burst, in order
    assert max(delays) < 0.1


async def test_cancel_policy_stops_the_previous_reply(memory):
    llm = await started(ScriptedLLM("x " * 50, delay=0.02))
    assistant = make(memory, llm, busy_policy=BusyPolicy.CANCEL)
    first = await assistant.answer(Message(1, 1, "first"))
    results = {}

    async def consume(name, reply):
        try:
            async for _ in assistant.stream(reply):
                pass
            results[name] = "done"
        except GenerationCancelled:
            results[name] = "cancelled"

    task = asyncio.create_task(consume("first", first))
    await asyncio.sleep(0.1)
    second = await assistant.answer(Message(1, 2, "second"))
    await asyncio.gather(task, consume("second", second))
    assert results == {"first": "cancelled", "second": "done"}


async def test_reset_drops_recent_turns_from_the_prompt(memory):
    llm = await started(ScriptedLLM("ok"))
    assistant = make(memory, llm)
    await assistant.reply_text(Message(1, 1, "the old topic was the shed.", created_at=time.time() - 10))
    await assistant.reset(1)
    await assistant.reply_text(Message(1, 3, "what is the new topic?", created_at=time.time() + 1))
    sent = llm.calls[-1][0]
    assert len(sent) == 2 + len(demo_turns()) and sent[-1]["content"].endswith("new topic?")  # no earlier turns…
    assert "old topic" in sent[-1]["content"]  # …but long-term memory still recalls them


async def test_what_people_said_ranks_before_the_bots_own_replies(memory):
    llm = await started(ScriptedLLM("ok"))
    assistant = make(memory, llm, k=1, recent_turns=0)
    await assistant.remember(Message(1, 1, "Rex Rex Rex is the dog", role="assistant", sender_name="Engram"))
    await assistant.remember(Message(1, 2, "my dog is Rex", sender_name="Ana"))
    reply = await assistant.reply_text(Message(1, 3, "Rex dog?"))
    assert [h.message.text for h in reply.recalled] == ["my dog is Rex"]


def test_weak_matches_stay_out_of_the_prompt():
    from memory import Hit

    recall = RecallConfig(k=3, min_score=0.25, min_relative_score=0.7)
    hits = [Hit(Message(1, i, f"m{i}", role=role), score) for i, (score, role) in
            enumerate([(0.8, "user"), (0.75, "assistant"), (0.6, "user"), (0.5, "user")])]
    assert [h.message.text for h in select_memories(hits, recall)] == ["m0", "m2", "m1"]
    assert select_memories([Hit(Message(1, 9, "weak"), 0.2)], recall) == []
    assert select_memories([], recall) == []


async def test_busy_from_the_moment_a_message_arrives_until_its_reply_is_written(memory):
    """An import's gate (bot/importing/live.until_idle) waits on `busy`: it must hold while the message is still
    being stored (its embedding queued behind the import's), not only once its reply waits for its turn."""
    llm = await started(ScriptedLLM("Rex."))
    assistant = make(memory, llm)
    assert not assistant.busy
    arriving = asyncio.get_running_loop().create_task(
        assistant.answer(Message(1, 1, "what is my dog called", sender_name="Ana")))
    await asyncio.sleep(0)  # the message is being stored
    assert assistant.busy
    reply = await arriving
    assert assistant.busy  # waiting for its turn
    # nothing told: answered without the model, still a reply
    assert "".join([chunk async for chunk in assistant.stream(reply)])
    assert not assistant.busy
