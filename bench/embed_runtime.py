"""`bench-embed-runtime`: the embedding model on torch against its ONNX export, on the same texts, same run.

Rates are taken in interleaved rounds (a busy machine slows every runtime alike) on LoCoMo-like "Sender: text"
inputs (bench/telegram_export.py), in calls of the import's batch (256, sorted by length and run in batches of
embedding.batch_size). Each rate is set against the physical floor: the model's FLOPs per token times the tokens
it runs, at the cores' fp32 peak. `--int8` adds onnxruntime's dynamic int8 quantisation of the export (of the
attention's products only, and of all) with their cosine to the fp32 vectors: the issue allows such a path only
at cosine >= 0.99 (see docs/BENCHMARKS.md for what the project ships).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import telegram_export
from bench.common import load_average, markdown_table, say
from bot.config import load_config
from bot.importing.run import BATCH
from memory.embedder import SentenceTransformerEmbedder, resolve_model
from memory.onnx_embedder import OnnxEmbedder


def peak_gflops() -> float:
    """fp32 peak of the machine's cores: 2 FMA units x 8 lanes x 2 FLOP a cycle (AVX2; Zen 4 runs AVX-512 as
    two halves, so no more), at the clock /proc/cpuinfo gives (3 GHz where it gives none)."""
    mhz = 3000.0
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            mhz = next(float(line.split(":")[1]) for line in info if line.startswith("cpu MHz"))
    except (OSError, StopIteration, ValueError):
        pass
    return (os.cpu_count() or 1) * 32 * mhz / 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("locomo", help="a LoCoMo-format file (the texts are made of its turns' sentences)")
    parser.add_argument("--texts", type=int, default=1024, help="texts (1024)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--int8", action="store_true", help="also measure int8-quantised exports (not shipped)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def flops_per_token(config) -> float:
    """Multiply-adds of one token through the encoder's matrix products (attention scores excluded), x2."""
    h, inner, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return 2.0 * layers * (4 * h * h + 2 * h * inner)


def quantised(folder: Path, work: Path, which: str) -> Path:
    """onnxruntime's dynamic int8 quantisation of the export: of every matrix product ("all"), or of the
    attention's only ("attention": the fused QKV projection and the attention output; the feed-forward
    products, whose inputs carry BERT's outlier activations, lose the most when quantised)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = folder / "model.onnx"
    nodes = [n.name for n in onnx.load(str(graph)).graph.node if n.op_type in ("MatMul", "Attention")]
    if which == "attention":
        nodes = [n for n in nodes if n.startswith("Attention") or "attention/output" in n]
    target = work / f"int8-{which}.onnx"
    quantize_dynamic(str(graph), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_quantize=nodes, op_types_to_quantize=["MatMul", "Attention"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return target


def main(args: argparse.Namespace) -> int:
    from transformers import PreTrainedModel

    config = load_config(args.config)
    source = resolve_model(config.embedding.model)
    cache = config.resolve(config.llm.cache_dir)
    rng = random.Random(1)
    names = [name for name, _ in telegram_export.PEOPLE]
    texts = telegram_export.locomo_like(telegram_export.turns_from_locomo(args.locomo), args.texts, seed=3)
    inputs = [f"{rng.choice(names)}: {text}" for text in texts]
    size = config.embedding.batch_size
    torch_model = SentenceTransformerEmbedder(config.embedding.model, batch_size=size)
    tokens = [len(ids) for ids in torch_model._model.tokenizer(inputs, truncation=True, max_length=256)["input_ids"]]
    encoder = torch_model._model[0].auto_model  # sentence-transformers' Transformer module wraps the model
    assert isinstance(encoder, PreTrainedModel)
    per_token = flops_per_token(encoder.config)
    onnx_model = OnnxEmbedder(config.embedding.model, source, cache, batch_size=size)
    two_threads = OnnxEmbedder(config.embedding.model, source, cache, batch_size=size, workers=1, threads=0)
    graph = "fused graph" if onnx_model.fused else "plain graph"
    ways = {f"torch (sentence-transformers), batches of {size}": torch_model.embed_batch,
            f"onnxruntime ({graph}), a batch at a time on 2 threads": two_threads.embed_batch,
            f"onnxruntime ({graph}), batches side by side, 1 thread each (shipped)": onnx_model.embed_batch}
    reference = torch_model.embed_batch(inputs)
    cosines = {name: np.sum(fn(inputs) * reference, axis=1) for name, fn in ways.items()}
    with tempfile.TemporaryDirectory() as tmp:
        if args.int8:
            for nodes, label in (("attention", "onnxruntime int8: attention (QKV and output) only"),
                                 ("all", "onnxruntime int8: all matrix products")):
                variant = OnnxEmbedder(config.embedding.model, source, cache, batch_size=size,
                                       graph=quantised(onnx_model.folder, Path(tmp), nodes))
                ways[label] = variant.embed_batch
                cosines[label] = np.sum(variant.embed_batch(inputs) * reference, axis=1)
        say(f"{len(inputs)} texts, {statistics.mean(tokens):.1f} tokens on average; load {load_average()}")
        rates: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, fn in ways.items():
                started = time.perf_counter()
                for start in range(0, len(inputs), BATCH):
                    fn(inputs[start:start + BATCH])
                rates[name].append(len(inputs) / (time.perf_counter() - started))
    peak = peak_gflops()
    floor = peak * 1e9 / (per_token * statistics.mean(tokens))
    result: dict = {"texts": len(inputs), "mean_tokens": round(statistics.mean(tokens), 1),
              "mflop_per_token": round(per_token / 1e6, 1), "peak_gflops": round(peak),
              "peak_rate": round(floor), "load": load_average(),
              "runtimes": {name: {"rate": round(statistics.median(rates[name]), 1),
                                  "rounds": [round(r, 1) for r in rates[name]],
                                  "of_peak": round(statistics.median(rates[name]) / floor, 3),
                                  "cosine_mean": round(float(cosines[name].mean()), 5),
                                  "cosine_min": round(float(cosines[name].min()), 5)} for name in ways}}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    base = next(iter(result["runtimes"].values()))["rate"]
    rows = [(name, f"{r['rate']:.0f}", " ".join(f"{x:.0f}" for x in r["rounds"]), f"{r['rate'] / base:.2f}x",
             f"{100 * r['of_peak']:.0f}%", f"{r['cosine_mean']:.4f} / {r['cosine_min']:.4f}")
            for name, r in result["runtimes"].items()]
    print(markdown_table(rows, ("runtime", "messages/s (median)", "each round", "vs torch", "of the fp32 peak",
                                "cosine to torch, mean / min"),
                         title=f"{len(inputs)} texts, {result['mean_tokens']} tokens on average, "
                               f"{result['mflop_per_token']} MFLOP a token: peak {result['peak_rate']} messages/s "
                               f"at {peak:.0f} GFLOP/s; load after {result['load']}"))
    return 0

