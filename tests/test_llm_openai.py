"""The OpenAI-compatible backend against a fake server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from bot.config import load_config
from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm import build_llm
from bot.llm.base import GenerationSettings
from bot.llm.openai_compat import OpenAICompatLLM, _delta_text, _error_detail, _retry_after_seconds
from tests.fake_openai import FakeOpenAIServer

pytestmark = pytest.mark.timeout(30)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


async def collect(llm, messages=MESSAGES, settings=None, cancel=None) -> list[str]:
    return [chunk async for chunk in llm.stream(messages, settings, cancel)]


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_streams_the_reply_in_chunks_and_sends_an_openai_request(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    async with FakeOpenAIServer(reply="Hello there, friend.") as server:
        llm = OpenAICompatLLM(server.base_url, "fake-model", api_key_env="FAKE_KEY")
        await llm.start()
        try:
            chunks = await collect(llm, settings=GenerationSettings(max_new_tokens=12, temperature=0.3))
        finally:
            await llm.stop()
    assert chunks == ["Hello", " there,", " friend."]
    sent = server.requests[0]
    assert sent["model"] == "fake-model" and sent["stream"] is True
    assert sent["messages"] == MESSAGES and sent["max_tokens"] == 12 and sent["temperature"] == 0.3
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


async def test_stop_strings_cut_the_reply_even_if_the_server_ignores_them():
    async with FakeOpenAIServer(reply="Sure. User: do something else") as server:
        llm = OpenAICompatLLM(server.base_url, "m")
        try:
            text = "".join(await collect(llm, settings=GenerationSettings(stop=["User:"])))
        finally:
            await llm.stop()
    assert text == "Sure. "
    assert server.requests[0]["stop"] == ["User:"]


async def test_unreachable_server_gives_a_clear_error():
    llm = OpenAICompatLLM(f"http://127.0.0.1:{free_port()}/v1", "m", retries=0, timeout=5)
    try:
        with pytest.raises(LLMUnavailable, match="cannot reach the LLM server .*base_url"):
            await collect(llm)
    finally:
        await llm.stop()


async def test_server_error_500_gives_a_clear_error_after_retrying():
    async with FakeOpenAIServer(mode="error500") as server:
        llm = OpenAICompatLLM(server.base_url, "m", retries=1)
        try:
            with pytest.raises(LLMUnavailable, match="answered 500.*the model crashed"):
                await collect(llm)
        finally:
            await llm.stop()
    assert len(server.requests) == 2  # one retry


async def test_a_transient_500_is_retried_and_the_reply_arrives():
    async with FakeOpenAIServer(reply="Recovered.") as server:
        server.fail_first = 1
        llm = OpenAICompatLLM(server.base_url, "m", retries=2)
        try:
            assert "".join(await collect(llm)) == "Recovered."
        finally:
            await llm.stop()
    assert len(server.requests) == 2


async def test_a_client_error_is_not_retried():
    async with FakeOpenAIServer() as server:
        llm = OpenAICompatLLM(server.base_url.replace("/v1", "/nope"), "m", retries=3)
        try:
            with pytest.raises(LLMUnavailable, match="404"):
                await collect(llm)
        finally:
            await llm.stop()


async def test_a_hanging_server_times_out():
    async with FakeOpenAIServer(mode="hang") as server:
        llm = OpenAICompatLLM(server.base_url, "m", retries=0, timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(LLMUnavailable, match="did not answer in time"):
                await collect(llm)
        finally:
            await llm.stop()
    assert time.monotonic() - started < 5


async def test_cancel_stops_a_stalled_stream_at_once():
    async with FakeOpenAIServer(reply="first second third", mode="hang_after_first") as server:
        llm = OpenAICompatLLM(server.base_url, "m", timeout=20)
        cancel = asyncio.Event()
        received: list[str] = []

        async def consume():
            async for chunk in llm.stream(MESSAGES, cancel=cancel):
                received.append(chunk)

        task = asyncio.create_task(consume())
        while not received:
            await asyncio.sleep(0.01)
        started = time.monotonic()
        cancel.set()
        try:
            with pytest.raises(GenerationCancelled):
                await task
        finally:
            await llm.stop()
    assert received == ["first"]
    assert time.monotonic() - started < 1.0


async def test_a_429_with_a_short_retry_after_is_retried_after_that_delay():
    async with FakeOpenAIServer(reply="Made it.") as server:
        server.fail_first, server.fail_status, server.fail_headers = 1, 429, {"Retry-After": "1"}
        llm = OpenAICompatLLM(server.base_url, "m", retries=1)
        try:
            assert "".join(await collect(llm)) == "Made it."
        finally:
            await llm.stop()
    assert len(server.requests) == 2
    assert server.times[1] - server.times[0] >= 0.95  # waited as asked, not the 0.5 s backoff


async def test_a_429_asking_for_a_long_wait_is_reported_at_once():
    async with FakeOpenAIServer() as server:
        server.fail_first, server.fail_status, server.fail_headers = 5, 429, {"Retry-After": "120"}
        llm = OpenAICompatLLM(server.base_url, "m", retries=3)
        started = time.monotonic()
        try:
            with pytest.raises(LLMUnavailable, match=r"busy \(429 Too Many Requests\) and asks to wait 2 minutes"):
                await collect(llm)
        finally:
            await llm.stop()
    assert len(server.requests) == 1 and time.monotonic() - started < 2


async def test_a_429_that_persists_says_the_server_is_busy():
    async with FakeOpenAIServer() as server:
        server.fail_first, server.fail_status = 5, 429  # no Retry-After: the usual backoff
        llm = OpenAICompatLLM(server.base_url, "m", retries=1)
        try:
            with pytest.raises(LLMUnavailable, match=r"busy \(429.*temporarily broken.*rate limits") as caught:
                await collect(llm)
        finally:
            await llm.stop()
    assert len(server.requests) == 2
    assert server.base_url in str(caught.value)


async def test_a_503_with_retry_after_is_waited_out_too():
    async with FakeOpenAIServer(reply="Back.") as server:
        server.fail_first, server.fail_status, server.fail_headers = 1, 503, {"Retry-After": "0"}
        llm = OpenAICompatLLM(server.base_url, "m", retries=1)
        try:
            assert "".join(await collect(llm)) == "Back."
        finally:
            await llm.stop()


async def test_a_stream_that_ends_before_the_server_finished_is_an_error_not_a_short_reply():
    async with FakeOpenAIServer(reply="first second third", mode="cut") as server:
        llm = OpenAICompatLLM(server.base_url, "m", retries=2)
        received: list[str] = []
        try:
            with pytest.raises(LLMUnavailable, match="stopped sending before the reply was finished"):
                async for chunk in llm.stream(MESSAGES):
                    received.append(chunk)
        finally:
            await llm.stop()
    assert received == ["first"]
    assert len(server.requests) == 1  # text was shown: a retry would repeat it


async def test_a_rejected_request_that_names_our_model_points_at_the_setting():
    async with FakeOpenAIServer() as server:
        server.fail_first, server.fail_status = 1, 400
        llm = OpenAICompatLLM(server.base_url, "temporarily", retries=2)  # the fake's message names it
        try:
            with pytest.raises(LLMError, match=r"rejected the request \(400\).*check llm.openai.model"):
                await collect(llm)
        finally:
            await llm.stop()
    assert len(server.requests) == 1  # a client error is not retried


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    from email.utils import formatdate

    assert _retry_after_seconds("3") == 3.0
    assert _retry_after_seconds(" 1.5 ") == 1.5
    assert 25 <= _retry_after_seconds(formatdate(time.time() + 30, usegmt=True)) <= 31
    assert _retry_after_seconds(formatdate(time.time() - 30, usegmt=True)) == 0.0
    assert _retry_after_seconds(None) is None
    assert _retry_after_seconds("soon") is None


def test_error_details_are_one_plain_line_never_a_traceback():
    assert _error_detail('{"error": {"message": "out of memory"}}') == "out of memory"
    assert _error_detail('{"error": "CUDA error"}') == "CUDA error"
    assert _error_detail('{"detail": "Server is pinned to \'/m\'; requested \'x\'."}') == (
        "Server is pinned to '/m'; requested 'x'."
    )
    assert _error_detail("Internal Server Error") == "Internal Server Error"
    assert _error_detail('Traceback (most recent call last):\n  File "x.py", line 1') == "no details"
    assert _error_detail("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>") == "no details"
    assert _error_detail("first line\nsecond line") == "first line"
    assert _error_detail("") == "no details"
    assert len(_error_detail("x" * 1000)) == 200


def test_malformed_or_error_events_become_llm_errors():
    with pytest.raises(LLMError, match="malformed"):
        _delta_text("{not json")
    with pytest.raises(LLMError, match="out of memory"):
        _delta_text('{"error": {"message": "out of memory"}}')
    assert _delta_text('{"choices": [{"delta": {"content": "hi"}}]}') == "hi"
    assert _delta_text('{"choices": [{"delta": {}, "finish_reason": "stop"}]}') == ""


def test_count_tokens_is_an_estimate_that_grows_with_the_text():
    llm = OpenAICompatLLM("http://127.0.0.1:1/v1", "m")
    short = llm.count_tokens([{"role": "user", "content": "hi"}])
    long = llm.count_tokens([{"role": "user", "content": "hello there " * 50}])
    assert 0 < short < long
    assert long >= len("hello there " * 50) // 4  # errs high rather than low


def test_build_llm_picks_the_openai_backend_from_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  backend: openai\n  openai:\n    base_url: http://127.0.0.1:9/v1/\n    model: qwen\n")
    llm = build_llm(load_config(path, env={}))
    assert isinstance(llm, OpenAICompatLLM)
    assert llm.base_url == "http://127.0.0.1:9/v1" and llm.name == "qwen"
