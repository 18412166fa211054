"""`eval-locomo`: recall quality of the memory on a LoCoMo-format file (evidence Recall@5, Recall@10, MRR).

Every turn of each conversation becomes a message of its own chat in a fresh temporary database (speaker as
sender, session date as time, a shared image's caption appended the way the bot stores photos); every question
is then asked as a recall query in that chat, as if after the last session, with each method: keyword (FTS5
only), vector (only) and hybrid (what Engram ships). Everything is embedded once; the three methods query the
same store. Results go in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench.common import say
from bench.locomo import CATEGORIES, CATEGORY_NAMES, HEADLINE, Conversation, Question, dia_id_of, load, message_id
from bot.config import load_config
from bot.when.phrases import TimeWindow, parse_time_phrase
from memory import Embedder, FusionParams, Message, Store
from memory.embedder import embed_queries, load_embedder

METHODS = ("keyword", "vector", "hybrid")
METRICS = ("R@5", "R@10", "MRR")
TOP_K = 10

# ----- metrics -------------------------------------------------------------------------------------------------
def question_metrics(ranked: list[str], evidence: list[str]) -> dict[str, float]:
    """Recall@5/@10: share of the evidence turns in the top 5/10; MRR: 1/rank of the first evidence turn (0 if
    none in the top 10)."""
    wanted = set(evidence)
    first = next((rank for rank, dia_id in enumerate(ranked[:TOP_K], start=1) if dia_id in wanted), None)
    return {
        "R@5": len(wanted & set(ranked[:5])) / len(wanted),
        "R@10": len(wanted & set(ranked[:10])) / len(wanted),
        "MRR": 1.0 / first if first else 0.0,
    }


def aggregate(per_question: list[tuple[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Mean of each metric per category, and over categories 1-4 pooled ("overall")."""
    groups: dict[str, list[dict[str, float]]] = {c: [] for c in (*CATEGORIES, "overall")}
    for category, metrics in per_question:
        groups.setdefault(category, []).append(metrics)
        if category in HEADLINE:
            groups["overall"].append(metrics)
    return {
        name: {m: (sum(q[m] for q in rows) / len(rows) if rows else 0.0) for m in METRICS}
        for name, rows in groups.items()
    }


# ----- running -------------------------------------------------------------------------------------------------
def build_store(conversations: list[Conversation], embedder: Embedder, directory: str | Path, fusion=None) -> Store:
    """A fresh store in `directory` holding every turn, chat i+1 for conversation i."""
    store = Store.open(Path(directory) / "locomo.db", embedder, fusion=fusion)
    messages = []
    for chat_id, conv in enumerate(conversations, start=1):
        for turn in conv.turns:  # in order: the store embeds each turn with the one before it, as in a live chat
            messages.append(Message(
                chat_id=chat_id, message_id=message_id(turn.dia_id), text=turn.text, role="user",
                sender_name=turn.speaker, created_at=turn.created_at,
            ))
    store.messages.add_many(messages)
    return store


@dataclass
class Ask:
    """A question as the bot would ask it of its memory: in its conversation's chat, a day after the last
    session, with its vector and the time window it names (read as the bot reads it: bot/when/phrases)."""

    chat_id: int
    conversation: Conversation
    question: Question
    vector: np.ndarray
    now: float
    window: TimeWindow | None

    def recall_args(self) -> dict:
        return {"now": self.now, "query_vector": self.vector,
                "window": (self.window.start_ts, self.window.end_ts) if self.window else None,
                "keyword_query": self.window.query if self.window else None}

    def metrics(self, hits) -> dict[str, float]:
        return question_metrics([dia_id_of(h.message.message_id) for h in hits], self.question.evidence)


def asks(store: Store, conversations: list[Conversation]) -> list[Ask]:
    """Every question with at least one valid evidence turn, ready to ask."""
    found = [(chat_id, conv, q) for chat_id, conv in enumerate(conversations, start=1)
             for q in conv.questions if q.evidence]
    if not found:
        return []
    vectors = embed_queries(store.embedder, [q.question for _, _, q in found])
    out = []
    for (chat_id, conv, q), vector in zip(found, vectors):
        now = conv.last_time + 86400.0
        window = parse_time_phrase(q.question, datetime.fromtimestamp(now, tz=timezone.utc), "UTC")
        out.append(Ask(chat_id, conv, q, vector, now, window))
    return out


def evaluate(store, conversations: list[Conversation], methods=METHODS) -> dict:
    """{method: {category: {metric: value}}} over every question with at least one valid evidence turn."""
    questions = asks(store, conversations)
    results = {}
    for method in methods:
        per_question = [(a.question.category, a.metrics(store.search.recall(a.chat_id, a.question.question, TOP_K,
                                                                            method=method, **a.recall_args())))
                        for a in questions]
        results[method] = aggregate(per_question)
    return results


