"""`bench-import`: how fast a Telegram export is imported with the real model, and what a live reply feels meanwhile.

One run, on a fresh database in a temporary folder (the configured models):
1. generates a one-chat Telegram Desktop export of `--messages` entries (bench/telegram_export.py; with `--locomo`,
   texts as long as a LoCoMo file's turns made of its sentences, else templates) and writes it as result.json;
2. the embedder alone on a sample of the same texts ("Sender: text", batches of the import's size): the ceiling;
3. idle latency: `--probes` questions in another chat, each timed from the message to the first token of its
   reply (`--latency reply`, the configured LLM) or to the search results (`--latency search`);
4. the import itself (`./engram import`'s code path: read and parse the file, then batches embedded and stored),
   with the same probes sent while it runs; the import waits for each reply in progress, as in the bot;
5. rate (messages of the export a second, parse included), peak RSS, the database check.
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

from bench import telegram_export
from bench.common import load_average, markdown_table, peak_rss_mb, rss_mb, say
from bot.config import load_config
from bot.importing import import_chats, live, load
from bot.importing.run import BATCH, Progress, Summary, to_messages
from bot.services import build_assistant, build_embedder, build_memory
from memory import Memory, Message
from memory.store import embedding_input

PROBE_CHAT = 4242
PROBE_FACTS = ["We rented the cabin near the lake for the first week of August.",
               "Marta sold the second-hand piano to her neighbour for 300 euros.",
               "The jazz festival is on the 14th, tickets are 25 euros.",
               "Tom finally fixed the leaking kitchen tap on Sunday.",
               "The trip to Lisbon was lovely, we ate pastéis de nata every day."]
QUESTIONS = ["What did we say about the cabin near the lake?", "Who sold the second-hand piano?",
             "When is the jazz festival?", "Did anyone fix the leaking kitchen tap?", "How was the trip to Lisbon?"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=100_000, help="entries of the generated export (100000)")
    parser.add_argument("--locomo", help="make the texts of sentences of this LoCoMo-format file's turns, as long "
                                         "as its turns")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"import batch (default {BATCH})")
    parser.add_argument("--embed-sample", type=int, default=4000, help="texts for the embedder-only rate (4000)")
    parser.add_argument("--latency", choices=("reply", "search"), default="reply",
                        help="probe with a reply's first token (the configured LLM) or with a /search")
    parser.add_argument("--probes", type=int, default=5, help="probes idle and during the import (5 each)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def main(args: argparse.Namespace) -> int:
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(report(results))
    return 0


async def run(args: argparse.Namespace) -> dict:
    config = load_config(args.config)
    with tempfile.TemporaryDirectory(prefix="engram-bench-import-") as folder:
        config.storage.path = str(Path(folder) / "engram.db")
        texts = (telegram_export.locomo_like(telegram_export.turns_from_locomo(args.locomo), args.messages)
                 if args.locomo else None)
        export = telegram_export.write(Path(folder) / "result.json", args.messages, texts=texts)
        say(f"export: {args.messages:,} entries, {export.stat().st_size / 2**20:.1f} MB; loading the models")
        memory = build_memory(config, await asyncio.to_thread(build_embedder, config))
        await memory.start()
        llm = assistant = None
        if args.latency == "reply":
            from bot.llm import build_llm

            llm = build_llm(config)
            await llm.start()
            assistant = build_assistant(config, memory, llm)
        try:
            results = {"messages": args.messages, "export_mb": round(export.stat().st_size / 2**20, 1),
                       "texts": "LoCoMo-like" if texts else "templates", "batch": args.batch,
                       "embedding_model": memory.embedder.name, "latency_probe": args.latency,
                       "load_before": load_average(), "rss_models_mb": round(rss_mb())}
            results.update(await embedder_only(memory, export, args))
            await seed_probe_chat(memory)
            for n, question in enumerate(QUESTIONS[:2]):  # warm-up: first calls pay for lazy initialisation
                await probe(memory, assistant, question, 1000 + n)
            results["idle_s"] = [await probe(memory, assistant, q, 2000 + n)
                                 for n, q in enumerate(QUESTIONS * (args.probes // len(QUESTIONS) + 1))][:args.probes]
            results.update(await timed_import(memory, assistant, export, args))
            results["check"] = await memory.check()
            results["peak_rss_mb"] = round(peak_rss_mb())
            results["load_after"] = load_average()
        finally:
            if llm is not None:
                await llm.stop()
            await memory.stop()
    return results


async def embedder_only(memory: Memory, export: Path, args: argparse.Namespace) -> dict:
    """Messages a second of the embedding model alone, on a sample of the export's own texts, in calls of one
    import batch each (the model sorts a call's texts by length and runs them in batches of embedding.batch_size)."""
    (chat,) = load(export).chats
    messages = to_messages(chat, -1, Summary())
    sample = random.Random(1).sample(messages, min(args.embed_sample, len(messages)))
    inputs = [embedding_input(m) for m in sample]
    say(f"embedder alone: {len(inputs):,} texts, mean {statistics.mean(len(t) for t in inputs):.0f} characters")
    await memory.embed(inputs[:64])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(inputs), args.batch):  # sentence-transformers sorts each call's texts by length
        await memory.embed(inputs[start:start + args.batch])
    seconds = time.perf_counter() - started
    return {"embedder_only_msgs_per_s": round(len(inputs) / seconds, 1), "embed_sample": len(inputs),
            "mean_chars": round(statistics.mean(len(m.text) for m in messages))}


