"""`eval-updates`: the knowledge-update set (bench/updates_suite.py) through the real assistant and model.

A written case gets a chat of its own: a background of unrelated statements (so recall has to find the two that
matter), the old statement, more background, the new one, then the probe, answered by `Assistant.reply_text` as a
front end would have it answered. A LoCoMo case asks its question in a chat holding the whole conversation (read
from the LoCoMo file given with --locomo; skipped without it). A reply is right when it says the current value
and an outdated one only after it (bench/eval_replies.py current_first). Besides the answer, recall is measured
for the written cases: whether the new statement is among the memories recalled for the probe, with and
without the slot's words added to the keyword side (bot/reply/updates.py vocabulary).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench.common import load_average, say
from bench.eval_replies import current_first
from bench.locomo import load as load_locomo
from bench.updates_suite import UpdateCase, cases
from bot.config import LLMBackend, load_config
from bot.llm import build_llm
from bot.reply.updates import vocabulary
from bot.services import build_assistant, build_embedder
from memory import Memory, Message

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DOINGS = ("went swimming", "cleaned the garage", "called my grandmother", "tried a new curry recipe",
          "walked along the river", "repaired my bike")
BACKGROUND = tuple(f"On {day} I {doing}." for day in DAYS for doing in DOINGS)  # 42 unrelated statements
ASKER_ID = 100


def right(case: UpdateCase, reply: str) -> bool:
    return current_first(reply.lower(), case.expect, case.old)


async def run(config, chosen: list[UpdateCase], locomo: str | None, background: int, progress=say) -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="engram-updates-") as tmp:
        memory = Memory(Path(tmp) / "updates.db", build_embedder(config))
        llm = build_llm(config)
        await memory.start()
        await llm.start()
        try:
            assistant = build_assistant(config, memory, llm)
            k = 2 * config.recall.k
            start = time.time() - 30 * 86400.0
            written = [c for c in chosen if not c.conversation]
            for n, case in enumerate(written, start=1):
                half = background // 2
                texts = [*BACKGROUND[:half], case.said[0], *BACKGROUND[half:background], *case.said[1:]]
                await memory.messages.remember_many([
                    Message(n, i, text, sender_id=ASKER_ID, sender_name=case.asker, created_at=start + 3600.0 * i)
                    for i, text in enumerate(texts, start=1)])
                probe = Message(n, len(texts) + 1, case.probe, sender_id=ASKER_ID, sender_name=case.asker,
                                created_at=start + 3600.0 * (len(texts) + 1))
                plain = await memory.messages.recall(n, case.probe, k)
                words = vocabulary(case.probe, probe)
                boosted = await memory.messages.recall(n, case.probe, k,
                                                       keyword_query=f"{case.probe} {words}" if words else None)
                new = case.said[-1]
                reply = await assistant.reply_text(probe)
                rows.append(row(case, reply.text, recalled_plain=any(h.message.text == new for h in plain),
                                recalled=any(h.message.text == new for h in boosted)))
                progress(f"[{n}/{len(written)}] {'right' if rows[-1]['right'] else 'WRONG'} {case.name}: "
                         f"{reply.text[:90]!r}")
            asked = [c for c in chosen if c.conversation]
            if asked and locomo:
                rows += await run_locomo(assistant, memory, asked, locomo, progress)
        finally:
            await llm.stop()
            await memory.stop()
    return rows


async def run_locomo(assistant, memory: Memory, asked: list[UpdateCase], path: str, progress) -> list[dict]:
    conversations = {c.name: c for c in load_locomo(path)}
    rows = []
    chats: dict[str, int] = {}
    for case in asked:
        conv = conversations.get(case.conversation)
        if conv is None:
            progress(f"{case.name}: no conversation {case.conversation} in {path}; skipped")
            continue
        if case.conversation not in chats:  # the whole conversation, once, in a group chat of its own
            chat = -(len(chats) + 1)
            chats[case.conversation] = chat
            people = {name: 200 + i for i, name in enumerate(dict.fromkeys(t.speaker for t in conv.turns))}
            await memory.messages.remember_many([
                Message(chat, i, t.text, sender_id=people[t.speaker], sender_name=t.speaker, created_at=t.created_at)
                for i, t in enumerate(conv.turns, start=1)])
        chat = chats[case.conversation]
        message_id = await memory.messages.next_message_id(chat)
        probe = Message(chat, message_id, f"@engram {case.probe}", sender_id=999, sender_name="Sam",
                        created_at=conv.last_time + 86400.0)
        reply = await assistant.reply_text(probe)
        rows.append(row(case, reply.text))
        progress(f"[locomo] {'right' if rows[-1]['right'] else 'WRONG'} {case.name}: {reply.text[:90]!r}")
    return rows


def row(case: UpdateCase, reply: str, **recall: bool) -> dict:
    return {"name": case.name, "family": case.family, "held_out": case.held_out, "probe": case.probe,
            "reply": reply, "right": right(case, reply), **recall}


def summarise(rows: list[dict]) -> dict:
    def share(values: list[bool]) -> float | None:
        return sum(values) / len(values) if values else None

    def part(subset: list[dict]) -> dict:
        families = dict.fromkeys(r["family"] for r in rows)
        written = [r for r in subset if "recalled" in r]
        return {"cases": len(subset), "accuracy": share([r["right"] for r in subset]),
                "families": {f: share([r["right"] for r in subset if r["family"] == f]) for f in families},
                "new fact recalled": share([r["recalled"] for r in written]),
                "new fact recalled without slot words": share([r["recalled_plain"] for r in written])}

    return {"all": part(rows), "tuned": part([r for r in rows if not r["held_out"]]),
            "held_out": part([r for r in rows if r["held_out"]])}


def format_table(summary: dict) -> str:
    lines = [f"{'':<40} {'tuned':>7} {'held-out':>9} {'all':>7}"]

    def line(label: str, get) -> None:
        cells = [get(summary[k]) for k in ("tuned", "held_out", "all")]
        lines.append(f"{label:<40} " + " ".join("-".rjust(w) if c is None else f"{c:>{w}.0%}"
                                                for c, w in zip(cells, (7, 9, 7))))

    for family in summary["all"]["families"]:
        line(family, lambda s, f=family: s["families"].get(f))
    line("accuracy", lambda s: s["accuracy"])
    line("new fact recalled (top 2k)", lambda s: s["new fact recalled"])
    line("  without the slot's words", lambda s: s["new fact recalled without slot words"])
    lines.append(f"{'cases':<40} {summary['tuned']['cases']:>7} {summary['held_out']['cases']:>9} "
                 f"{summary['all']['cases']:>7}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--out", default="eval-updates.jsonl", help="every reply with its verdict (%(default)s)")
    parser.add_argument("--locomo", metavar="FILE",
                        help="a LoCoMo-format file holding the conversations the LoCoMo cases refer to (e.g. "
                             "../shared/data/locomo-dev.json); without it those cases are skipped")
    parser.add_argument("--background", type=int, default=len(BACKGROUND),
                        help="unrelated statements around the old one in each written case (default %(default)s)")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="cap on a reply's tokens (%(default)s)")
    parser.add_argument("--only", nargs="+", metavar="FAMILY", help="run these families only")


def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    config.llm.max_new_tokens = args.max_new_tokens
    chosen = [c for c in cases() if not args.only or c.family in args.only]
    began = time.perf_counter()
    rows = asyncio.run(run(config, chosen, args.locomo, min(args.background, len(BACKGROUND))))
    summary = summarise(rows)
    summary.update(model=config.llm.model if config.llm.backend is LLMBackend.TRANSFORMERS else config.llm.openai.model,
                   seconds=round(time.perf_counter() - began, 1), load=load_average())
    with open(args.out, "w", encoding="utf-8") as out:
        for r in rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_table(summary))
        print(f"\n{summary['model']}; {summary['seconds']} s; load {summary['load']}; replies in {args.out}")
    return 0
