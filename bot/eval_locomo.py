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
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.errors import EngramError

METHODS = ("keyword", "vector", "hybrid")
CATEGORIES = ("1", "2", "3", "4", "5")
CATEGORY_NAMES = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop", "5": "adversarial"}
HEADLINE = ("1", "2", "3", "4")  # category 5 (unanswerable) stays out of "overall"
METRICS = ("R@5", "R@10", "MRR")
TOP_K = 10

_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_SESSION_TIME_FORMAT = "%I:%M %p on %d %B, %Y"


@dataclass
class Turn:
    dia_id: str
    speaker: str
    text: str
    created_at: float


@dataclass
class Question:
    question: str
    category: str
    evidence: list[str]


@dataclass
class Conversation:
    name: str
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    dropped_evidence: int = 0  # evidence ids that named no turn of this conversation

    @property
    def last_time(self) -> float:
        return max(t.created_at for t in self.turns)


# ----- loading -------------------------------------------------------------------------------------------------
def parse_session_time(text: str) -> float:
    """'1:56 pm on 8 May, 2023' -> Unix time (read as UTC)."""
    try:
        parsed = datetime.strptime(" ".join(text.split()), _SESSION_TIME_FORMAT)
    except ValueError:
        raise EngramError(f"unreadable session date {text!r} (expected e.g. '1:56 pm on 8 May, 2023')") from None
    return parsed.replace(tzinfo=timezone.utc).timestamp()


def canonical_id(text: str) -> str | None:
    """'D30:05' -> 'D30:5', 'D:11:26' -> 'D11:26'; None if the text does not read as a turn id."""
    match = _DIA_ID.fullmatch(text.strip())
    return f"D{int(match[1])}:{int(match[2])}" if match else None


def message_id(dia_id: str) -> int:
    """A stable message id for a turn: 'D12:7' -> 120007 (session * 10000 + turn)."""
    session, turn = canonical_id(dia_id)[1:].split(":")
    return int(session) * 10000 + int(turn)


def dia_id_of(message_id: int) -> str:
    return f"D{message_id // 10000}:{message_id % 10000}"


def normalise_evidence(raw: list[str], known: set[str]) -> tuple[list[str], int]:
    """Canonical evidence turn ids and the count of entries dropped.

    Each entry is split on ';' (e.g. 'D8:6; D9:17'); each piece that reads as D<session>:<turn> (a stray colon
    as in 'D:11:26' tolerated) is rewritten without zero padding ('D30:05' -> 'D30:5'); pieces that do not read
    as a turn id, or name no turn of the conversation, are dropped. Duplicates are kept once.
    """
    out: list[str] = []
    dropped = 0
    for entry in raw:
        for piece in str(entry).split(";"):
            dia_id = canonical_id(piece)
            if dia_id is None or dia_id not in known:
                dropped += 1
            elif dia_id not in out:
                out.append(dia_id)
    return out, dropped


def turn_text(turn: dict) -> str:
    """The text the bot stores for a turn: a shared photo's caption is appended to the message text."""
    text = turn.get("text", "")
    caption = turn.get("blip_caption")
    return f"{text} [image: {caption}]" if caption else text


def load(path: str | Path) -> list[Conversation]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngramError(f"cannot read LoCoMo file {path}: {exc}") from None
    conversations = []
    for index, sample in enumerate(data):
        conv = sample["conversation"]
        out = Conversation(name=sample.get("sample_id", f"conversation-{index + 1}"))
        sessions = sorted(
            (int(key.split("_")[1]), key) for key in conv if re.fullmatch(r"session_\d+", key) and conv[key]
        )
        for number, key in sessions:
            start = parse_session_time(conv[f"{key}_date_time"])
            for offset, turn in enumerate(conv[key]):
                dia_id = canonical_id(turn["dia_id"])
                if dia_id is None:
                    raise EngramError(f"{out.name}: not a LoCoMo turn id: {turn['dia_id']!r}")
                # Turns of a session are a few seconds apart, in order: the dataset gives only the session time.
                out.turns.append(Turn(dia_id, turn["speaker"], turn_text(turn), start + 10.0 * offset))
        known = {t.dia_id for t in out.turns}
        for qa in sample.get("qa", []):
            evidence, dropped = normalise_evidence(qa.get("evidence", []), known)
            out.dropped_evidence += dropped
            out.questions.append(Question(qa["question"], str(qa["category"]), evidence))
        conversations.append(out)
    return conversations


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
def build_store(conversations: list[Conversation], embedder, directory: str | Path, fusion=None):
    """A fresh store in `directory` holding every turn, chat i+1 for conversation i."""
    from memory import Message, Store

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
    # For tests: a deterministic bag-of-words embedder instead of a model.
    parser.add_argument("--hash-embedder", action="store_true", help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    if args.hash_embedder:
        from memory import HashEmbedder

        embedder = HashEmbedder()
    else:
        from memory import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(args.model, device=args.device)
    methods = list(dict.fromkeys(args.methods))
    results, facts = run(args.path, embedder, methods)
    if args.json:
        print(json.dumps(results, sort_keys=False))
    else:
        print(format_table(results, facts))
    return 0
