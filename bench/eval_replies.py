"""`eval-replies`: does a reply behave? The suite of bench/replies_suite.py through the real assistant and model.

Each case gets a fresh chat in one temporary database (embedder and model loaded once): its earlier messages
are stored, its probe is answered by `Assistant.reply_text` exactly as a front end would have it answered.
Every reply is then scored by the checks below; pass rates per behaviour and overall are printed (`--json`
too), held-out cases apart, and every reply is written to a file for reading. The behaviours that need a whole
conversation through the front ends (action, no-echo) are bench/replies_conversations.py. A second held-out set,
written blind (bench/replies_heldout.py), runs with them in the held-out column, or alone with `--fresh`. A third
one, also written blind (bench/replies_heldout2.py), runs only alone, with `--fresh2` (its language actions too), so
that no ordinary run shows its replies to whoever tunes the assistant.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import load_average, say
from bench.replies_conversations import (
    ACTION_CASES,
    CONVERSATION_BEHAVIOURS,
    ECHO_CASES,
    LANGUAGE_ACTION_CASES,
    never_rates,
    run_conversations,
)
from bench.replies_heldout import (
    HELDOUT_ACTION_CASES,
    HELDOUT_CASES,
    HELDOUT_ECHO_CASES,
    HELDOUT_LANGUAGE_CASES,
    HELDOUT_REMINDER_CASES,
)
from bench.replies_heldout2 import (
    HELDOUT2_ACTION_CASES,
    HELDOUT2_CASES,
    HELDOUT2_ECHO_CASES,
    HELDOUT2_LANGUAGE_ACTION_CASES,
    HELDOUT2_LANGUAGE_CASES,
    HELDOUT2_REMINDER_CASES,
)
from bench.replies_suite import (
    BEHAVIOURS,
    CASES,
    LANGUAGE_CASES,
    REMINDER_CASES,
    REMINDER_NOW,
    Case,
    ReminderCase,
)
from bot import i18n
from bot.commands.language import use_chat_language
from bot.commands.requests import Requests
from bot.config import LLMBackend, load_config
from bot.llm import build_llm
from bot.reminders.service import ReminderService
from bot.reminders.timers import AsyncioTimers
from bot.services import build_assistant, build_embedder
from memory import Memory, Message
from memory.reminders import Reminder

# Claims that the assistant cannot remember: never true of Engram.
DENIAL = re.compile(
    r"(ability to remember|(can ?not|can't|unable to|not able to) (remember|recall|store|retain)|"
    r"(don't|do not) have (a |any )?(memory|memories|the ability)|\bas an ai\b|memory-based ai|"
    r"(don't|do not) (remember|retain|store) (anything|past|previous))", re.I)
# An honest "not told": what a question about the user's own life that memory cannot answer should get.
DECLINE = re.compile(
    r"(don't know|do not know|haven't told|have not told|didn't tell|did not tell|not sure|no idea|"
    r"haven't mentioned|have not mentioned|didn't mention|don't have (that|this|any) (information|detail)|"
    r"not (been )?told|can't tell|cannot tell)", re.I)
# What the assistant is not.
MISDESCRIBED = re.compile(r"(\bmath|language model|chatgpt|openai|i am a human|i'm a human|"
                          r"memory-based|i'm not able|as an ai)", re.I)
# A greeting answered as one: friendly words, not a stray fact.
FRIENDLY = re.compile(r"\b(hello|hi|hey|good|glad|great|fine|well|welcome|thanks?|nice|pleasure|bye|night|"
                      r"morning|evening|help|happy)\b", re.I)
# Pieces of the prompt a reply should never repeat: ISO dates, the quoting around memories.
PROMPT_ECHO = re.compile(r"(\b20\d\d-\d\d-\d\d\b|today is \d|earlier in this chat|notes from this chat|"
                         r"the user asked|\bsaid: ['\"])", re.I)
# Where a suggestion names a thing only to leave it out ("no peanuts", "without meat", "nut-free"): not naming it.
OUTSIDE_NEGATION = re.compile(r"\b(no|without|free of|free from|avoid(ing)?|instead of|skip|not|n't (eat|have)|"
                              r"allergic to|intolerant to)\s+(\w+\s*,?\s*(or|and)?\s*){1,3}|\b\w+-free\b")
TRANSCRIPT_LINE = re.compile(r"^\s*(user|assistant|engram|[A-Z][a-z]{1,12}|U\d+)\s*:", re.M)
MAX_WORDS = 60


def words(text: str) -> int:
    return len(text.split())


def sentences(text: str) -> list[str]:
    return [" ".join(s.lower().split()) for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def shares_a_word(a: str, b: str, lang: str = "en") -> bool:
    """A word of four letters or more in common (cut to five letters: "bring" meets "bringing"); in another
    language, letters of any script."""
    pattern = r"[a-z0-9]{4,}" if lang == "en" else r"[^\W_]{4,}"

    def stems(t: str) -> set[str]:
        return {w[:5] for w in re.findall(pattern, t.lower())}
    return bool(stems(a) & stems(b))


def checks(case: Case, reply: str) -> dict[str, bool]:
    """Every check of one reply: True = passed. The case passes when all pass."""
    low = reply.lower()
    said = sentences(reply)
    speakers = {s.lower() for s, _ in case.said} | {case.asker.lower(), "user", "assistant", "engram"}
    out = {
        "not empty": bool(reply.strip()),
        "no denial": not DENIAL.search(reply),
        "brief": words(reply) <= MAX_WORDS,
        "no transcript": not any(m[1].lower() in speakers or (m[1].startswith("U") and m[1][1:].isdigit())
                                 for m in TRANSCRIPT_LINE.finditer(reply)),
        "no repeats": len(said) == len(set(said)),
        "no prompt echo": not PROMPT_ECHO.search(reply),
    }
    if case.expect:
        out["expected"] = any(e in low for e in case.expect)
    if case.avoid:
        kept = OUTSIDE_NEGATION.sub(" ", low) if case.behaviour == "preference" else low
        out["avoided"] = not any(a in kept for a in case.avoid)
    if case.old:
        out["current first"] = current_first(low, case.expect, case.old)
    if case.expect_all:
        out["all expected"] = all(e in low for e in case.expect_all)
    if case.behaviour == "gather":
        out["gathered"] = not DECLINE.search(reply) or "haven't told me" in case.expect_all  # never "I don't know"
        out["brief"] = len(reply.splitlines()) <= 12  # a list: its lines are what must stay short
    if case.behaviour == "preference":  # an idea: no decline, no question back, a word of its own
        told = " ".join([case.probe, *(t for _, t in case.said)]).lower()
        own = {w for w in re.findall(r"[a-z]{4,}", low)} - set(re.findall(r"[a-z]{4,}", told)) - {"your", "with",
                                                                                                  "that", "this"}
        declined = (DECLINE.search(reply) or re.search(r"\b(unsure|afraid|sorry)\b", low)) and not re.search(
            r"\b(but|how about|what about|try)\b", low)  # "I'm not sure what you mean, but I can suggest…" suggests
        out["suggests"] = (not declined
                           and not (low.rstrip().endswith("?") and re.search(r"\b(you|me)\b", low)) and bool(own))
    if case.behaviour == "statement":
        out["relevant"] = shares_a_word(case.probe, reply, case.lang)
        if case.lang != "en":  # acknowledged, not said back as if the assistant had said it
            out["not echoed"] = reply.strip() != case.probe.strip()
    if case.behaviour == "unknown":
        out["declines"] = bool(DECLINE.search(reply)) or (case.lang != "en" and declines_in(case.lang, reply))
    if case.behaviour == "greeting":
        out["not misdescribed"] = not MISDESCRIBED.search(reply)
        out["friendly"] = bool(FRIENDLY.search(reply))
    return out


def _first(low: str, values: tuple[str, ...]) -> int | None:
    """Where the first of these values is said (at the start of a word: "thursday" in "Thursdays"), or None."""
    found = [m.start() for v in values if (m := re.search(rf"(?<!\w){re.escape(v)}", low))]
    return min(found) if found else None


def declines_in(lang: str, reply: str) -> bool:
    """The "I don't know" of the chat's language (the catalogue's NOT_TOLD), or the English one."""
    from bot.i18n import _, using
    from bot.reply.plan import NOT_TOLD

    with using(lang):
        return _(NOT_TOLD) in reply


def current_first(low: str, current: tuple[str, ...], old: tuple[str, ...]) -> bool:
    """A fact that changed: the current value is said, and an outdated one only after it ("You live in Madrid now
    (before that: Porto)." passes, "You live in Porto." and "Porto, then Madrid" do not)."""
    new, was = _first(low, current), _first(low, old)
    return new is not None and (was is None or new < was)


def summarise(rows: list[dict]) -> dict:
    """Pass rates per behaviour, overall, and the two that must be 100%; tuned and held-out cases apart."""
    def rates(subset: list[dict]) -> dict:
        by = {b: [r["passed"] for r in subset if r["behaviour"] == b] for b in ALL_BEHAVIOURS}
        unknown = [r for r in subset if r["behaviour"] == "unknown"]
        return {
            "cases": len(subset),
            "overall": _share([r["passed"] for r in subset]),
            "behaviours": {b: _share(v) for b, v in by.items() if v},
            "never invents a personal fact": (_share([r["checks"]["declines"] for r in unknown])
                                              if unknown else None),
            "never denies remembering": _share([r["checks"]["no denial"] for r in subset
                                                if "no denial" in r["checks"]]),
            "mean words": sum(r["words"] for r in subset) / len(subset) if subset else 0.0,
            **never_rates(subset),
        }
    return {"all": rates(rows), "tuned": rates([r for r in rows if not r["held_out"]]),
            "held_out": rates([r for r in rows if r["held_out"]])}


ALL_BEHAVIOURS = BEHAVIOURS + CONVERSATION_BEHAVIOURS
NEVER = ("never invents a personal fact", "never denies remembering", "action never acknowledged as a statement",
         "no non-action taken for an action", "no answer from own echo or a question",
         "no-echo answer holds the fact (recall)", "no-echo same again in one session")


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


async def run_suite(config, cases: tuple[Case, ...] = CASES, progress=say) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="engram-replies-") as tmp:
        memory = Memory(Path(tmp) / "replies.db", build_embedder(config))
        llm = build_llm(config)
        await memory.start()
        await llm.start()
        try:
            assistant = build_assistant(config, memory, llm)
            start = time.time() - 86400.0
            for n, case in enumerate(cases, start=1):
                chat_id = -n if case.group else n
                people = {name: 100 + i for i, name in enumerate(
                    dict.fromkeys([*(s for s, _ in case.said), case.asker]))}
                asked_at = case.at if case.at is not None else start + 3600.0
                for i, (speaker, text) in enumerate(case.said, start=1):
                    said_at = (asked_at - 86400.0 * case.ago[i - 1] - 60.0 * (len(case.said) + 1 - i)
                               if case.ago else asked_at - 3600.0 + 60.0 * i)
                    if case.lang != "en":  # each message's language read as the front ends read it
                        await use_chat_language(memory, chat_id, text)
                    await assistant.remember(Message(chat_id, i, text, sender_id=people[speaker],
                                                     sender_name=speaker, created_at=said_at))
                probe = Message(chat_id, len(case.said) + 1, case.probe, sender_id=people[case.asker],
                                sender_name=case.asker, created_at=asked_at)
                if case.lang != "en":
                    await use_chat_language(memory, chat_id, case.probe)
                began = time.perf_counter()
                try:
                    reply = await assistant.reply_text(probe)
                finally:
                    i18n.activate(None)
                seconds = time.perf_counter() - began
                result = checks(case, reply.text)
                rows.append({"name": case.name, "behaviour": case.behaviour, "held_out": case.held_out,
                             "lang": case.lang,
                             "probe": case.probe, "reply": reply.text, "words": words(reply.text),
                             "passed": all(result.values()), "checks": result, "seconds": round(seconds, 2)})
                progress(f"[{n}/{len(cases)}] {'pass' if rows[-1]['passed'] else 'FAIL'} {case.name}: "
                         f"{reply.text[:100]!r}")
        finally:
            await llm.stop()
            await memory.stop()
    return rows


