"""What each user command does, written once: plain data in, plain data out.

The terminal chat (bot/cli/chat.py), the command line (bot/cli/tools.py) and Telegram (handlers/) call these and only
render the result (bot/commands/views.py, in plain text or Telegram HTML). A usage mistake raises UsageError, whose
message is written for the person who typed the command.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

from bot.errors import EngramError
from bot.i18n import _
from bot.reply.assistant import Assistant
from bot.reply.intent import said_by_a_person
from bot.when.zones import query_window
from memory import Hit, Memory, Message
from memory.embedder import Calibration, calibration
from memory.models import ACTION, clean_text, iso
from memory.search import model_fusion

SEARCH_PAGE = 5  # hits per page of /search
SEARCH_LIMIT = 50  # pages end after this many hits
# /search leaves out hits whose (fused) score is under a floor, or under a share of the best hit's: both are the
# embedding model's (memory/embedder.py Calibration: 0.35 and 0.5 for all-MiniLM-L6-v2; for multilingual-e5-small
# 0.45 in a chat of up to 10 messages to 0.6 from 400 on, and 0.5; measured on LoCoMo-dev so that every evidence
# turn of the top 10 stays while "tyres" or "my bank PIN" in a chat that never spoke of them finds nothing instead
# of ten unrelated messages).
_DEFAULT = Calibration()
# What people told comes before questions and the assistant's replies about it: those count this share of their
# score, in the order and as shown (so "best first by score" stays true). A question matches a question about the
# same thing almost word for word (cosine ~0.9), a statement less (~0.6-0.7): at half, the statement leads.
NOT_TOLD_WEIGHT = 0.5
FORGET_LIMIT = 100  # messages one /forget <query> can delete at once
EXPORT_FORMAT = "engram-export"  # marks /export's JSON, so an import knows it


class UsageError(EngramError):
    """A command was given arguments it cannot use; the message says how to use it."""


def arguments(text: str) -> str:
    """Everything after the command word of '/command args' ('' if nothing)."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


MAX_ID = 2**63 - 1  # SQLite's largest integer


def id_argument(text: str) -> int | None:
    """A positive id typed by a person ('12', '#12'), or None if it is not one SQLite can hold."""
    text = text.strip().removeprefix("#")
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


# ----- /search -------------------------------------------------------------------------------------------------
@dataclass
class SearchPage:
    query: str
    hits: list[Hit]  # the hits of this page
    first: int  # the number shown with the first hit (1-based)
    page: int
    more: bool  # another page follows
    window: str | None = None  # the time the query names, as read ("23-29 Nov"): its messages rank first
    closest: float | None = None  # the best score when every hit was below the floor (nothing shown)
    left_out: bool = False  # weaker hits were left out after the last one shown (this is the last page)
    floor: tuple[float, float] = (_DEFAULT.search_min_score, _DEFAULT.search_min_relative)  # noise (above_floor)
    keyword_weight: float = 0.3  # the keyword share of a score (keyword_weight below), said beside the hits


def keyword_weight(memory: Memory) -> float:
    """The keyword share of this memory's scores (its fusion parameters: the embedding model's)."""
    return (memory.fusion or model_fusion(memory.embedder)).keyword_weight


def people_first(hits: list[Hit]) -> list[Hit]:
    """The hits best first by a score in which questions and the assistant's words count NOT_TOLD_WEIGHT of
    theirs (bot/reply/intent.py said_by_a_person): what people told about it leads; each hit shows that score."""
    weighed = [h if said_by_a_person(h.message) else replace(h, score=h.score * NOT_TOLD_WEIGHT) for h in hits]
    return sorted(weighed, key=lambda h: -h.score)


def above_floor(hits: list[Hit], min_score: float = _DEFAULT.search_min_score,
                min_relative: float = _DEFAULT.search_min_relative) -> list[Hit]:
    """The hits (best first) that are not noise: scoring at least min_score and min_relative x the best."""
    if not hits:
        return []
    floor = max(min_score, min_relative * hits[0].score)
    return [h for h in hits if h.score >= floor]


