"""`bench-dates`: what reading the days messages speak of costs (issue 24): dating an older database's messages
(bot/when/zones.py date_messages, as the assistant does in the background at start), and finding what a chat's
messages say about a week (memory.messages.speaking_of, what "What's on my schedule this week?" reads).

Messages are generated (plans, past events, plain talk, questions) over `--chats` chats, a minute apart, with
random unit vectors (the embedding model is not what is measured); each size gets a fresh database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import load_average
from bot.when.mentions import days_spoken_of
from bot.when.zones import date_messages
from memory import HashEmbedder, Memory, Message, Store

LINES = ["I have a dentist appointment on Tuesday at 10.", "We went to Rome in May.", "I like green tea.",
         "Tomorrow I meet Anna for lunch.", "The boiler is broken again.", "My sister lives in Oslo.",
         "Next week I start yoga.", "Can you send me the report?", "It rained all day.",
         "The meeting moved to 3 May.", "On Friday the kids have a school trip.", "I finished the book."]
START = 1_700_000_000.0
DIM = 64


async def measure(size: int, chats: int, queries: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="engram-dates-") as tmp:
        path = Path(tmp) / "dates.db"
        store = Store.open(path, HashEmbedder(DIM))
        messages = [Message(1 + i % chats, i, f"{rng.choice(LINES)} #{i}", sender_name="Ana",
                            created_at=START + 60.0 * i) for i in range(size)]
        vectors = np.random.default_rng(seed).standard_normal((size, DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store.messages.add_many(messages, vectors=vectors)
        store.close()
        memory = Memory(path, HashEmbedder(DIM))
        await memory.start()
        try:
            began = time.perf_counter()
            dated, _ = await date_messages(memory, "UTC")
            seconds = time.perf_counter() - began
            week = days_spoken_of("this week", START + 60.0 * size / 2, "UTC")[0]
            times, found = [], 0
            for _ in range(queries):
                began = time.perf_counter()
                found = len(await memory.messages.speaking_of(1, *week))
                times.append(time.perf_counter() - began)
        finally:
            await memory.stop()
    return {"messages": size, "chats": chats, "dated": dated, "dating_seconds": round(seconds, 2),
            "dated_per_second": round(dated / seconds), "week_found": found,
            "speaking_of_ms_median": round(1000 * statistics.median(times), 2),
            "speaking_of_ms_max": round(1000 * max(times), 2)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="messages (%(default)s)")
    parser.add_argument("--chats", type=int, default=20, help="chats they are spread over (%(default)s)")
    parser.add_argument("--queries", type=int, default=20, help="speaking_of calls timed a size (%(default)s)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")


def main(args: argparse.Namespace) -> int:
    rows = [asyncio.run(measure(size, args.chats, args.queries)) for size in args.sizes]
    if args.json:
        print(json.dumps({"rows": rows, "load": load_average()}, indent=2))
        return 0
    print(f"{'messages':>9} {'chats':>6} {'dating s':>9} {'dated/s':>8} {'week found':>11} {'speaking_of ms':>15}")
    for r in rows:
        print(f"{r['messages']:>9} {r['chats']:>6} {r['dating_seconds']:>9} {r['dated_per_second']:>8} "
              f"{r['week_found']:>11} {r['speaking_of_ms_median']:>8} (max {r['speaking_of_ms_max']})")
    print(f"\nload {load_average()}")
    return 0