def _per_language(rows: list[dict], key: str = "lang") -> dict[str, dict]:
    """Per language (the rows' `key`): its rows and their pass rates, all, tuned and held-out."""
    out: dict = {}
    for lang in dict.fromkeys(r[key] for r in rows):
        mine = [r for r in rows if r[key] == lang]
        out[lang] = {"rows": mine, "all": _share([r["passed"] for r in mine]),
                     "tuned": _share([r["passed"] for r in mine if not r["held_out"]]),
                     "held_out": _share([r["passed"] for r in mine if r["held_out"]])}
    return out


def _per_value(rows: list[dict], key: str) -> dict:
    """Pass rates of the rows by the value of `key` (a behaviour, a front end)."""
    return {v: _share([r["passed"] for r in rows if r[key] == v]) for v in dict.fromkeys(r[key] for r in rows)}


def summarise_languages(rows: list[dict]) -> dict:
    """Per language: pass rates per behaviour (statement, recall, unknown), tuned, held-out and all."""
    out = _per_language(rows)
    for x in out.values():
        x["behaviours"] = _per_value(x.pop("rows"), "behaviour")
    return out


def format_language_table(by_language: dict) -> str:
    lines = ["", "| language | statement | recall | unknown | tuned | held-out | all |",
             "|---|---|---|---|---|---|---|"]
    for lang, x in by_language.items():
        b = x["behaviours"]
        lines.append(f"| {lang} | {_pct(b.get('statement'))} | {_pct(b.get('recall'))} | {_pct(b.get('unknown'))} | "
                     f"{_pct(x['tuned'])} | {_pct(x['held_out'])} | {_pct(x['all'])} |")
    return "\n".join(lines)