# ----- cross-validation ----------------------------------------------------------------------------------------
# What leave-one-conversation-out may tune (FusionParams fields) and the values it tries: 81 settings, each
# ranking the same gathered candidates (Search.gather once a question, Search.rank per setting: no SQL).
CV_GRID: dict[str, tuple[float, ...]] = {
    "keyword_weight": (0.2, 0.3, 0.4),
    "neighbour_weight": (0.3, 0.4, 0.5),
    "session_weight": (0.0, 0.2, 0.3),
    "time_weight": (0.0, 0.15, 0.3),
}


def cross_validate(store: Store, conversations: list[Conversation], grid: dict | None = None) -> dict:
    """Leave one conversation out: choose the fusion setting with the best pooled R@10 (categories 1-4) on the
    other conversations, measure it on the held-out one. Returns the held-out figures of each fold, their mean
    per category ("cv", the figure that counts), the held-out questions pooled ("cv_pooled"), and the untuned
    keyword-only and vector-only figures, and the shipped defaults, for comparison."""
    grid = grid or CV_GRID
    settings = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    questions = asks(store, conversations)
    gathered = [store.search.gather(a.chat_id, a.question.question, TOP_K, method="hybrid", **a.recall_args())
                for a in questions]
    base = dataclasses.asdict(store.search.fusion)
    metrics = [[a.metrics(store.search.rank(g, TOP_K, FusionParams(**{**base, **s})))
                for a, g in zip(questions, gathered)] for s in settings]
    folds: list[dict] = []
    pooled = []
    for held_out in range(1, len(conversations) + 1):
        train = [n for n, a in enumerate(questions) if a.chat_id != held_out and a.question.category in HEADLINE]
        test = [n for n, a in enumerate(questions) if a.chat_id == held_out]
        best = max(range(len(settings)), key=lambda s: sum(metrics[s][n]["R@10"] for n in train))
        held = [(questions[n].question.category, metrics[best][n]) for n in test]
        pooled += held
        folds.append({"held_out": conversations[held_out - 1].name, "chosen": settings[best],
                      **{"results": aggregate(held)}})
    mean = {c: {m: float(np.mean([f["results"][c][m] for f in folds])) for m in METRICS}
            for c in (*CATEGORIES, "overall")}
    reference = {method: aggregate([(a.question.category, a.metrics(
        store.search.recall(a.chat_id, a.question.question, TOP_K, method=method, **a.recall_args())))
        for a in questions])
        for method in ("keyword", "vector", "hybrid")}
    return {"cv": mean, "cv_pooled": aggregate(pooled), "folds": folds, "grid": grid,
            "keyword": reference["keyword"], "vector": reference["vector"], "shipped_in_sample": reference["hybrid"]}


def format_cv(results: dict, facts: dict) -> str:
    lines = [f"{facts['conversations']} conversations; leave-one-conversation-out over "
             f"{len(list(itertools.product(*results['grid'].values())))} fusion settings "
             f"({', '.join(results['grid'])})", "",
             f"{'fold (held out)':<16} {'R@10':>6}  chosen"]
    for fold in results["folds"]:
        chosen = ", ".join(f"{k} {v}" for k, v in fold["chosen"].items())
        lines.append(f"{fold['held_out']:<16} {fold['results']['overall']['R@10']:>6.3f}  {chosen}")
    lines += ["", f"{'R@10 by category':<16} {'cv mean':>8} {'pooled':>7} {'keyword':>8} {'vector':>7} "
              f"{'shipped*':>9}"]
    for category in (*HEADLINE, "overall", "5"):
        label = "overall 1-4" if category == "overall" else f"{category} {CATEGORY_NAMES[category]}"
        cells = [results[key][category]["R@10"] for key in ("cv", "cv_pooled", "keyword", "vector",
                                                            "shipped_in_sample")]
        lines.append(f"{label:<16} {cells[0]:>8.3f} {cells[1]:>7.3f} {cells[2]:>8.3f} {cells[3]:>7.3f} "
                     f"{cells[4]:>9.3f}")
    lines += ["", "* the shipped defaults on all five conversations (in sample: they were chosen by this same "
              "cross-validation)", f"stored in {facts['store_seconds']:.1f} s, evaluated in "
              f"{facts['query_seconds']:.1f} s"]
    return "\n".join(lines)


