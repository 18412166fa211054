"""What the topic commands do, written once for every front end: /topics, /topic, /map and /timeline.

Plain data out (bot/commands/views.py renders it); the clustering itself runs in the TopicService's worker
(bot/topics/). A usage mistake raises bot.commands.actions.UsageError, as the other commands do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.actions import UsageError
from bot.errors import EngramError
from bot.i18n import N_, _, drawn_language, isolate, using
from bot.text import plural
from bot.topics import clustering
from bot.topics.clustering import MIN_MESSAGES
from bot.topics.service import Timeline, TopicService, TopicsResult
from bot.when.zones import query_window
from memory import Memory, Message
from memory.models import clean_text

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


# Periods a chat can give, in its language (tests/test_reminder_languages.py reads every catalogue's).
PERIOD_EXAMPLES = N_("last week, in November, 2025")
ALL_TIME = N_("all time")  # the period of a command given none
COUNTED = {"week": N_("counted per week"), "month": N_("counted per month")}  # a timeline's unit


async def period_window(memory: Memory, chat_id: int, text: str, *, timezone: str = "UTC",
                        now: float | None = None) -> tuple[tuple[float, float], str]:
    """The window of time a period names ('last week', 'in November', '2025', 'since March'), read in the chat's
    zone; the whole chat when `text` is empty."""
    text = clean_text(text).strip()
    if not text:
        return (0.0, float("inf")), _(ALL_TIME)
    at = time.time() if now is None else now
    window = await query_window(memory, chat_id, text, at, timezone)
    if window is None or window.query.strip():  # a bare "2025" or "November" reads as "in 2025"
        window = await query_window(memory, chat_id, f"in {text}", at, timezone)
    if window is None or window.query.strip():
        raise UsageError(_("I cannot read “{period}” as a period. Try: {examples} (or nothing, for all time).")
                         .format(period=text[:60], examples=_(PERIOD_EXAMPLES)))
    return (window.start_ts, window.end_ts), window.label


def _too_few(count: int, period: str) -> NotEnoughMessages:
    if period == _(ALL_TIME):
        said = _("Only {messages} in this chat so far — topics need about {n}.")
    else:
        said = _("Only {messages} in this chat for {period} — topics need about {n}.")
    return NotEnoughMessages(said.format(messages=plural(count, "message"), period=period, n=MIN_MESSAGES))


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


EXPIRED = N_("These topics have expired: send /topics again.")
TOPIC_USAGE = N_("Usage: /topic N [page] — N is a topic's number in the last /topics (1 is the largest).")


def no_topics_yet() -> UsageError:
    return UsageError(_("No topics yet in this chat: send /topics first; then /topic N lists topic N's messages "
                        "and /timeline N draws its trend."))


def pages_of(size: int) -> int:
    """How many pages of TOPIC_PAGE messages a topic of `size` messages has."""
    return max(1, -(-size // TOPIC_PAGE))


def topic_of(result: TopicsResult, number: int) -> clustering.Topic:
    """Topic `number` of a result, or a UsageError saying which numbers there are."""
    topic = result.topic(number)
    if topic is not None:
        return topic
    count = len(result.model.topics)
    if count == 0:
        said = _("There is no topic {number}: the last /topics ({period}) found no topics.")
    elif count == 1:
        said = _("There is no topic {number}: the last /topics ({period}) found 1 topic: /topic 1.")
    else:
        said = _("There is no topic {number}: the last /topics ({period}) found {count} topics, numbered 1 to "
                 "{count}.")
    raise UsageError(said.format(number=number, period=result.period, count=count))


async def topic_page(service: TopicService, chat_id: int, key: str, topic_id: int, page: int = 0) -> TopicPage:
    """One page (from 0) of a topic's messages, nearest its centre first (a button under /topics)."""
    result = service.result(chat_id, key)
    if result is None:
        raise UsageError(_(EXPIRED))
    return await _topic_page(service, result, topic_id, page)


async def topic_command(service: TopicService, chat_id: int, text: str) -> TopicPage:
    """'/topic N [page]' (page from 1) of the chat's last /topics: the terminal's way to the buttons' pages."""
    words = [w.removeprefix("#") for w in clean_text(text).split()]
    if not 1 <= len(words) <= 2 or not all(w.isascii() and w.isdigit() and len(w) <= 19 for w in words):
        raise UsageError(_(TOPIC_USAGE))
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
        raise UsageError(_("There is no page {page} of topic {id}: it has {pages} ({messages}, {n} a page).").format(
            page=page + 1, id=topic_id, pages=plural(pages, "page"), messages=plural(topic.size, "message"),
            n=TOPIC_PAGE))
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
        raise UsageError(_("Usage: /timeline <topic number from /topics, or words> — e.g. /timeline 2, "
                           "/timeline holidays"))
    digits = what.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= TOPIC_DIGITS:  # a topic's number ("2025" is words)
        result = service.latest(chat_id)
        if result is None:
            raise no_topics_yet()
        return await _topic_timeline(service, result, int(digits), timezone)
    counts = await service.query_timeline(chat_id, what, timezone)
    if not counts.matched:
        raise NotEnoughMessages(_("Nothing in this chat's memory is about “{what}”.").format(what=isolate(what[:60])))
    def title() -> str:
        return _("“{what}”: {messages}, {counted}").format(
            what=isolate(what[:50]), messages=plural(counts.matched, "message"), counted=_(COUNTED[counts.unit]))

    return await _timeline_picture(service, counts, title)


async def topic_timeline(service: TopicService, chat_id: int, key: str, topic_id: int, *,
                         timezone: str = "UTC") -> Picture:
    """The trend of one topic of a /topics result (its button, or /timeline N)."""
    result = service.result(chat_id, key)
    if result is None:
        raise UsageError(_(EXPIRED))
    return await _topic_timeline(service, result, topic_id, timezone)


async def _topic_timeline(service: TopicService, result: TopicsResult, topic_id: int, timezone: str) -> Picture:
    topic = topic_of(result, topic_id)
    counts = await service.topic_timeline(result, topic.id, timezone)
    assert counts is not None  # topic_of found it
    def title() -> str:
        return _("Topic {id}, {label}: {messages} ({period}), {counted}").format(
            id=topic.id, label=isolate(topic.label), messages=plural(counts.matched, "message"),
            period=result.period, counted=_(COUNTED[counts.unit]))

    return await _timeline_picture(service, counts, title)


async def _timeline_picture(service: TopicService, counts: Timeline, title: Callable[[], str]) -> Picture:
    """The chart, its title drawn in the chat's language unless it is written right to left (bot.i18n.drawn_language:
    English then), and the caption in the chat's language."""
    with using(drawn_language()):
        drawn = title()
    return Picture(await service.timeline_png(counts, drawn), title())
