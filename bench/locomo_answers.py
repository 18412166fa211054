"""`eval-locomo PATH --answers`: LoCoMo's questions answered by the assistant, scored like the paper's answers.

Every turn of each conversation is stored in a chat of its own (a group: several speakers); each question is then
asked in that chat as its next message, a day after the last session, by someone who is not a speaker, through
`Assistant.reply_text` (its recall, prompt and model). Question and reply are forgotten afterwards, so every
question is answered on the conversation alone.

Scoring follows the LoCoMo paper's evaluation (Maharana et al. 2024, `task_eval/evaluation.py`): answers are
normalised (lower-case; punctuation and the articles a/an/the, and "and", removed) and scored with token F1;
a multi-hop answer (category 1) is split on commas and each gold part takes its best F1 against the prediction's
parts, averaged; an open-domain gold answer (category 3) counts up to its first ';'. Unlike the paper's script,
tokens are not Porter-stemmed (no nltk here): figures are slightly lower than its would be. Category 5 (no
answer exists) counts the share of replies that decline: "I don't know", or the question's premise rejected
("that was Melanie, not Caroline").
"""

from __future__ import annotations

import asyncio
import json
import re
import string
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import load_average, say
from bench.eval_replies import DECLINE
from bench.locomo import CATEGORIES, CATEGORY_NAMES, HEADLINE, Conversation, Question, load, message_id
from bot.config import Config, LLMBackend
from bot.llm import build_llm
from bot.services import build_assistant, build_embedder
from memory import Memory, Message

ASKER = "Asker"
ASKER_ID = 1  # speakers get ids from 2 on
PAPER_DECLINES = ("no information available", "not mentioned")
# "As far as I recall, that was Melanie, not Caroline." (bot/reply/attribution.py): the question's premise rejected
ATTRIBUTED_ELSEWHERE = re.compile(r"\bthat was [\w .'-]+, not \w+", re.I)


# ----- the paper's scoring ---------------------------------------------------------------------------------------
def normalise(text: str) -> str:
    text = text.replace(",", "").lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the|and)\b", " ", text)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalise(prediction).split(), normalise(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def multi_f1(prediction: str, gold: str) -> float:
    """Category 1: each comma-separated gold part scored by its best-matching predicted part, averaged."""
    preds = [p.strip() for p in prediction.split(",")]
    golds = [g.strip() for g in gold.split(",")]
    return sum(max(token_f1(p, g) for p in preds) for g in golds) / len(golds)


def declines(prediction: str) -> bool:
    low = prediction.lower()
    return (bool(DECLINE.search(prediction) or ATTRIBUTED_ELSEWHERE.search(prediction))
            or any(p in low for p in PAPER_DECLINES))


def score(question: Question, prediction: str) -> float:
    """F1 for categories 1-4; for category 5, 1.0 when the reply declines."""
    if question.category == "5":
        return float(declines(prediction))
    if question.category == "1":
        return multi_f1(prediction, question.answer)
    gold = question.answer.split(";")[0] if question.category == "3" else question.answer
    return token_f1(prediction, gold)


