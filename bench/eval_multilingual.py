"""`eval-multilingual`: recall in other languages and across languages (evidence Recall@10 per language, keyword-only,
vector-only and hybrid), with the configured embedding model unless --model says otherwise.

Two sets of labelled questions, both built from public data (bench/multilingual/):
- MemoryBank (Zhong et al., AAAI 2024; MIT): 15 users' ten days of chat with an AI companion, in English and in
  Chinese, and their 7 probing questions each. The evidence exchanges were labelled by hand
  (memorybank_evidence.json says how). Each user is a chat: the user's messages under the user's name, the
  companion's replies as the assistant's; a question is asked in that chat a day after its last day.
- LoCoMo conv-26 (Maharana et al., ACL 2024; CC BY-NC 4.0, evaluation use only): 40 questions whose one evidence
  turn was rewritten by hand in Russian, Ukrainian, Spanish, German and Persian, with the question
  (locomo_rewritten.json). The chat of language X is the whole conversation with those 40 turns in X (the other
  379 stay in English: a bilingual chat, the hard case for a multilingual model, whose English turns about the same
  people compete with the answer); English is the original conversation.

Cross-lingual: Chinese questions in the English chats and English questions in the Chinese ones (the 11 users whose
two histories have the same exchanges), English questions in each rewritten LoCoMo chat (the memory in X) and
each language's questions in the English chat (the memory in English).

Every question has a fixed split: about 30% (by a hash of its id) are held out — never looked at while choosing the
model or tuning — and reported on their own. The paths of the two data sets are arguments (the files stay out of
the repository): --memorybank (a folder with memory_bank_{en,cn}.json and probing_questions_{en,cn}.jsonl) and
--locomo (a LoCoMo-format file holding conv-26).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bench.common import load_average, say
from bench.eval_locomo import make_embedder
from bench.locomo import load, message_id
from bot.errors import EngramError
from bot.when.phrases import parse_time_phrase
from memory import Embedder, Message, Store
from memory.embedder import embed_queries

HERE = Path(__file__).parent / "multilingual"
METHODS = ("keyword", "vector", "hybrid")
TOP_K = 10
HELD_OUT_SHARE = 0.3
COMPANION = "AI companion"


@dataclass
class Chat:
    """One chat of the evaluation: its messages (message_id -> turn key) in order."""

    chat_id: int
    name: str
    messages: list[Message] = field(default_factory=list)
    turn_of: dict[int, str] = field(default_factory=dict)  # message_id -> evidence key ("04-28.1", "D2:8")

    @property
    def now(self) -> float:
        return max(m.created_at for m in self.messages) + 86400.0


@dataclass
class Case:
    """A labelled question: asked in `chat`, answered when each evidence group has a message in the top 10."""

    id: str
    suite: str  # "memorybank" or "locomo"
    language: str  # the question's language
    memory_language: str  # the chat's language
    question: str
    chat: Chat
    evidence: list[set[str]]

    @property
    def held_out(self) -> bool:
        digest = hashlib.sha256(self.id.encode()).digest()
        return digest[0] / 256 < HELD_OUT_SHARE

    @property
    def label(self) -> str:
        same = self.language == self.memory_language
        return self.language if same else f"{self.language}→{self.memory_language}"


# ----- MemoryBank --------------------------------------------------------------------------------------------------
def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def memorybank_chats(folder: Path, next_id: int, users: int | None = None) -> tuple[list[Chat], list[Case]]:
    labels = json.loads((HERE / "memorybank_evidence.json").read_text(encoding="utf-8"))
    aligned = set(labels["aligned_cn"])
    try:
        histories = {lang: list(json.loads((folder / f"memory_bank_{lang}.json").read_text("utf-8")).values())
                     for lang in ("en", "cn")}
        questions = {lang: [next(iter(line.values())) for line in
                            _jsonl(folder / f"probing_questions_{lang}.jsonl")] for lang in ("en", "cn")}
    except (OSError, ValueError) as exc:
        raise EngramError(f"cannot read the MemoryBank data in {folder}: {exc}") from exc
    chats: dict[tuple[str, int], Chat] = {}
    count = len(histories["en"]) if users is None else min(users, len(histories["en"]))
    for lang in ("en", "cn"):
        for user in range(count):
            if lang == "cn" and user not in aligned:
                continue
            record = histories[lang][user]
            name = str(record.get("name") or f"user{user}").strip()
            chat = Chat(next_id, f"memorybank-{lang}-{user}")
            next_id += 1
            for day, exchanges in record["history"].items():
                start = datetime.strptime(day, "%Y-%m-%d").replace(hour=20, tzinfo=timezone.utc).timestamp()
                for n, exchange in enumerate(exchanges):
                    key = f"{day[5:]}.{n}"
                    for offset, (role, sender, text) in enumerate((("user", name, exchange["query"]),
                                                                   ("assistant", COMPANION, exchange["response"]))):
                        mid = len(chat.messages) + 1
                        chat.messages.append(Message(chat_id=chat.chat_id, message_id=mid, text=text, role=role,
                                                     sender_name=sender, created_at=start + 120 * n + 60 * offset))
                        chat.turn_of[mid] = key
            chats[(lang, user)] = chat
    cases = []
    language = {"en": "en", "cn": "zh"}
    for (lang, user), chat in chats.items():
        for number, groups in enumerate(labels["labels"][str(user)]):
            if groups is None:
                continue
            evidence = [set(g.split("|")) for g in groups]
            for qlang in ("en", "cn"):
                if (qlang, user) not in chats:
                    continue
                cases.append(Case(f"mb:{user}:{number}:{qlang}>{lang}", "memorybank", language[qlang],
                                  language[lang], questions[qlang][user][number], chat, evidence))
    return list(chats.values()), cases


# ----- LoCoMo, rewritten ---------------------------------------------------------------------------------------------
def locomo_chats(path: Path, next_id: int, items: int | None = None) -> tuple[list[Chat], list[Case]]:
    rewritten = json.loads((HERE / "locomo_rewritten.json").read_text(encoding="utf-8"))
    name = rewritten["conversation"]
    conversation = next((c for c in load(path) if c.name == name), None)
    try:
        raw = next(c for c in json.loads(Path(path).read_text(encoding="utf-8")) if c.get("sample_id") == name)
    except (OSError, ValueError, StopIteration) as exc:
        raise EngramError(f"{path} does not hold LoCoMo conversation {name}") from exc
    if conversation is None:
        raise EngramError(f"{path} does not hold LoCoMo conversation {name}")
    chosen = rewritten["items"][:items]
    english = {item["dia"]: raw["qa"][item["qa"]]["question"] for item in chosen}
    for item in chosen:
        if raw["qa"][item["qa"]]["evidence"] != [item["dia"]]:
            raise EngramError(f"{path}: question {item['qa']} of {name} is not the one rewritten")
    chats: dict[str, Chat] = {}
    for lang in ("en", *rewritten["languages"]):
        replaced = {item["dia"]: item["m"][lang] for item in chosen} if lang != "en" else {}
        chat = Chat(next_id, f"locomo-{lang}")
        next_id += 1
        for turn in conversation.turns:
            mid = message_id(turn.dia_id)
            chat.messages.append(Message(chat_id=chat.chat_id, message_id=mid,
                                         text=replaced.get(turn.dia_id, turn.text), role="user",
                                         sender_name=turn.speaker, created_at=turn.created_at))
            chat.turn_of[mid] = turn.dia_id
        chats[lang] = chat
    cases = []
    for item in chosen:
        asked = {"en": english[item["dia"]], **item["q"]}
        for lang in rewritten["languages"]:
            pairs = [(lang, lang), ("en", lang), (lang, "en")]
            for qlang, mlang in pairs:
                cases.append(Case(f"lc:{item['qa']}:{qlang}>{mlang}", "locomo", qlang, mlang, asked[qlang],
                                  chats[mlang], [{item["dia"]}]))
        cases.append(Case(f"lc:{item['qa']}:en>en", "locomo", "en", "en", asked["en"], chats["en"], [{item["dia"]}]))
    return list(chats.values()), cases


# ----- running -----------------------------------------------------------------------------------------------------
def recall_at_10(case: Case, hits) -> float:
    found = {case.chat.turn_of.get(h.message.message_id) for h in hits[:TOP_K]}
    return sum(1 for group in case.evidence if group & found) / len(case.evidence)


def run(embedder: Embedder, memorybank: Path | None, locomo: Path | None, users: int | None = None,
        items: int | None = None) -> tuple[list[dict], dict]:
    chats: list[Chat] = []
    cases: list[Case] = []
    if memorybank is not None:
        more, found = memorybank_chats(memorybank, 1, users)
        chats += more
        cases += found
    if locomo is not None:
        more, found = locomo_chats(locomo, len(chats) + 1, items)
        chats += more
        cases += found
    if not cases:
        raise EngramError("nothing to evaluate: give --memorybank and/or --locomo")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engram-multilingual-") as tmp:
        store = Store.open(Path(tmp) / "multilingual.db", embedder)
        try:
            store.messages.add_many([m for chat in chats for m in chat.messages])
            stored = time.perf_counter()
            vectors = embed_queries(embedder, [c.question for c in cases])
            rows = []
            for case, vector in zip(cases, vectors, strict=True):
                now = case.chat.now
                window = parse_time_phrase(case.question, datetime.fromtimestamp(now, tz=timezone.utc), "UTC")
                args = {"now": now, "query_vector": vector,
                        "window": (window.start_ts, window.end_ts) if window else None,
                        "keyword_query": window.query if window else None}
                scores = {method: recall_at_10(case, store.search.recall(case.chat.chat_id, case.question, TOP_K,
                                                                         method=method, **args))
                          for method in METHODS}
                rows.append({"id": case.id, "suite": case.suite, "label": case.label, "language": case.language,
                             "memory_language": case.memory_language, "held_out": case.held_out, **scores})
        finally:
            store.close()
    facts = {"model": embedder.name, "dim": embedder.dim, "messages": sum(len(c.messages) for c in chats),
             "store_seconds": round(stored - started, 1),
             "query_seconds": round(time.perf_counter() - stored, 1), "load": load_average()}
    return rows, facts


def summarise(rows: list[dict]) -> list[dict]:
    """Mean R@10 per (suite, label) and over all suites per label, for dev, held-out and both."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["suite"], row["label"])].append(row)
        groups[("all", row["label"])].append(row)
    out = []
    for (suite, label), members in sorted(groups.items(), key=lambda kv: (kv[0][0] != "all", kv[0])):
        entry: dict = {"suite": suite, "label": label, "n": len(members)}
        for part, chosen in (("all", members), ("dev", [r for r in members if not r["held_out"]]),
                             ("held_out", [r for r in members if r["held_out"]])):
            entry[part] = {m: (sum(r[m] for r in chosen) / len(chosen) if chosen else None) for m in METHODS}
            entry[part]["n"] = len(chosen)
        out.append(entry)
    return out


