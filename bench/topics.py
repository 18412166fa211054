"""`bench-topics`: how good and how fast /topics and /map are (docs/BENCHMARKS.md, "Topics").

Quality: the labelled chat of bench/topics_data.py (chatterbot-corpus, 13 known topics), embedded by the real
all-MiniLM-L6-v2, clustered by each choice tried; NMI against the known topics (noise counted as one more
cluster: leaving a message out costs), purity of the messages given a topic, the share left as noise.

Speed: one chat of 10k and of 100k messages in a real database, through TopicService as the bot calls it. Their
vectors are the labelled chat's real vectors plus Gaussian noise (renormalised), so clusters look like real
ones; texts are the real texts. numba's cache is warmed first, as at install time (`./engram topics --warm`, in
a process of its own: "warm-up"); "first" is then the first computation of a new worker process (spawn, imports,
numba loading its compiled code), "cold" a computation not cached, "cached" the same request again. The work runs
in the service's worker process, as in the bot, which reads the chat from the database itself: "worker RSS" is
that process's peak resident memory (all it adds: it stops when idle), "bot RSS +" what the bot's own process
grew by (the results kept, SQLite's pages), "extra RSS" their sum. "loop stall" is the longest the event loop of
the bot's process went without running while the topics were computed (a 10 ms ticker; includes the other
processes' share of the two cores).

`--write-chat PATH` instead stores the labelled chat (real vectors) as chat 1 of a database at PATH: for
`./engram topics 1 --png …` with ENGRAM_STORAGE__PATH=PATH (the picture in docs/).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import load_average, markdown_table, peak_rss_mb, rss_mb, say
from bench.topics_data import LabelledMessage, labelled_chat
from memory import Memory, Message, SentenceTransformerEmbedder

NOISE = 0.03  # per-dimension Gaussian noise of the scaled chats (cosine to the original ~0.7)


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", default="10000,100000", help="messages in the speed chats (10000,100000)")
    parser.add_argument("--quality-only", action="store_true", help="skip the speed part")
    parser.add_argument("--write-chat", metavar="PATH", help="only store the labelled chat as chat 1 in PATH")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def main(args) -> int:
    messages = labelled_chat()
    say(f"labelled chat: {len(messages)} messages, {len({m.topic for m in messages})} topics; load {load_average()}")
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    vectors = embedder.embed_batch([m.text for m in messages])
    if args.write_chat:
        asyncio.run(write_chat(Path(args.write_chat), messages, vectors, LookupEmbedder(embedder.name, messages,
                                                                                         vectors)))
        say(f"stored as chat 1 in {args.write_chat}")
        return 0
    from bench.topics_quality import quality

    report: dict = {"load_before": load_average(), "quality": quality(messages, vectors)}
    if not args.quality_only:
        sizes = [int(s) for s in args.sizes.split(",") if s]
        report["speed"] = asyncio.run(speed(messages, vectors, sizes, embedder.name))
    report["load_after"] = load_average()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_tables(report)
    return 0


class LookupEmbedder:
    """Gives each known text its prepared vector (the scaled chats are too big to embed for a benchmark)."""

    def __init__(self, name: str, messages: list[LabelledMessage], vectors: np.ndarray):
        self.name, self.dim = name, vectors.shape[1]
        self.table = {m.text: v for m, v in zip(messages, vectors)}
        self.fallback = np.zeros(self.dim, dtype=np.float32)

    def set(self, texts: list[str], vectors: np.ndarray) -> None:
        self.table = dict(zip(texts, vectors))

    def embed_batch(self, texts) -> np.ndarray:
        return np.stack([self.table.get(t.split(": ", 1)[-1], self.fallback) for t in texts]).astype(np.float32)


async def write_chat(path: Path, messages: list[LabelledMessage], vectors: np.ndarray, embedder) -> None:
    async with Memory(path, embedder) as memory:
        await memory.remember_many([Message(1, i + 1, m.text, role=m.role, created_at=m.created_at,
                                            sender_name="Ana" if m.role == "user" else "Engram")
                                    for i, m in enumerate(messages)])
        await memory.flush()


def scaled(messages: list[LabelledMessage], vectors: np.ndarray, n: int, seed: int = 1
           ) -> tuple[list[LabelledMessage], np.ndarray]:
    """n messages drawn from the labelled chat, each text made unique, each vector jittered; over a year."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(messages), n)
    jittered = vectors[picks] + rng.normal(0, NOISE, (n, vectors.shape[1])).astype(np.float32)
    jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
    start, step = 1_735_689_600.0, 365 * 86400 / n
    out = [LabelledMessage(f"{messages[p].text} (#{i})", messages[p].role, messages[p].topic, start + i * step)
           for i, p in enumerate(picks.tolist())]
    return out, jittered