# ----- which questions ---------------------------------------------------------------------------------------------
def stratified(conversations: list[Conversation], limit: int | None,
               categories: tuple[str, ...] = CATEGORIES) -> list[tuple[int, Question]]:
    """(conversation index, question) pairs of these categories: all, or `limit` spread evenly over the categories
    and, within each, evenly over the file's order (so over the conversations)."""
    every = [(i, q) for i, conv in enumerate(conversations) for q in conv.questions if q.category in categories]
    if not limit:
        return every
    chosen = []
    for n, category in enumerate(categories):
        pool = [pair for pair in every if pair[1].category == category]
        take = min(len(pool), limit // len(categories) + (1 if n < limit % len(categories) else 0))
        chosen += [pool[int(j * len(pool) / take)] for j in range(take)] if take else []
    return chosen


# ----- running -----------------------------------------------------------------------------------------------------
async def answer_all(config: Config, conversations: list[Conversation], questions: list[tuple[int, Question]],
                     directory: str, out: str | None = None) -> list[dict]:
    """Every question answered and scored; each row is also written to `out` (JSON lines) as soon as it is known,
    so a run stopped half-way leaves what it answered."""
    memory = Memory(Path(directory) / "locomo-answers.db", build_embedder(config))
    llm = build_llm(config)
    await memory.start()
    await llm.start()
    rows = []
    written = open(out, "w", encoding="utf-8") if out else None  # noqa: SIM115  closed in finally
    try:
        assistant = build_assistant(config, memory, llm)
        for i, conv in enumerate(conversations):
            ids = {s: n for n, s in enumerate(dict.fromkeys(t.speaker for t in conv.turns), start=ASKER_ID + 1)}
            await memory.messages.remember_many([
                Message(-(i + 1), message_id(t.dia_id), t.text, sender_id=ids[t.speaker], sender_name=t.speaker,
                        created_at=t.created_at)
                for t in conv.turns])
        await memory.embeddings.flush()
        say(f"stored {sum(len(c.turns) for c in conversations)} turns; answering {len(questions)} questions")
        for n, (i, question) in enumerate(questions, start=1):
            chat_id = -(i + 1)
            asked = Message(chat_id, await memory.messages.next_message_id(chat_id), question.question,
                            sender_id=ASKER_ID, sender_name=ASKER, created_at=conversations[i].last_time + 86400.0)
            began = time.perf_counter()
            reply = await assistant.reply_text(asked)
            seconds = time.perf_counter() - began
            # the question and its reply: not part of the conversation
            for stale in await memory.messages.recent(chat_id, 2):
                if stale.message_id >= asked.message_id:
                    await memory.messages.forget(chat_id, stale.message_id)
            rows.append({"conversation": conversations[i].name, "category": question.category,
                         "question": question.question, "gold": question.answer, "reply": reply.text,
                         "score": score(question, reply.text), "seconds": round(seconds, 2)})
            if written:
                written.write(json.dumps(rows[-1], ensure_ascii=False) + "\n")
                written.flush()
            say(f"[{n}/{len(questions)}] cat {question.category} {rows[-1]['score']:.2f} {question.question!r} -> "
                f"{reply.text[:80]!r} (gold {question.answer!r})")
    finally:
        if written:
            written.close()
        await llm.stop()
        await memory.stop()
    return rows


def summarise(rows: list[dict]) -> dict:
    by = {c: [r for r in rows if r["category"] == c] for c in CATEGORIES}
    headline = [r for r in rows if r["category"] in HEADLINE]
    mean = lambda rs: sum(r["score"] for r in rs) / len(rs) if rs else None
    return {
        "f1": {c: mean(by[c]) for c in HEADLINE} | {"overall": mean(headline)},
        "declined_5": mean(by["5"]),
        "n": {c: len(by[c]) for c in CATEGORIES},
        "seconds_per_answer": sum(r["seconds"] for r in rows) / len(rows) if rows else None,
        "mean_words": sum(len(r["reply"].split()) for r in rows) / len(rows) if rows else None,
    }


def format_table(summary: dict, facts: dict) -> str:
    lines = [f"{'category':<16} {'n':>4} {'F1':>6}"]
    for c in HEADLINE:
        value = summary["f1"][c]
        lines.append(f"{c + ' ' + CATEGORY_NAMES[c]:<16} {summary['n'][c]:>4} "
                     f"{'-' if value is None else f'{value:.3f}':>6}")
    overall = summary["f1"]["overall"]
    lines.append(f"{'overall 1-4':<16} {sum(summary['n'][c] for c in HEADLINE):>4} "
                 f"{'-' if overall is None else f'{overall:.3f}':>6}")
    declined = summary["declined_5"]
    lines.append(f"{'5 adversarial':<16} {summary['n']['5']:>4} declined "
                 f"{'-' if declined is None else f'{declined:.0%}'}")
    lines.append(f"\n{facts['model']}; {summary['seconds_per_answer'] or 0:.2f} s an answer; "
                 f"{summary['mean_words'] or 0:.1f} words an answer; load {facts['load']}; replies in {facts['out']}")
    return "\n".join(lines)


def run(config: Config, path: str | Path, limit: int | None, out: str,
        categories: tuple[str, ...] = CATEGORIES) -> tuple[dict, dict]:
    conversations = load(path)
    questions = stratified(conversations, limit, categories)
    with tempfile.TemporaryDirectory(prefix="engram-locomo-answers-") as tmp:
        rows = asyncio.run(answer_all(config, conversations, questions, tmp, out))
    model = config.llm.model if config.llm.backend is LLMBackend.TRANSFORMERS else config.llm.openai.model
    return summarise(rows), {"model": model, "load": load_average(), "out": out}
