"""`eval-locomo`: recall quality of the memory on a LoCoMo-format file (evidence Recall@5, Recall@10, MRR).

Every turn of each conversation becomes a message of its own chat in a fresh temporary database (speaker as
sender, session date as time, a shared image's caption appended the way the bot stores photos); every question
is then asked as a recall query in that chat, as if after the last session, with each method: keyword (FTS5
only), vector (only) and hybrid (what Engram ships). Everything is embedded once; the three methods query the
same store. Results go in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.locomo import CATEGORIES, CATEGORY_NAMES, HEADLINE, Conversation, dia_id_of, load, message_id
from memory import Embedder, Message, SentenceTransformerEmbedder, Store

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
    store.add_many(messages)
    return store


def evaluate(store, conversations: list[Conversation], methods=METHODS) -> dict:
    """{method: {category: {metric: value}}} over every question with at least one valid evidence turn."""
    questions = [(chat_id, conv, q) for chat_id, conv in enumerate(conversations, start=1)
                 for q in conv.questions if q.evidence]
    query_vectors = store.embedder.embed_batch([q.question for _, _, q in questions]) if questions else []
    results = {}
    for method in methods:
        per_question = []
        for (chat_id, conv, q), qv in zip(questions, query_vectors):
            hits = store.recall(chat_id, q.question, TOP_K, method=method, now=conv.last_time + 86400.0,
                                query_vector=qv)
            ranked = [dia_id_of(h.message.message_id) for h in hits]
            per_question.append((q.category, question_metrics(ranked, q.evidence)))
        results[method] = aggregate(per_question)
    return results


def run(path: str | Path, embedder, methods=METHODS, fusion=None) -> tuple[dict, dict]:
    """Load, store, ask: (results, facts about the run)."""
    conversations = load(path)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engram-locomo-") as tmp:
        store = build_store(conversations, embedder, tmp, fusion)
        try:
            stored = time.perf_counter()
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
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="embedding model (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="embedding device: cpu, cuda or auto")


def make_embedder(model: str, device: str) -> Embedder:
    return SentenceTransformerEmbedder(model, device=device)


def main(args: argparse.Namespace) -> int:
    embedder = make_embedder(args.model, args.device)
    methods = list(dict.fromkeys(args.methods))
    results, facts = run(args.path, embedder, methods)
    if args.json:
        print(json.dumps(results, sort_keys=False))
    else:
        print(format_table(results, facts))
    return 0
