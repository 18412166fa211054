"""Plain-text views of memory results for the terminal chat, and the small formatting helpers (dates, snippets,
senders, percentiles) that the Telegram handlers' HTML views use too."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

from memory import Hit, Message

SNIPPET_CHARS = 300


def format_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sender(message: Message) -> str:
    return message.sender_name or ("Engram" if message.role == "assistant" else "someone")


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


def hit_line(n: int, hit: Hit) -> str:
    """'1. [2026-11-27 10:00] Ana: text  (similarity 0.81, keyword 3.2)'"""
    scores = []
    if hit.similarity is not None:
        scores.append(f"similarity {hit.similarity:.2f}")
    if hit.keyword_score is not None:
        scores.append(f"keyword {hit.keyword_score:.2f}")
    m = hit.message
    return f"{n}. [{format_date(m.created_at)}] {sender(m)}: {shorten(m.text)}  ({', '.join(scores) or 'recent'})"


def hits_text(hits: Sequence[Hit], start: int = 1, empty: str = "Nothing found.") -> str:
    if not hits:
        return empty
    return "\n".join(hit_line(start + i, h) for i, h in enumerate(hits))


def message_line(message: Message) -> str:
    return f"[{format_date(message.created_at)}] {sender(message)}: {shorten(message.text, 200)}"


def percentiles(values: Sequence[float]) -> str:
    if not values:
        return "no data yet"
    return f"p50 {percentile(values, 50) * 1000:.0f} ms, p95 {percentile(values, 95) * 1000:.0f} ms (n={len(values)})"


def stats_text(stats: dict, chat_stats: dict, llm_name: str, recall_latencies, first_token, generation) -> str:
    size_mb = stats["database_bytes"] / 1e6
    return "\n".join([
        f"Messages in this chat: {chat_stats['messages']} (all chats: {stats['messages']} in {stats['chats']} chats)",
        f"Database: {size_mb:.1f} MB",
        f"Embedding model: {stats['embedding_model']} ({stats['embedding_dim']}-d)",
        f"Language model: {llm_name}",
        f"Recall latency: {percentiles(recall_latencies)}",
        f"First token: {percentiles(first_token)}",
        f"Whole reply: {percentiles(generation)}",
    ])


def compare_text(text_a: str, text_b: str, measures: dict[str, float]) -> str:
    return "\n".join([
        f"A: {shorten(text_a, 100)}",
        f"B: {shorten(text_b, 100)}",
        f"Cosine similarity: {measures['cosine']:.3f}  (1 = same meaning, 0 = unrelated)",
        f"Euclidean distance: {measures['euclidean']:.3f}  (0 = identical; the vectors are normalised, so at most 2)",
        f"Dot product: {measures['dot']:.3f}  (equals the cosine for normalised vectors)",
    ])


def why_text(hits: Sequence[Hit]) -> str:
    if not hits:
        return "Nothing was recalled for the last reply (or there was no reply yet since the bot started)."
    return "Recalled for the last reply, best first:\n" + hits_text(hits)
