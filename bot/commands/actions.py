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
from bot.reply.assistant import Assistant
from bot.reply.intent import said_by_a_person
from bot.text import plural
from bot.topics import clustering
from bot.topics.clustering import MIN_MESSAGES
from bot.topics.service import TopicService, TopicsResult
from bot.when.zones import query_window
from memory import Hit, Memory, Message
from memory.models import clean_text, iso

SEARCH_PAGE = 5  # hits per page of /search
SEARCH_LIMIT = 50  # pages end after this many hits
# /search leaves out hits whose (fused) score is under SEARCH_MIN_SCORE or under SEARCH_MIN_RELATIVE x the best
# hit's. Measured on LoCoMo-dev (760 answerable questions searched as /search does, all-MiniLM-L6-v2): every
# evidence turn of the top 10 stays (99.1% of the top 50), while "tyres" or "my bank PIN" in a chat that never
# spoke of them (best scores 0.16-0.30) find nothing instead of ten unrelated messages (README, "/search").
SEARCH_MIN_SCORE = 0.35
SEARCH_MIN_RELATIVE = 0.5
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
    floor: tuple[float, float] = (SEARCH_MIN_SCORE, SEARCH_MIN_RELATIVE)  # what counts as noise (above_floor)


def people_first(hits: list[Hit]) -> list[Hit]:
    """The hits best first by a score in which questions and the assistant's words count NOT_TOLD_WEIGHT of
    theirs (bot/reply/intent.py said_by_a_person): what people told about it leads; each hit shows that score."""
    weighed = [h if said_by_a_person(h.message) else replace(h, score=h.score * NOT_TOLD_WEIGHT) for h in hits]
    return sorted(weighed, key=lambda h: -h.score)


def above_floor(hits: list[Hit], min_score: float = SEARCH_MIN_SCORE,
                min_relative: float = SEARCH_MIN_RELATIVE) -> list[Hit]:
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
        raise UsageError("Usage: /search <what you are looking for> (a time works too: /search flat last week)")
    window = await query_window(memory, chat_id, query, time.time() if now is None else now, timezone)
    # Every page reads the same SEARCH_LIMIT hits: weighing them (people_first) may reorder them, never a page's.
    found = people_first(await memory.messages.search(
        chat_id, query, SEARCH_LIMIT, window=(window.start_ts, window.end_ts) if window else None,
        keyword_query=window.query if window else None))
    # Best first by score, so the floor only ever cuts the tail: every page of a search sees the same hits.
    hits = above_floor(found)
    shown = hits[page * page_size:(page + 1) * page_size]
    more = len(hits) > (page + 1) * page_size
    return SearchPage(query, shown, page * page_size + 1, page, more, window.label if window else None,
                      closest=found[0].score if found and not hits else None,
                      left_out=not more and len(found) > len(hits))


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
        raise UsageError("Usage: /compare <text A> | <text B>")
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
        raise UsageError("Usage: reply to a message with /forget, or /forget <words>, or /forget all")
    if query.lower() == "all":
        return ForgetRequest(everything=True, count=await memory.messages.count(chat_id))
    found = await memory.messages.matching(chat_id, query, FORGET_LIMIT)
    return ForgetRequest(everything=False, count=len(found), preview=found, ids=[m.id for m in found if m.id])


async def forget(memory: Memory, chat_id: int, request: ForgetRequest) -> int:
    """Carry out a confirmed request; returns the messages deleted."""
    if request.everything:
        return await memory.messages.forget_chat(chat_id)
    return await memory.messages.forget_ids(chat_id, request.ids)


# ----- /topics, /map, /timeline --------------------------------------------------------------------------------
TOPICS_SHOWN = 10  # topics listed by /topics (the largest)
TOPIC_PAGE = 5  # messages per page of a topic
TOPIC_DIGITS = 3  # /timeline 12 is topic 12; /timeline 2025 is the words "2025"


class NotEnoughMessages(EngramError):
    """Too few messages for topics, a map or a timeline; the message says how many there are."""


@dataclass
class TopicEntry:
    id: int
    label: str
    keywords: list[str]
    size: int
    first: float
    last: float
    examples: list[Message]