async def search(memory: Memory, chat_id: int, query: str, page: int = 0, page_size: int = SEARCH_PAGE, *,
                 timezone: str = "UTC", now: float | None = None) -> SearchPage:
    """One page of a hybrid search of this chat's memory (hits ranked by meaning and keywords). A time the query
    names ("flat last week") is read in the chat's zone (`timezone` is the default) and ranks its messages first
    without hiding others that hold every word."""
    query = clean_text(query).strip()
    if not query:
        raise UsageError(_("Usage: /search <what you are looking for> (a time works too: /search flat last week)"))
    window = await query_window(memory, chat_id, query, time.time() if now is None else now, timezone)
    # Every page reads the same SEARCH_LIMIT hits: weighing them (people_first) may reorder them, never a page's.
    found = people_first(await memory.messages.search(
        chat_id, query, SEARCH_LIMIT, window=(window.start_ts, window.end_ts) if window else None,
        keyword_query=window.query if window else None))
    # Best first by score, so the floor only ever cuts the tail: every page of a search sees the same hits.
    model = calibration(memory.embedder)
    floor = (model.search_floor(await memory.messages.count(chat_id)), model.search_min_relative)
    hits = above_floor(found, *floor)
    shown = hits[page * page_size:(page + 1) * page_size]
    more = len(hits) > (page + 1) * page_size
    return SearchPage(query, shown, page * page_size + 1, page, more, window.label if window else None,
                      closest=found[0].score if found and not hits else None,
                      left_out=not more and len(found) > len(hits), floor=floor,
                      keyword_weight=keyword_weight(memory))


# ----- /why ----------------------------------------------------------------------------------------------------
async def why(assistant: Assistant, chat_id: int) -> list[Hit]:
    """What was recalled for the last reply in this chat, best first by score (weighed as /search weighs it:
    what people told before questions and the assistant's words), without what has been forgotten since."""
    kept = [h for h in assistant.last_recall(chat_id)
            if await assistant.memory.messages.get(chat_id, h.message.message_id) is not None]
    return people_first(kept)


# ----- /compare ------------------------------------------------------------------------------------------------
@dataclass
class Comparison:
    a: str
    b: str
    cosine: float
    euclidean: float
    dot: float


async def compare(memory: Memory, text: str) -> Comparison:
    """'A | B': cosine similarity, Euclidean distance and dot product of the two texts' embeddings."""
    sides = [side.strip() for side in clean_text(text).split("|")]
    if len(sides) != 2 or not all(sides):
        raise UsageError(_("Usage: /compare <text A> | <text B>"))
    measures = await memory.embeddings.compare(sides[0], sides[1])
    return Comparison(sides[0], sides[1], measures["cosine"], measures["euclidean"], measures["dot"])


# ----- /stats --------------------------------------------------------------------------------------------------
@dataclass
class Stats:
    chat_id: int | None  # None: every chat at once (`./engram stats` without --chat-id)
    chat_messages: int  # of that chat (or of all)
    by_role: dict[str, int]
    first: float | None  # when its first and last messages were sent (None: it has none)
    last: float | None
    embedding_model: str
    embedding_dim: int
    # Of a running assistant only (the chat's /stats); the command line has none.
    llm_name: str | None = None
    recall_seconds: list[float] = field(default_factory=list)
    first_token_seconds: list[float] = field(default_factory=list)
    reply_seconds: list[float] = field(default_factory=list)
    # Totals across every chat: only for the bot's owners, and only where no one else reads them.
    total_messages: int | None = None
    chats: int | None = None
    database_bytes: int | None = None


async def memory_stats(memory: Memory, chat_id: int | None, *, with_totals: bool) -> Stats:
    """What the memory holds: of one chat (or of all, `chat_id` None), and the totals if `with_totals`."""
    chat = await memory.messages.stats(chat_id)
    total = chat if chat_id is None else await memory.messages.stats()
    report = Stats(
        chat_id=chat_id, chat_messages=chat["messages"], by_role=chat["by_role"], first=chat["first"],
        last=chat["last"], embedding_model=str(total["embedding_model"] or memory.embedder.name),
        embedding_dim=int(total["embedding_dim"] or memory.embedder.dim),
    )
    if with_totals:
        report.total_messages, report.chats = total["messages"], total["chats"]
        report.database_bytes = total["database_bytes"]
    return report