def run(path: str | Path, embedder, methods=METHODS, fusion=None, cv: bool = False) -> tuple[dict, dict]:
    """Load, store, ask: (results, facts about the run). With cv, the results are cross-validation's
    (cross_validate)."""
    conversations = load(path)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engram-locomo-") as tmp:
        store = build_store(conversations, embedder, tmp, fusion)
        try:
            stored = time.perf_counter()
            if cv:
                results = cross_validate(store, conversations)
            else:
                results = evaluate(store, conversations, methods)
        finally:
            store.close()
    counts = {c: sum(1 for conv in conversations for q in conv.questions if q.category == c and q.evidence)
              for c in CATEGORIES}
    facts = {
        "conversations": len(conversations),
        "turns": sum(len(c.turns) for c in conversations),
        "questions": counts,
        "without_evidence": sum(1 for c in conversations for q in c.questions if not q.evidence),
        "dropped_evidence": sum(c.dropped_evidence for c in conversations),
        "store_seconds": stored - started,
        "query_seconds": time.perf_counter() - stored,
    }
    return results, facts


def format_table(results: dict, facts: dict) -> str:
    counts = facts["questions"]
    lines = [
        f"{facts['conversations']} conversations, {facts['turns']} turns; questions with evidence: "
        + ", ".join(f"cat {c} {counts[c]}" for c in CATEGORIES)
        + f"; {facts['without_evidence']} without valid evidence skipped, "
        f"{facts['dropped_evidence']} malformed/unknown evidence ids dropped",
        "",
        f"{'method':<8} {'category':<16} {'n':>4} {'R@5':>6} {'R@10':>6} {'MRR':>6}",
    ]
    rows = [*HEADLINE, "overall", "5"]
    for method, by_category in results.items():
        for category in rows:
            label = "overall 1-4" if category == "overall" else f"{category} {CATEGORY_NAMES[category]}"
            n = sum(counts[c] for c in HEADLINE) if category == "overall" else counts[category]
            m = by_category[category]
            lines.append(f"{method:<8} {label:<16} {n:>4} {m['R@5']:>6.3f} {m['R@10']:>6.3f} {m['MRR']:>6.3f}")
        lines.append("")
    lines.append(f"stored in {facts['store_seconds']:.1f} s, queried in {facts['query_seconds']:.1f} s")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="LoCoMo-format JSON file (e.g. locomo10.json)")
    parser.add_argument("--json", action="store_true", help="print one JSON object {method: {category: {metric}}}")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), help="methods to measure")
    parser.add_argument("--model", default=None, help="embedding model (default: the configured one)")
    parser.add_argument("--device", default="cpu", help="embedding device: cpu, cuda or auto")
    parser.add_argument("--cv", action="store_true",
                        help="leave-one-conversation-out: tune fusion on the others, measure on each held out")
    parser.add_argument("--answers", action="store_true",
                        help="answer the questions through the assistant and score them (bench/locomo_answers.py)")
    parser.add_argument("--limit", type=int, default=None,
                        help="with --answers: this many questions, spread evenly over the categories")
    parser.add_argument("--categories", nargs="+", choices=CATEGORIES, default=list(CATEGORIES),
                        help="with --answers: only questions of these categories (default: all five)")
    parser.add_argument("--out", default="eval-locomo-answers.jsonl", help="with --answers: every reply (%(default)s)")
    parser.add_argument("--max-new-tokens", type=int, default=64,
                        help="with --answers: cap on a reply's tokens (default %(default)s)")


def make_embedder(model: str, device: str, config_path: str | None = None) -> Embedder:
    """The embedder the bot would use (embedding.runtime: the ONNX export on a CPU), for this model."""
    config = load_config(config_path)
    return load_embedder(model, device=device, runtime=config.embedding.runtime,
                         cache_dir=config.resolve(config.llm.cache_dir), openai=config.embedding.openai.arguments())


def main(args: argparse.Namespace) -> int:
    if args.answers:
        return answers_main(args)
    model = args.model or load_config(args.config).embedding.model
    embedder = make_embedder(model, args.device, args.config)
    say(f"embedding model {embedder.name} on {getattr(embedder, 'runtime', 'torch')}")
    methods = list(dict.fromkeys(args.methods))
    results, facts = run(args.path, embedder, methods, cv=args.cv)
    if args.json:
        print(json.dumps(results, sort_keys=False))
    elif args.cv:
        print(format_cv(results, facts))
    else:
        print(format_table(results, facts))
    return 0


def answers_main(args: argparse.Namespace) -> int:
    from bench import locomo_answers  # loads the language model: only for --answers

    config = load_config(args.config)
    config.llm.max_new_tokens = args.max_new_tokens
    summary, facts = locomo_answers.run(config, args.path, args.limit, args.out,
                                            tuple(dict.fromkeys(args.categories)))
    print(json.dumps(summary | facts) if args.json else locomo_answers.format_table(summary, facts))
    return 0