@dataclass
class TopicsReport:
    key: str  # names the cached result in buttons
    period: str
    messages: int
    noise: int
    fitted_on: int
    topics: list[TopicEntry]  # the largest TOPICS_SHOWN
    total_topics: int


@dataclass
class TopicPage:
    topic: TopicEntry
    messages: list[Message]
    first: int  # the number shown with the first message (1-based)
    page: int  # from 0
    more: bool
    pages: int


@dataclass
class Picture:
    png: bytes
    caption: str


async def period_window(memory: Memory, chat_id: int, text: str, *, timezone: str = "UTC",
                        now: float | None = None) -> tuple[tuple[float, float], str]:
    """The window of time a period names ('last week', 'in November', '2025', 'since March'), read in the chat's
    zone; the whole chat when `text` is empty."""
    text = clean_text(text).strip()
    if not text:
        return (0.0, float("inf")), "all time"
    at = time.time() if now is None else now
    window = await query_window(memory, chat_id, text, at, timezone)
    if window is None or window.query.strip():  # a bare "2025" or "November" reads as "in 2025"
        window = await query_window(memory, chat_id, f"in {text}", at, timezone)
    if window is None or window.query.strip():
        raise UsageError(f"I cannot read “{text[:60]}” as a period. Try: last week, in November, 2025, since March "
                         "(or nothing, for all time).")
    return (window.start_ts, window.end_ts), window.label


def _too_few(count: int, period: str) -> NotEnoughMessages:
    where = "in this chat so far" if period == "all time" else f"in this chat for {period}"
    return NotEnoughMessages(f"Only {plural(count, 'message')} {where} — topics need about {MIN_MESSAGES}.")


async def topics(service: TopicService, chat_id: int, period: str = "", *, timezone: str = "UTC",
                 now: float | None = None, shown: int | None = TOPICS_SHOWN) -> TopicsReport:
    """The chat's main topics in a period: label, keywords, size, date span and two representative messages."""
    window, label = await period_window(service.memory, chat_id, period, timezone=timezone, now=now)
    result = await service.topics(chat_id, window, label)
    if result.messages < MIN_MESSAGES:
        raise _too_few(result.messages, label)
    entries = [await _entry(service, result, t.id, examples=2) for t in result.model.topics[:shown]]
    return TopicsReport(result.key, label, result.messages, result.model.noise, result.model.fitted_on,
                        [e for e in entries if e is not None], len(result.model.topics))


async def _entry(service: TopicService, result: TopicsResult, topic_id: int, examples: int) -> TopicEntry | None:
    topic = result.topic(topic_id)
    if topic is None:
        return None
    times = result.times[topic.members]
    # Representatives: nearest the centre, one of each text (a chat repeats itself), forgotten ones left out.
    found = await service.memory.messages.messages_by_ids(result.chat_id,
                                                          result.ids[topic.members[:examples * 4]].tolist())
    distinct = list({m.text.lower(): m for m in reversed(found)}.values())[::-1]
    return TopicEntry(topic.id, topic.label, topic.keywords, topic.size, float(times.min()), float(times.max()),
                      distinct[:examples])


EXPIRED = "These topics have expired: send /topics again."
TOPIC_USAGE = "Usage: /topic N [page] — N is a topic's number in the last /topics (1 is the largest)."


def no_topics_yet() -> UsageError:
    return UsageError("No topics yet in this chat: send /topics first; then /topic N lists topic N's messages and "
                      "/timeline N draws its trend.")