async def seed_probe_chat(memory: Memory) -> None:
    """The probe chat's own history: what the probes' questions are about, so each reply recalls something."""
    await memory.remember_many([Message(chat_id=PROBE_CHAT, message_id=n, text=text, sender_name="Probe")
                                for n, text in enumerate(PROBE_FACTS, start=1)])
    await memory.flush()


async def probe(memory: Memory, assistant, question: str, message_id: int) -> float:
    """Seconds from a message in another chat to the first token of its reply (or to its search results).
    The question and its reply are forgotten afterwards, so every probe, idle or during the import, meets the
    same chat (a growing chat would make later probes' prompts longer)."""
    started = time.perf_counter()
    if assistant is None:
        await memory.search(PROBE_CHAT, question)
        return time.perf_counter() - started
    reply = await assistant.answer(Message(chat_id=PROBE_CHAT, message_id=message_id, text=question,
                                           sender_name="Probe"))
    first = None
    async for _chunk in assistant.stream(reply):
        if first is None:
            first = time.perf_counter() - started
    await assistant.keep(reply)  # as a front end would: forgotten below with the question
    for stale in await memory.recent(PROBE_CHAT, 2):
        if stale.message_id >= message_id:
            await memory.forget(PROBE_CHAT, stale.message_id)
    return first if first is not None else time.perf_counter() - started


async def timed_import(memory: Memory, assistant, export: Path, args: argparse.Namespace) -> dict:
    last = {"at": 0.0}

    def progress(p: Progress) -> None:
        if time.monotonic() - last["at"] >= 15:
            last["at"] = time.monotonic()
            say(f"  {p.done:,}/{p.total:,} ({p.rate:.0f} msg/s, RSS {rss_mb():.0f} MB)")

    async def import_all() -> tuple[float, Summary]:
        started = time.perf_counter()
        chats = (await asyncio.to_thread(load, export)).chats
        parsed = time.perf_counter() - started
        gate = (lambda: live.until_idle(assistant)) if assistant is not None else None
        summary = await import_chats(memory, chats, batch_size=args.batch, gate=gate, progress=progress)
        return parsed, summary

    say("importing, with probes in another chat")
    started = time.perf_counter()
    task = asyncio.get_running_loop().create_task(import_all())
    during: list[float] = []
    n = 0
    while not task.done() and len(during) < args.probes:
        await asyncio.sleep(min(20.0, 3.0 + args.messages / 2000))
        if not task.done():
            during.append(await probe(memory, assistant, QUESTIONS[n % len(QUESTIONS)], 3000 + n))
            n += 1
    parsed, summary = await task
    seconds = time.perf_counter() - started
    working = seconds - summary.paused
    return {"import_s": round(seconds, 1), "parse_s": round(parsed, 1), "paused_s": round(summary.paused, 1),
            "imported": summary.imported, "skipped": sum(summary.skipped.values()),
            "import_msgs_per_s": round(args.messages / seconds, 1),
            "import_msgs_per_s_unpaused": round(args.messages / working, 1),
            "stored_msgs_per_s_unpaused": round(summary.imported / working, 1), "during_s": during}


def _p50(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s (n={len(values)})" if values else "–"


def report(r: dict) -> str:
    rows = [
        ("export", f"{r['messages']:,} entries ({r['texts']}, mean {r['mean_chars']} chars), {r['export_mb']} MB"),
        ("import, wall clock", f"{r['import_s']} s (parse {r['parse_s']} s, {r['paused_s']} s paused for the probes' "
                               f"replies): {r['import_msgs_per_s']} entries/s"),
        ("import rate, pauses excluded", f"{r['import_msgs_per_s_unpaused']} entries/s, "
                                         f"{r['stored_msgs_per_s_unpaused']} stored msg/s ({r['imported']:,} stored, "
                                         f"{r['skipped']:,} skipped)"),
        ("embedder alone (same texts)", f"{r['embedder_only_msgs_per_s']} msg/s on {r['embed_sample']:,} texts"),
        (f"{r['latency_probe']} latency idle, p50", _p50(r["idle_s"])),
        (f"{r['latency_probe']} latency during import, p50", _p50(r["during_s"])),
        ("RSS: models loaded / peak", f"{r['rss_models_mb']} MB / {r['peak_rss_mb']} MB"),
        ("database check", "consistent" if r["check"]["consistent"] else f"NOT consistent: {r['check']}"),
        ("load average before / after", f"{r['load_before']} / {r['load_after']}"),
    ]
    return markdown_table(rows, ("", f"bench-import, batch {r['batch']}, {r['embedding_model']}"))
