"""`bench-embed-order`: what sorting an import batch by length saves the embedding model.

The model pads each call's texts to the longest one, and padding costs as much as text. For LoCoMo-like texts
("Sender: text", bench/telegram_export.py) this prints how many tokens the model runs per real token for slices
taken in arrival order or from sorted batches, then the measured rate of each way, interleaved round by round on
the same texts so that a busy machine slows all of them alike.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from bench import telegram_export
from bench.common import load_average, markdown_table, say
from bot.config import load_config
from bot.importing.run import BATCH, GATE_SLICE
from bot.services import build_embedder
from memory.embedder import resolve_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("locomo", help="a LoCoMo-format file (the texts are made of its turns' sentences)")
    parser.add_argument("--texts", type=int, default=512, help="texts (512)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")


def padded(lengths: list[int], window: int, piece: int) -> float:
    """Tokens the model runs per real token when `window` texts are sorted and cut in calls of `piece`
    (window 0: not sorted)."""
    total = 0
    for start in range(0, len(lengths), window or piece):
        chunk = lengths[start:start + (window or piece)]
        chunk = sorted(chunk) if window else chunk
        total += sum(max(chunk[i:i + piece]) * len(chunk[i:i + piece]) for i in range(0, len(chunk), piece))
    return total / sum(lengths)


def main(args: argparse.Namespace) -> int:
    from transformers import AutoTokenizer

    config = load_config(args.config)
    rng = random.Random(1)
    names = [name for name, _ in telegram_export.PEOPLE]
    texts = telegram_export.locomo_like(telegram_export.turns_from_locomo(args.locomo), args.texts, seed=3)
    inputs = [f"{rng.choice(names)}: {text}" for text in texts]
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(config.embedding.model))
    lengths = [len(tokenizer(t, truncation=True, max_length=256)["input_ids"]) for t in inputs]
    embedder, size = build_embedder(config), config.embedding.batch_size  # its batches are the configured size
    embedder.embed_batch(inputs[:32])  # warm-up

    def slices(window: int) -> Callable[[], None]:
        def run() -> None:
            for start in range(0, len(inputs), window or GATE_SLICE):
                chunk = inputs[start:start + (window or GATE_SLICE)]
                chunk = sorted(chunk, key=len) if window else chunk
                for i in range(0, len(chunk), GATE_SLICE):
                    embedder.embed_batch(chunk[i:i + GATE_SLICE])
        return run

    def whole_calls() -> None:
        for start in range(0, len(inputs), BATCH):
            embedder.embed_batch(inputs[start:start + BATCH])

    ways = {f"slices of {GATE_SLICE}, arrival order": (slices(0), padded(lengths, 0, GATE_SLICE)),
            f"slices of {GATE_SLICE} of sorted batches of {BATCH} (the import)": (slices(BATCH),
                                                                               padded(lengths, BATCH, GATE_SLICE)),
            f"calls of {BATCH} (sorted by the model, batches of {size})": (whole_calls, padded(lengths, BATCH, size))}
    rates: dict[str, list[float]] = {name: [] for name in ways}
    say(f"{len(inputs)} texts, {statistics.mean(lengths):.1f} tokens on average; load {load_average()}")
    for _ in range(args.rounds):
        for name, (run, _) in ways.items():
            started = time.perf_counter()
            run()
            rates[name].append(len(inputs) / (time.perf_counter() - started))
    rows = [(name, f"{pad:.2f}x", f"{statistics.median(rates[name]):.0f}",
             " ".join(f"{r:.0f}" for r in rates[name])) for name, (_, pad) in ways.items()]
    print(markdown_table(rows, ("how", "tokens run per real token", "messages/s (median)", "each round"),
                         title=f"{len(inputs)} texts, {statistics.mean(lengths):.1f} tokens on average, "
                               f"load after {load_average()}"))
    return 0