def format_table(summary: list[dict], facts: dict) -> str:
    lines = [f"model {facts['model']} ({facts['dim']}-d); {facts['messages']} messages stored in "
             f"{facts['store_seconds']} s, questions asked in {facts['query_seconds']} s; load {facts['load']}", "",
             "R@10 (a question's evidence found in the top 10); X→Y = question in X, memory in Y", "",
             f"{'suite':<11} {'language':<9} {'n':>4} {'keyword':>8} {'vector':>7} {'hybrid':>7}   "
             f"{'held-out n':>10} {'hybrid':>7}"]
    for entry in summary:
        every, held = entry["all"], entry["held_out"]
        held_hybrid = f"{held['hybrid']:.3f}" if held["n"] else "-"
        lines.append(f"{entry['suite']:<11} {entry['label']:<9} {entry['n']:>4} {every['keyword']:>8.3f} "
                     f"{every['vector']:>7.3f} {every['hybrid']:>7.3f}   {held['n']:>10} {held_hybrid:>7}")
    lines += ["", "hybrid against English on the same suite (target: every language within 0.10):"]
    for suite in sorted({e["suite"] for e in summary} - {"all"}):
        entries = {e["label"]: e["all"]["hybrid"] for e in summary if e["suite"] == suite}
        if "en" not in entries:
            continue
        others = ", ".join(f"{label} {value:.3f} ({value - entries['en']:+.3f})"
                           for label, value in sorted(entries.items()) if "→" not in label and label != "en")
        lines.append(f"  {suite}: en {entries['en']:.3f}; {others}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--memorybank", default=None,
                        help="MemoryBank eval_data folder (memory_bank_{en,cn}.json, probing_questions_*.jsonl)")
    parser.add_argument("--locomo", default=None, help="LoCoMo-format file holding conversation conv-26")
    parser.add_argument("--model", default=None, help="embedding model (default: the configured one)")
    parser.add_argument("--device", default="cpu", help="embedding device: cpu, cuda or auto")
    parser.add_argument("--users", type=int, default=None, help="only the first N MemoryBank users (a quick run)")
    parser.add_argument("--items", type=int, default=None, help="only the first N rewritten LoCoMo facts")
    parser.add_argument("--json", action="store_true", help="print {summary, facts, questions} as JSON")


def main(args: argparse.Namespace) -> int:
    from bot.config import load_config

    model = args.model or load_config(args.config).embedding.model
    embedder = make_embedder(model, args.device, args.config)
    say(f"embedding model {embedder.name} on {getattr(embedder, 'runtime', 'torch')}")
    rows, facts = run(embedder, Path(args.memorybank) if args.memorybank else None,
                      Path(args.locomo) if args.locomo else None, args.users, args.items)
    summary = summarise(rows)
    if args.json:
        print(json.dumps({"summary": summary, "facts": facts, "questions": rows}, ensure_ascii=False))
    else:
        print(format_table(summary, facts))
    return 0