def pages_of(size: int) -> int:
    """How many pages of TOPIC_PAGE messages a topic of `size` messages has."""
    return max(1, -(-size // TOPIC_PAGE))


def topic_of(result: TopicsResult, number: int) -> clustering.Topic:
    """Topic `number` of a result, or a UsageError saying which numbers there are."""
    topic = result.topic(number)
    if topic is not None:
        return topic
    count = len(result.model.topics)
    found = ("found no topics" if count == 0 else "found 1 topic: /topic 1" if count == 1
             else f"found {count} topics, numbered 1 to {count}")
    raise UsageError(f"There is no topic {number}: the last /topics ({result.period}) {found}.")


async def topic_page(service: TopicService, chat_id: int, key: str, topic_id: int, page: int = 0) -> TopicPage:
    """One page (from 0) of a topic's messages, nearest its centre first (a button under /topics)."""
    result = service.result(chat_id, key)
    if result is None:
        raise UsageError(EXPIRED)
    return await _topic_page(service, result, topic_id, page)


async def topic_command(service: TopicService, chat_id: int, text: str) -> TopicPage:
    """'/topic N [page]' (page from 1) of the chat's last /topics: the terminal's way to the buttons' pages."""
    words = [w.removeprefix("#") for w in clean_text(text).split()]
    if not 1 <= len(words) <= 2 or not all(w.isascii() and w.isdigit() and len(w) <= 19 for w in words):
        raise UsageError(TOPIC_USAGE)
    numbers = [int(w) for w in words]
    result = service.latest(chat_id)
    if result is None:
        raise no_topics_yet()
    page = numbers[1] - 1 if len(numbers) > 1 else 0
    return await _topic_page(service, result, numbers[0], page)


async def _topic_page(service: TopicService, result: TopicsResult, topic_id: int, page: int) -> TopicPage:
    topic = topic_of(result, topic_id)
    pages = pages_of(topic.size)
    if not 0 <= page < pages:
        raise UsageError(f"There is no page {page + 1} of topic {topic_id}: it has {plural(pages, 'page')} "
                         f"({plural(topic.size, 'message')}, {TOPIC_PAGE} a page).")
    entry = await _entry(service, result, topic_id, 0)
    assert entry is not None  # topic_of found it
    ids = result.ids[topic.members[page * TOPIC_PAGE:(page + 1) * TOPIC_PAGE]].tolist()
    shown = await service.memory.messages.messages_by_ids(result.chat_id, ids)
    return TopicPage(entry, shown, page * TOPIC_PAGE + 1, page, page + 1 < pages, pages)


async def topic_map(service: TopicService, chat_id: int, period: str = "", *, timezone: str = "UTC",
                    now: float | None = None) -> Picture:
    """The map of the chat's messages in a period, as a PNG, and its caption."""
    window, label = await period_window(service.memory, chat_id, period, timezone=timezone, now=now)
    count = (await service.memory.messages.window_state(chat_id, window)).count
    if count < MIN_MESSAGES:
        raise _too_few(count, label)
    png, caption = await service.map_png(chat_id, window, label)
    return Picture(png, caption)


async def timeline(service: TopicService, chat_id: int, what: str, *, timezone: str = "UTC") -> Picture:
    """How often a topic ('3', a number from /topics) or anything ('the flat') came up, per week or month."""
    what = clean_text(what).strip()
    if not what:
        raise UsageError("Usage: /timeline <topic number from /topics, or words> — e.g. /timeline 2, "
                         "/timeline holidays")
    digits = what.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= TOPIC_DIGITS:  # a topic's number ("2025" is words)
        result = service.latest(chat_id)
        if result is None:
            raise no_topics_yet()
        return await _topic_timeline(service, result, int(digits), timezone)
    counts = await service.query_timeline(chat_id, what, timezone)
    if not counts.matched:
        raise NotEnoughMessages(f"Nothing in this chat's memory is about “{what[:60]}”.")
    title = f"“{what[:50]}”: {plural(counts.matched, 'message')}, counted per {counts.unit}"
    return Picture(await service.timeline_png(counts, title), title)


async def topic_timeline(service: TopicService, chat_id: int, key: str, topic_id: int, *,
                         timezone: str = "UTC") -> Picture:
    """The trend of one topic of a /topics result (its button, or /timeline N)."""
    result = service.result(chat_id, key)
    if result is None:
        raise UsageError(EXPIRED)
    return await _topic_timeline(service, result, topic_id, timezone)


async def _topic_timeline(service: TopicService, result: TopicsResult, topic_id: int, timezone: str) -> Picture:
    topic = topic_of(result, topic_id)
    counts = await service.topic_timeline(result, topic.id, timezone)
    assert counts is not None  # topic_of found it
    title = (f"Topic {topic.id}, {topic.label}: {plural(counts.matched, 'message')} ({result.period}), "
             f"counted per {counts.unit}")
    return Picture(await service.timeline_png(counts, title), title)