async def stats(assistant: Assistant, chat_id: int, *, with_totals: bool) -> Stats:
    """/stats: the memory's, and the running assistant's models and latencies since it started."""
    report = await memory_stats(assistant.memory, chat_id, with_totals=with_totals)
    report.llm_name = getattr(assistant.llm, "name", "?")
    report.recall_seconds = list(assistant.memory.messages.recall_latencies)
    report.first_token_seconds = list(assistant.timings.first_token)
    report.reply_seconds = list(assistant.timings.generation)
    return report


# ----- /export -------------------------------------------------------------------------------------------------
async def export(memory: Memory, chat_id: int) -> dict:
    """This chat's memory as one JSON-ready document (`./engram import` reads it back)."""
    return {"format": EXPORT_FORMAT, "chat_id": chat_id, "exported_at": iso(time.time()),
            "messages": await memory.messages.export(chat_id)}


@dataclass(frozen=True)
class ExportFile:
    filename: str  # engram-chat-<id>.json
    data: bytes  # the JSON document, UTF-8
    messages: int


async def export_file(memory: Memory, chat_id: int) -> ExportFile:
    """/export as the file every front end hands over (Telegram sends it, the terminal and the CLI write it)."""
    payload = await export(memory, chat_id)
    data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    return ExportFile(f"engram-chat-{chat_id}.json", data, len(payload["messages"]))


# ----- /forget -------------------------------------------------------------------------------------------------
@dataclass
class ForgetRequest:
    """What a /forget asks to delete, shown before it is confirmed."""

    everything: bool
    count: int
    preview: list[Message] = field(default_factory=list)  # newest first
    ids: list[int] = field(default_factory=list)  # row ids to delete (empty for everything)


async def forget_request(memory: Memory, chat_id: int, query: str) -> ForgetRequest:
    """`all`: the whole chat; otherwise every message containing all the words of the query (up to 100)."""
    query = query.strip()
    if not query:
        raise UsageError(_("Usage: reply to a message with /forget, or /forget <words>, or /forget all"))
    if query.lower() == "all":
        return ForgetRequest(everything=True, count=await memory.messages.count(chat_id))
    found = await memory.messages.matching(chat_id, query, FORGET_LIMIT)
    return ForgetRequest(everything=False, count=len(found), preview=found, ids=[m.id for m in found if m.id])


async def forget_last_said(memory: Memory, chat_id: int, sender_id: int | None = None) -> ForgetRequest:
    """"Forget what I just said": the person's newest message (a command or an earlier request is none) and the
    assistant's replies to it, which may repeat it. Nothing when the chat has no message of theirs among its last
    50 (the terminal's have no sender id)."""
    recent = await memory.messages.recent(chat_id, 50)
    for i in range(len(recent) - 1, -1, -1):
        said = recent[i]
        mine = said.sender_id == sender_id if sender_id is not None else said.sender_id is None
        request = (said.meta or {}).get("kind") == ACTION  # an earlier "forget what I just said", kept
        if said.role == "user" and mine and not request and not said.text.startswith("/"):
            replies = [m for m in recent[i + 1:] if m.role == "assistant" and m.reply_to == said.message_id]
            found = [said, *replies][::-1]
            return ForgetRequest(everything=False, count=len(found), preview=found,
                                 ids=[m.id for m in found if m.id])
    return ForgetRequest(everything=False, count=0)


async def forget(memory: Memory, chat_id: int, request: ForgetRequest) -> int:
    """Carry out a confirmed request; returns the messages deleted."""
    if request.everything:
        return await memory.messages.forget_chat(chat_id)
    return await memory.messages.forget_ids(chat_id, request.ids)