def summarise_language_actions(rows: list[dict]) -> dict:
    """Per language: the plain-language actions' pass rates per front end, tuned, held-out and all."""
    out = _per_language(rows)
    for x in out.values():
        mine = x.pop("rows")
        x["front_ends"] = _per_value(mine, "front_end")
        x["never noted"] = _share([r["checks"]["never acknowledged as a statement"] for r in mine])
    return out


def format_language_action_table(by_language: dict) -> str:
    lines = ["", "| language | terminal | telegram | tuned | held-out | all | never “Noted” |",
             "|---|---|---|---|---|---|---|"]
    for lang, x in by_language.items():
        f = x["front_ends"]
        lines.append(f"| {lang} | {_pct(f.get('terminal'))} | {_pct(f.get('telegram'))} | {_pct(x['tuned'])} | "
                     f"{_pct(x['held_out'])} | {_pct(x['all'])} | {_pct(x['never noted'])} |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def reminder_checks(case: ReminderCase, reminder: Reminder | None, confirmation: str) -> dict[str, bool]:
    """A request in another language: set, for the right time and text, confirmed in that language."""
    with i18n.using(case.lang):
        opening = i18n._("⏰ OK, I will remind you on {time}: {text}").split("{time}")[0]
    out = {"set": reminder is not None}
    if reminder is not None:
        due = datetime.fromtimestamp(reminder.due_at, tz=timezone.utc)
        out["due"] = due.strftime("%a %d %H:%M") == case.due
        out["text"] = reminder.text == case.remind
        out["rule"] = reminder.recurrence == case.rule
        out["in its language"] = confirmation.startswith(opening)
    return out


async def run_reminders(config, cases: tuple[ReminderCase, ...] = REMINDER_CASES, progress=say) -> list[dict]:
    """Each request answered as a front end answers it: the chat's language from the message, the plain-language
    actions (bot/commands/requests.py: read, carried out by the ReminderService on a real database), the
    confirmation. No model is involved."""
    rows = []
    now = datetime.fromisoformat(REMINDER_NOW)
    with tempfile.TemporaryDirectory(prefix="engram-reminders-") as tmp:
        memory = Memory(Path(tmp) / "reminders.db", build_embedder(config))
        await memory.start()
        timers = AsyncioTimers()

        async def nowhere(chat_id: int, text: str) -> int:
            raise AssertionError("nothing is due during the evaluation")

        service = ReminderService(memory, timers, nowhere, "UTC", clock=lambda: now, sweep_seconds=0)
        await service.start()
        requests = Requests(memory, service)
        try:
            for n, case in enumerate(cases, start=1):
                i18n.activate(i18n.DEFAULT)  # a new chat: nothing known of its language yet
                await use_chat_language(memory, n, case.probe)
                began = time.perf_counter()
                request = requests.read(case.probe)
                done = await requests.carry_out(n, request) if request is not None else None
                confirmation = done.text if done is not None else ""
                reminder = done.reminder if done is not None else None
                seconds = time.perf_counter() - began
                result = reminder_checks(case, reminder, confirmation)
                rows.append({"name": case.name, "behaviour": "reminder", "language": case.lang,
                             "held_out": case.held_out, "probe": case.probe, "reply": confirmation,
                             "words": words(confirmation), "passed": all(result.values()), "checks": result,
                             "seconds": round(seconds, 3)})
                progress(f"[{n}/{len(cases)}] {'pass' if rows[-1]['passed'] else 'FAIL'} {case.name}: "
                         f"{confirmation[:100]!r}")
        finally:
            await service.stop()
            await timers.close()
            await memory.stop()
    return rows


def summarise_reminders(rows: list[dict]) -> dict:
    """Pass rates of the reminder requests per language: tuned, held-out, all."""
    return {lang: {part: x[part] for part in ("tuned", "held_out", "all")}
            for lang, x in _per_language(rows, "language").items()}


def rescore(path: str, cases: tuple[Case, ...]) -> list[dict]:
    """The rows of an earlier run, checked again with today's checks."""
    by_name = {c.name: c for c in cases}
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            case = by_name.get(row["name"])
            if case is not None:
                row["checks"] = checks(case, row["reply"])
                row["passed"] = all(row["checks"].values())
                rows.append(row)
    return rows


def format_table(summary: dict) -> str:
    head = f"{'':<42} {'tuned':>7} {'held-out':>9} {'all':>7}"
    lines = [head]

    def row(label: str, get) -> None:
        cells = [get(summary[k]) for k in ("tuned", "held_out", "all")]
        lines.append(f"{label:<42} " + " ".join("-".rjust(w) if c is None else f"{c:>{w}.0%}"
                                                for c, w in zip(cells, (7, 9, 7))))

    for b in ALL_BEHAVIOURS:
        row(b, lambda s, b=b: s["behaviours"].get(b))
    row("overall", lambda s: s["overall"])
    for never in NEVER:
        row(never, lambda s, never=never: s.get(never))
    lines.append(f"{'cases':<42} {summary['tuned']['cases']:>7} {summary['held_out']['cases']:>9} "
                 f"{summary['all']['cases']:>7}")
    lines.append(f"{'mean words a reply':<42} {summary['tuned']['mean words']:>7.1f} "
                 f"{summary['held_out']['mean words']:>9.1f} {summary['all']['mean words']:>7.1f}")
    return "\n".join(lines)


def format_reminder_table(by_language: dict) -> str:
    lines = [f"{'reminder requests':<32} {'tuned':>7} {'held-out':>9} {'all':>7}"]
    for lang, shares in by_language.items():
        cells = [shares[k] for k in ("tuned", "held_out", "all")]
        lines.append(f"{'  ' + i18n.language_name(lang) + ' (' + lang + ')':<32} "
                     + " ".join("-".rjust(w) if c is None else f"{c:>{w}.0%}" for c, w in zip(cells, (7, 9, 7))))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--out", default="eval-replies.jsonl", help="every reply with its checks (%(default)s)")
    parser.add_argument("--max-new-tokens", type=int, default=64,
                        help="cap on a reply's tokens (default %(default)s; the same cap for every run compared)")
    parser.add_argument("--only", nargs="+", choices=[*ALL_BEHAVIOURS, "reminder", "languages"],
                        help="run these behaviours only (reminder: the requests in other languages, no model)")
    fresh = parser.add_mutually_exclusive_group()
    fresh.add_argument("--fresh", action="store_true",
                       help="only the fresh held-out cases written blind (bench/replies_heldout.py) and the language "
                            "actions' held-out ones; with --only, those of these behaviours. Without it they run with "
                            "the others, in the held-out column")
    fresh.add_argument("--fresh2", action="store_true",
                       help="only the third held-out set, written blind (bench/replies_heldout2.py), language actions "
                            "included; with --only, those of these behaviours. It never runs without this flag")
    parser.add_argument("--rescore", metavar="FILE",
                        help="score the replies of an earlier run's --out file again (no model), e.g. after a check "
                             "changed")


def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    config.llm.max_new_tokens = args.max_new_tokens
    suite, languages, reminders, actions, echoes = (  # the blind held-out set alone (--fresh), or with the others
        (HELDOUT_CASES, HELDOUT_LANGUAGE_CASES, HELDOUT_REMINDER_CASES, HELDOUT_ACTION_CASES, HELDOUT_ECHO_CASES)
        if args.fresh else (CASES + HELDOUT_CASES, LANGUAGE_CASES + HELDOUT_LANGUAGE_CASES,
                            REMINDER_CASES + HELDOUT_REMINDER_CASES, ACTION_CASES + HELDOUT_ACTION_CASES,
                            ECHO_CASES + HELDOUT_ECHO_CASES))
    language_action_cases = LANGUAGE_ACTION_CASES
    if args.fresh2:  # the third set, written blind, alone
        suite, languages, reminders, actions, echoes = (HELDOUT2_CASES, HELDOUT2_LANGUAGE_CASES,
                                                        HELDOUT2_REMINDER_CASES, HELDOUT2_ACTION_CASES,
                                                        HELDOUT2_ECHO_CASES)
        language_action_cases = HELDOUT2_LANGUAGE_ACTION_CASES
    cases = tuple(c for c in suite if not args.only or c.behaviour in args.only)
    conversations = tuple(b for b in CONVERSATION_BEHAVIOURS if not args.only or b in args.only)
    began = time.perf_counter()
    if args.rescore:
        rows = rescore(args.rescore, cases)
    else:
        rows = asyncio.run(run_suite(config, cases)) if cases else []
        if conversations:  # the rows of action and no-echo (they are not re-scored: their checks need the run)
            rows += asyncio.run(run_conversations(config, conversations, say, actions, echoes))
    reminder_rows = ([] if args.rescore or (args.only and "reminder" not in args.only)
                     else asyncio.run(run_reminders(config, reminders)))
    language_rows = ([] if args.rescore or (args.only and "languages" not in args.only)
                     else asyncio.run(run_suite(config, languages)))
    language_actions = ([] if args.rescore or (args.only and "languages" not in args.only)  # --fresh: held-out ones
                        else asyncio.run(run_conversations(config, ("action",), say, tuple(
                            c for c in language_action_cases if c.held_out or not args.fresh))))
    summary = summarise(rows)
    if reminder_rows:
        summary["reminders"] = summarise_reminders(reminder_rows)
    if language_rows:
        summary["languages"] = summarise_languages(language_rows)
    if language_actions:
        summary["language_actions"] = summarise_language_actions(language_actions)
    summary.update(model=config.llm.model if config.llm.backend is LLMBackend.TRANSFORMERS else config.llm.openai.model,
                   seconds=round(time.perf_counter() - began, 1), load=load_average())
    if args.rescore:
        summary["model"] = f"replies of {args.rescore}"
    with open(args.out, "w", encoding="utf-8") as out:
        for r in [*rows, *reminder_rows, *language_rows, *language_actions]:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        if rows:
            print(format_table(summary))
        if reminder_rows:
            print(format_reminder_table(summary["reminders"]))
        if language_rows:
            print(format_language_table(summary["languages"]))
        if language_actions:
            print(format_language_action_table(summary["language_actions"]))
        print(f"\n{summary['model']}; {summary['seconds']} s; load {summary['load']}; replies in {args.out}")
    return 0
