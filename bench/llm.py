"""`bench-llm`: how fast the configured local model answers, and what it costs in memory.

Measured in one run, for a ~400-token Engram-shaped prompt (system prompt + memories + recent turns + question):
- cold start: a fresh process imports torch, loads the embedder and the LLM (from the converted cache), and
  its resident memory with both models loaded, after one generation;
- per variant (transformers dtype, or onnxruntime-genai export `onnx-<precision>`, x threads): load time, time to
  first token and decode tokens/s (median of --runs) with its share of the memory-bandwidth floor (bytes of
  weights read per token ÷ --bandwidth GB/s: the fastest any runtime could decode), the first
  token of a follow-up question with the prompt-prefix cache off and on, and the first token of a new question
  whose only cached part is the fixed one (system prompt and worked examples, bot/reply/demos.py).
Timings on a shared machine are noisy: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import load_average, markdown_table, peak_rss_mb, rss_mb
from bot.config import Config, LLMBackend, LLMRuntime, OnnxPrecision, load_config
from bot.llm import build_llm
from bot.llm.base import GenerationSettings
from bot.llm.model_files import ensure_converted, resolve_source
from bot.reply.prompt import ANSWER_CUE, MEMORY_HEADER, demo_turns, note_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=3, help="repetitions per measurement (median reported)")
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per decode measurement")
    parser.add_argument(
        "--variants",
        default="float32:0,bfloat16:0,onnx-int8:0,onnx-int4:0",
        help="comma-separated dtype:threads pairs, a transformers dtype or onnx-<int8|int4|fp32> for an "
             "onnxruntime-genai export (threads 0 = all cores), default %(default)s",
    )
    parser.add_argument("--bandwidth", type=float, default=22.0,
                        help="memory bandwidth in GB/s for the floor (default %(default)s: measured on this machine)")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-start / memory subprocess")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--cold-probe", action="store_true", help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if config.llm.backend is not LLMBackend.TRANSFORMERS:
        print("bench-llm measures the local transformers backend: set llm.backend: transformers", file=sys.stderr)
        return 2
    if args.cold_probe:
        print(json.dumps(asyncio.run(_cold_probe(config))))
        return 0
    results: dict = {"model": config.llm.model, "cores": len(os.sched_getaffinity(0)), "load_before": load_average(),
                     "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(default)")}
    _ensure_cache(config, args.variants.split(","))
    if not args.skip_cold:
        runtimes = (LLMRuntime.TRANSFORMERS, LLMRuntime.ONNX)
        results["cold"] = {runtime.value: _run_cold_probe(args, runtime.value) for runtime in runtimes}
    results["variants"] = [asyncio.run(_measure_variant(config, spec, args)) for spec in args.variants.split(",")]
    results["load_after"] = load_average()
    print(json.dumps(results, indent=2) if args.json else _table(results))
    return 0


# -- the prompt ------------------------------------------------------------------------------------------------

MEMORIES = [
    ("Ana", "2024-03-02", "My dog is called Rex and he is a border collie."),
    ("Ana", "2024-03-09", "We are flying to Lisbon on the 14th of May, flight TP1351 at 9:40."),
    ("Ben", "2024-03-11", "The wifi password at the cabin is on the fridge, it's pinecone42."),
    ("Ana", "2024-04-01", "Remind me that the dentist moved my appointment to Thursday at 3pm."),
    ("Ben", "2024-04-03", "I started learning the cello in January, lessons on Tuesdays."),
    ("Ana", "2024-04-17", "My sister Marta's birthday is on the 2nd of June, she likes orchids."),
    ("Ben", "2024-04-20", "The car needs its inspection before the end of July."),
    ("Ana", "2024-05-02", "I'm allergic to penicillin, it's in my medical file too."),
    ("Ben", "2024-05-05", "The book club is reading 'The Remains of the Day' this month."),
    ("Ana", "2024-05-08", "Our landlord is Mr Okafor, his number is in the shared contacts."),
    ("Ben", "2024-05-10", "We bought the blue sofa from the shop on Rua Augusta, delivery in two weeks."),
    ("Ana", "2024-05-12", "Rex's vet is Dr Silva at the clinic near the park; next vaccine due in August."),
]
TURNS = [
    ("user", "Hi! Can you help me plan the next few weeks?"),
    ("assistant", "Of course. Tell me what is coming up and I will help you keep track."),
    ("user", "We have the Lisbon trip, and I also need to sort out the dog while we are away."),
    ("assistant", "Noted: the Lisbon trip and arrangements for Rex while you are travelling."),
]
QUESTION = "Tell me, in detail and as a long list, everything I should prepare before we fly to Lisbon."
FOLLOW_UP = "And what is the name of our dog's vet?"


def fitted_prompt(llm, system_prompt: str, target_tokens: int = 400) -> list[dict]:
    """The Engram-shaped prompt with as many memories as fit in about `target_tokens`."""
    for n in range(len(MEMORIES), 0, -1):
        messages = engram_prompt(system_prompt, n)
        if llm.count_tokens(messages) <= target_tokens + 20:
            return messages
    return engram_prompt(system_prompt, 1)


def engram_prompt(system_prompt: str, memories: int = len(MEMORIES), question: str = QUESTION,
                  newest_first: bool = False) -> list[dict]:
    """A prompt laid out as the assistant's (bot/reply/prompt.py): the fixed system text and worked examples first, then
    turns, then the memories quoted with the question."""
    chosen = (MEMORIES[::-1] if newest_first else MEMORIES)[:memories]
    quoted = "\n".join(f"- {note_line(day, who, text)}" for who, day, text in chosen)
    messages = [{"role": "system", "content": system_prompt}, *demo_turns()]
    messages += [{"role": role, "content": text} for role, text in TURNS]
    return messages + [{"role": "user", "content": f"{MEMORY_HEADER}\n{quoted}\n{ANSWER_CUE}{question}"}]


# -- measurements ----------------------------------------------------------------------------------------------


def _ensure_cache(config: Config, variants: list[str]) -> None:
    """Convert the GGUF and make the exports once up front, so no measurement below includes a conversion."""
    from bot.llm.onnx_local import ensure_exported, source_folder

    source = resolve_source(config.llm.model)
    cache_dir = config.resolve(config.llm.cache_dir)
    if source.kind == "gguf":
        folder, converted = ensure_converted(Path(source.location), cache_dir)
        if converted:
            print(f"(converted the GGUF once into {folder})", file=sys.stderr)
    for spec in variants:
        kind = spec.partition(":")[0]
        if kind.startswith("onnx-"):
            folder, made = ensure_exported(source_folder(config.llm.model, cache_dir), cache_dir,
                                           OnnxPrecision(kind.removeprefix("onnx-")))
            if made:
                print(f"(exported once into {folder})", file=sys.stderr)


def _run_cold_probe(args, runtime: str) -> dict:
    command = [sys.executable, "-m", "bench"] + (["--config", args.config] if args.config else [])
    command += ["bench-llm", "--cold-probe"]
    env = dict(os.environ, ENGRAM_LLM__RUNTIME=runtime)
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


async def _cold_probe(config) -> dict:
    """In a fresh process: import + load both models, one generation, resident memory."""
    started = time.perf_counter()
    from bot.llm.local import TransformersLLM
    from bot.services import build_embedder  # timed: importing torch and the models is part of a cold start

    embedder = await asyncio.to_thread(build_embedder, config)
    await asyncio.to_thread(embedder.embed_batch, ["warm up"])
    llm = build_llm(config)
    assert isinstance(llm, TransformersLLM), "bench-llm measures the local backend (main checks it)"
    await llm.start()
    ready = time.perf_counter() - started
    rss_loaded = rss_mb()
    prompt = fitted_prompt(llm, config.assistant.system_prompt)
    async for _ in llm.stream(prompt, GenerationSettings(max_new_tokens=16)):
        pass
    result = {"runtime": getattr(llm, "runtime", None) or LLMRuntime.TRANSFORMERS,
              "ready_seconds": ready, "llm_load_seconds": llm.load_seconds, "rss_loaded_mb": rss_loaded,
              "rss_after_generation_mb": rss_mb(), "peak_rss_mb": peak_rss_mb()}
    await llm.stop()
    return result


async def _measure_variant(config, spec: str, args) -> dict:
    import torch  # noqa: F401  imported before timing, so "load s" is the model load alone
    import transformers  # noqa: F401

    from bot.llm.local import TransformersLLM
    from bot.llm.onnx_local import OnnxLLM

    dtype, _, threads = spec.partition(":")
    common = dict(device=config.llm.device, threads=int(threads or 0), cache_dir=config.resolve(config.llm.cache_dir),
                  context_window=config.llm.context_window, prefix_cache=False)
    llm: TransformersLLM
    if dtype.startswith("onnx-"):
        llm = OnnxLLM(config.llm.model, runtime=LLMRuntime.ONNX, precision=dtype.removeprefix("onnx-"), **common)
    else:
        llm = TransformersLLM(config.llm.model, dtype=dtype, **common)
    await llm.start()
    prompt = fitted_prompt(llm, config.assistant.system_prompt)
    used = getattr(llm, "threads_used", 0) or int(threads or 0) or len(os.sched_getaffinity(0))
    row = {"dtype": dtype, "threads": used,
           "load_seconds": llm.load_seconds, "prompt_tokens": llm.count_tokens(prompt),
           "weights_mb_per_token": _weights_read_per_token(llm) / 1e6}
    await _generate(llm, prompt, GenerationSettings(max_new_tokens=4))  # warm-up: first-call kernel setup
    first, rates, lengths = [], [], []
    llm.extra_generate_options = {"min_new_tokens": args.tokens}  # the same decode length for every variant
    for _ in range(args.runs):
        stats = await _generate(llm, prompt, GenerationSettings(max_new_tokens=args.tokens))
        first.append(stats.first_token_seconds)
        rates.append(stats.decode_tokens_per_second)
        lengths.append(stats.new_tokens)
    row.update(first_token_s=statistics.median(first), decode_tok_s=statistics.median(rates),
               new_tokens=statistics.median(lengths))
    floor = args.bandwidth * 1e9 / max(_weights_read_per_token(llm), 1)
    row["bandwidth_share"] = row["decode_tok_s"] / floor
    llm.extra_generate_options = {}
    cold_follow, warm_follow, reused = [], [], []
    for _ in range(args.runs):
        llm.use_prefix_cache = True
        reply = await _generate(llm, prompt, GenerationSettings(max_new_tokens=24), keep_text=True)
        follow = prompt + [{"role": "assistant", "content": reply.text}, {"role": "user", "content": FOLLOW_UP}]
        stats = await _generate(llm, follow, GenerationSettings(max_new_tokens=1))
        warm_follow.append(stats.first_token_seconds)
        reused.append(stats.reused_tokens)
        llm.use_prefix_cache = False
        stats = await _generate(llm, follow, GenerationSettings(max_new_tokens=1))
        cold_follow.append(stats.first_token_seconds)
    row.update(follow_up_tokens=stats.prompt_tokens, follow_up_first_token_s=statistics.median(cold_follow),
               follow_up_cached_first_token_s=statistics.median(warm_follow), reused_tokens=min(reused))
    # A new question (other memories, other words) after any reply: only the fixed part (system prompt and worked
    # examples) is shared, the case of every first reply to a new message.
    llm.use_prefix_cache = True
    other = engram_prompt(config.assistant.system_prompt, len(prompt[-1]["content"].splitlines()) - 2,
                          FOLLOW_UP, newest_first=True)
    fresh, shared = [], []
    for _ in range(args.runs):
        await _generate(llm, prompt, GenerationSettings(max_new_tokens=1))
        stats = await _generate(llm, other, GenerationSettings(max_new_tokens=1))
        fresh.append(stats.first_token_seconds)
        shared.append(stats.reused_tokens)
    row.update(new_question_tokens=stats.prompt_tokens, new_question_cached_first_token_s=statistics.median(fresh),
               fixed_prefix_tokens=min(shared))
    await llm.stop()
    return row


def _weights_read_per_token(llm) -> float:
    """Bytes of weights one decoded token reads: all of them but an input embedding table that is only looked up
    (SmolLM2 ties it to the output layer: transformers reads it whole for the logits, an export that quantises the
    output layer keeps a separate fp32 table for the lookup)."""
    export = getattr(llm, "export", None)
    if export is None or getattr(llm, "runtime", None) is not LLMRuntime.ONNX:
        return float(sum(p.numel() * p.element_size() for p in llm._model.parameters()))
    import onnx

    total = sum(p.stat().st_size for p in export.iterdir() if p.name.startswith("model.onnx"))
    graph = onnx.load(str(export / "model.onnx"), load_external_data=False).graph
    gathered = {node.input[0] for node in graph.node if node.op_type == "Gather"}
    for init in graph.initializer:
        if init.name in gathered and len(init.dims) == 2 and init.dims[0] > 10000:
            size = 4 if init.data_type == onnx.TensorProto.FLOAT else 2 if init.data_type in (10, 16) else 1
            if getattr(llm, "precision", None) is not OnnxPrecision.FP32:
                total -= init.dims[0] * init.dims[1] * size
    return float(total)


async def _generate(llm, messages, settings, keep_text: bool = False):
    text = []
    async for chunk in llm.stream(messages, settings):
        text.append(chunk)
    stats = llm.last_stats
    if keep_text:
        stats.text = "".join(text)
    return stats


# -- reporting -------------------------------------------------------------------------------------------------


def _table(r: dict) -> str:
    lines = [f"bench-llm: model {r['model']}, {r['cores']} cores, OMP_WAIT_POLICY {r['omp_wait_policy']}, "
             f"load average before {r['load_before']}, after {r['load_after']}"]
    for runtime, cold in (r.get("cold") or {}).items():
        if "error" in cold:
            lines.append(f"cold start, llm.runtime {runtime}: failed ({cold['error']})")
            continue
        lines.append(
            f"cold start, llm.runtime {runtime} (fresh process: imports + embedder + LLM from cache): "
            f"{cold['ready_seconds']:.1f} s (LLM load {cold['llm_load_seconds']:.1f} s); RSS both models loaded "
            f"{cold['rss_loaded_mb']:.0f} MB, after a generation {cold['rss_after_generation_mb']:.0f} MB, "
            f"peak {cold['peak_rss_mb']:.0f} MB"
        )
    header = ("runtime", "threads", "load s", "prompt tok", "first token s", "decode tok/s",
              "MB read/token", "share of bandwidth floor", "new tok",
              "follow-up first token s (no cache)", "follow-up first token s (prefix cache)", "reused tok",
              "new question first token s (fixed part cached)", "fixed part tok")
    rows = [(v["dtype"], v["threads"], f"{v['load_seconds']:.1f}", v["prompt_tokens"], f"{v['first_token_s']:.2f}",
             f"{v['decode_tok_s']:.1f}", f"{v['weights_mb_per_token']:.0f}", f"{v['bandwidth_share']:.0%}",
             v["new_tokens"], f"{v['follow_up_first_token_s']:.2f}",
             f"{v['follow_up_cached_first_token_s']:.2f}", v["reused_tokens"],
             f"{v['new_question_cached_first_token_s']:.2f}", v["fixed_prefix_tokens"]) for v in r["variants"]]
    lines += ["", markdown_table(rows, header)]
    return "\n".join(lines)