async def speed(messages: list[LabelledMessage], vectors: np.ndarray, sizes: list[int], model: str) -> list[dict]:
    from bot.topics.service import TopicService, Worker

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        embedder = LookupEmbedder(model, messages, vectors)
        chats = []
        for chat_id, n in enumerate(sizes, start=10):
            texts, jittered = scaled(messages, vectors, n, seed=chat_id)
            embedder.set([m.text for m in texts], jittered)
            path = Path(folder) / f"chat{n}.db"
            say(f"storing {n} messages…")
            await write_chat(path, texts, jittered, embedder)
            chats.append((n, path))
        cache = os.environ.get("ENGRAM_BENCH_CACHE", str(Path(".cache")))
        say("warming numba's cache (./engram topics --warm)…")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"from bot.topics.service import warm_topics; warm_topics({cache!r})"],
                       check=True)
        warm_s = round(time.perf_counter() - started, 1)
        base = rss_mb()
        base_peak = peak_rss_mb()
        worker = Worker(cache)  # one, as in the bot
        for n, path in chats:
            async with Memory(path, embedder) as memory:
                service = TopicService(memory)
                service.worker = worker
                window = (0.0, float("inf"))
                say(f"{n}: topics…")
                row: dict = {"messages": n, "load": load_average()}
                if not rows:
                    row["warm_up_s"] = warm_s
                started = time.perf_counter()
                result = await service.topics(1, window, "all time")
                row["topics_first_s" if not rows else "topics_cold_s"] = round(time.perf_counter() - started, 2)
                if not rows:  # the first chat: time it again, uncached, now that the worker runs and numba is loaded
                    service._results.clear()
                    async with Ticker() as ticker:
                        started = time.perf_counter()
                        result = await service.topics(1, window, "all time")
                        row["topics_cold_s"] = round(time.perf_counter() - started, 2)
                    row["loop_stall_ms"] = round(ticker.worst * 1000)
                started = time.perf_counter()
                await service.topics(1, window, "all time")
                row["topics_cached_s"] = round(time.perf_counter() - started, 3)
                row["clustering_s"] = round(result.seconds, 2)
                row["topics"], row["noise"], row["fitted_on"] = (len(result.model.topics), result.model.noise,
                                                                 result.model.fitted_on)
                say(f"{n}: map…")
                started = time.perf_counter()
                png, _caption = await service.map_png(1, window, "all time")
                row["map_s"] = round(time.perf_counter() - started, 2)
                row["map_bytes"] = len(png)
                row["worker_peak_rss_mb"] = max((round(_peak_of(pid)) for pid in service.worker.pids()), default=0)
                row["bot_rss_growth_mb"] = round(rss_mb() - base)
                row["bot_peak_rss_growth_mb"] = round(peak_rss_mb() - base_peak)
                row["extra_rss_mb"] = row["worker_peak_rss_mb"] + max(row["bot_rss_growth_mb"],
                                                                       row["bot_peak_rss_growth_mb"])
                rows.append(row)
                say(str(row))
        worker.stop()
    return rows


def _peak_of(pid: int) -> float:
    """A process's peak resident memory (MB), from /proc (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(float(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))


class Ticker:
    """Measures how late a 10 ms sleep of the event loop wakes up, at worst, while the block runs."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def _tick(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - started - 0.01)

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()


def print_tables(report: dict) -> None:
    print(f"load average before: {report['load_before']}, after: {report['load_after']}")
    q = report["quality"]
    print(markdown_table([(r["method"], r["nmi"], r["purity"], f"{r['noise'] * 100:.0f}%", r["topics"],
                           r["seconds"]) for r in q["methods"]],
                         ["method", "NMI", "purity", "noise", "topics", "seconds"],
                         f"Quality: {q['messages']} messages, {q['labels']} known topics (chatterbot-corpus)"))
    print("\nKeywords found (production method):")
    for t in q["keywords"]:
        print(f"- {t}")
    if "speed" in report:
        print(markdown_table([(r["messages"], r.get("topics_first_s", "–"), r["topics_cold_s"],
                               r["topics_cached_s"], r["map_s"], r["topics"], f"{r['noise'] / r['messages']:.0%}",
                               r["fitted_on"], r["worker_peak_rss_mb"], r["bot_rss_growth_mb"], r["extra_rss_mb"],
                               r.get("loop_stall_ms", "–"), r["load"]) for r in report["speed"]],
                             ["messages", "topics, first (s)", "topics, cold (s)", "cached (s)", "map (s)", "topics",
                              "noise", "clustered on", "worker RSS (MB)", "bot RSS + (MB)", "extra RSS (MB)",
                              "loop stall (ms)", "load"],
                             "Speed"))
