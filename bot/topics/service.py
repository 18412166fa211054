"""Topics, maps and timelines of chats, cached: what /topics, /map and /timeline call (through bot/commands/actions.py).

A result is kept per chat and window of time (in process, the newest CACHE_SIZE): it stands until the window
has grown by GROWTH (at least GROWTH_MIN messages) or lost a message (forgotten messages must not linger in
keywords or examples). In process rather than in a table: a result is rebuilt in seconds, is only worth keeping
while a person is looking at it, and its arrays (labels, ids, times) are cheap in memory but not in SQL.

The work (seconds of numpy, numba, scikit-learn and matplotlib) runs in a worker process, one job at a time:
scikit-learn's HDBSCAN holds the GIL for whole calls (0.6 s at 5k messages, measured), which in a thread would
stall the event loop and every chat's replies with it; and the libraries' memory (numba, UMAP, matplotlib: ~250
MB) is the worker's, given back when it stops after IDLE_SECONDS unused. The worker reads the chat from the
database itself, a chunk of vectors at a time (memory.corpus.ChatReader): the bot's process never holds a chat's
vectors, and the worker only the sample it clusters or draws (at most 20,000). Two requests for the same topics
share one computation.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from bot.i18n import _, current, drawn_language, number, using
from bot.text import plural
from bot.topics import charts, clustering
from memory import Memory, WindowState
from memory.corpus import ChatReader
from memory.embedder import calibration

CACHE_SIZE = 16
GROWTH = 0.10  # recompute when the window holds 10% more messages than when computed …
GROWTH_MIN = 20  # … and at least this many more
MAP_POINTS = clustering.FIT_MAX  # the picture samples above this many messages (and says so)
WEEKS_UP_TO_DAYS = 180  # longer spans are counted per month
IDLE_SECONDS = 600.0  # the worker process stops after this long unused (it starts again in ~2 s)


@dataclass
class TopicsResult:
    key: str  # short and random: buttons name a result by it
    chat_id: int
    window: tuple[float, float]
    period: str  # "all time", "23-29 Nov", …
    model: clustering.TopicModel
    ids: np.ndarray  # row ids, the model's message order
    times: np.ndarray
    bot: np.ndarray  # True for the bot's own messages
    state: WindowState
    seconds: float  # what computing it took
    map: tuple[bytes, int] | None = None  # the map's PNG and the messages drawn, once made

    @property
    def messages(self) -> int:
        return len(self.ids)

    def topic(self, topic_id: int) -> clustering.Topic | None:
        return next((t for t in self.model.topics if t.id == topic_id), None)


@dataclass
class Timeline:
    buckets: list[str]
    counts: list[int]
    unit: str  # "week" or "month"
    matched: int


def _start_worker(cache_dir: str | None) -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if cache_dir:
        clustering.use_cache(cache_dir)


def warm_topics(cache_dir: str) -> None:
    """Compile the clustering code into `cache_dir` as the worker would (`./engram topics --warm`)."""
    _start_worker(cache_dir)
    clustering.warm()


class Worker:
    """Runs functions in one child process (spawned: a fork of a process with model threads is unsafe), started
    at the first call and stopped after `idle` seconds unused. `isolated=False` runs them in a thread instead
    (unit tests and benchmarks of the functions themselves)."""

    def __init__(self, cache_dir: str | None, *, isolated: bool = True, idle: float = IDLE_SECONDS):
        self.cache_dir, self.isolated, self.idle = cache_dir, isolated, idle
        self._pool: ProcessPoolExecutor | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._running = 0  # jobs in the worker now
        if not isolated:
            _start_worker(cache_dir)

    async def run(self, fn: Callable, *args, **kwargs):
        call = functools.partial(fn, *args, **kwargs)
        if not self.isolated:
            return await asyncio.to_thread(call)
        if self._timer is not None:
            self._timer.cancel()
        try:
            return await self._in_worker(call)
        except BrokenProcessPool:  # the worker had died (killed, out of memory; _in_worker let it go): once
            return await self._in_worker(call)  # more, in a new one
        finally:
            if self._pool is not None:
                self._timer = asyncio.get_running_loop().call_later(self.idle, self.stop)

    async def _in_worker(self, call: Callable):
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(self.cache_dir,))
        self._running += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, call)
        except BrokenProcessPool:
            self.stop()
            raise
        finally:
            self._running -= 1

    def pids(self) -> list[int]:
        """The worker's process ids (none when not running), for measuring its memory."""
        return list(self._pool._processes) if self._pool is not None else []

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pool is not None:
            processes = list(self._pool._processes.values())
            self._pool.shutdown(wait=False, cancel_futures=True)  # an idle worker exits by itself
            if self._running:  # a job still running is not waited for (the bot is stopping)
                for process in processes:
                    process.terminate()
            self._pool = None


class TopicService:
    def __init__(self, memory: Memory, cache_dir: str | None = None, *, isolated: bool = True):
        self.memory = memory
        self.worker = Worker(cache_dir, isolated=isolated)
        self._results: OrderedDict[tuple[int, tuple[float, float]], TopicsResult] = OrderedDict()
        self._work = asyncio.Lock()

    def stop(self) -> None:
        """Stop the worker process (it also stops by itself when idle)."""
        self.worker.stop()

    # ----- topics ----------------------------------------------------------------------------------------------
    async def topics(self, chat_id: int, window: tuple[float, float], period: str) -> TopicsResult:
        """The chat's topics in the window: cached while the window has not changed much."""
        async with self._work:  # a second request for the same topics waits for the first and finds it cached
            cached = self._results.get((chat_id, window))
            if cached is not None and await self._still_good(cached):
                self._results.move_to_end((chat_id, window))
                return cached
            # the worker reads the vectors stored: embed the pending ones first
            await self.memory.embeddings.flush(chat_id)
            started = time.perf_counter()
            model, ids, times, bot, state = await self.worker.run(chat_topics, str(self.memory.path), chat_id, window)
            result = TopicsResult(secrets.token_hex(4), chat_id, window, period, model, ids, times, bot, state,
                                  time.perf_counter() - started)
            self._results[(chat_id, window)] = result
            while len(self._results) > CACHE_SIZE:
                self._results.popitem(last=False)
            return result

    async def _still_good(self, result: TopicsResult) -> bool:
        now = await self.memory.messages.window_state(result.chat_id, result.window, result.state.max_id)
        grown = now.count - result.state.count
        if result.state.count < clustering.MIN_MESSAGES:  # "only 12 so far": the 13th changes the answer
            return grown == 0 and now.kept_upto == result.state.count
        return now.kept_upto == result.state.count and grown < max(GROWTH_MIN, GROWTH * result.state.count)

    def result(self, chat_id: int, key: str) -> TopicsResult | None:
        """A result still cached, by the key its buttons carry (None once it has left the cache)."""
        return next((r for r in self._results.values() if r.key == key and r.chat_id == chat_id), None)

    def latest(self, chat_id: int) -> TopicsResult | None:
        """The chat's most recently used result."""
        return next((r for r in reversed(self._results.values()) if r.chat_id == chat_id), None)

    # ----- the map ---------------------------------------------------------------------------------------------
    async def map_png(self, chat_id: int, window: tuple[float, float], period: str) -> tuple[bytes, str]:
        """The PNG of the chat's messages in 2-D coloured by topic, and its caption."""
        result = await self.topics(chat_id, window, period)
        async with self._work:
            if result.map is None:  # drawn once per result: while the topics stand, so does their picture
                topics = [charts.MapTopic(t.id, t.label, t.size) for t in result.model.topics]
                lang = drawn_language()
                with using(lang):  # a right-to-left chat's period cannot be drawn: the title goes without it
                    title = (_("What this chat talks about — {period}").format(period=result.period)
                             if lang == current() else _("What this chat talks about"))
                result.map = await self.worker.run(chat_map, str(self.memory.path), chat_id, window, result.ids,
                                                   result.model.labels, topics, title, result.model.noise, lang)
        png, shown = result.map
        return png, map_caption(result, shown)

    # ----- timelines -------------------------------------------------------------------------------------------
    async def topic_timeline(self, result: TopicsResult, topic_id: int, zone: str) -> Timeline | None:
        topic = result.topic(topic_id)
        if topic is None:
            return None
        return count_by_period(result.times[topic.members], zone)

    async def query_timeline(self, chat_id: int, query: str, zone: str) -> Timeline:
        """How often messages close to `query` (or containing all its words) came up, over the whole chat."""
        (vector,) = await self.memory.embeddings.embed_queries([query])
        times = await self.memory.messages.times_matching(
            chat_id, vector, calibration(self.memory.embedder).timeline_similarity, query.lower().split())
        return count_by_period(times, zone)

    async def timeline_png(self, timeline: Timeline, title: str) -> bytes:
        async with self._work:
            return await self.worker.run(draw_timeline, drawn_language(), timeline.buckets, timeline.counts, title,
                                         timeline.unit)


# (In the worker.) The neighbours of the last topics computed, by what they were computed from: the map of the same
# window draws the same sample (FIT_MAX = MAP_POINTS, one seed), so it needs no second neighbour search (the
# slowest step: 20,000 x 20,000 similarities).
_last_neighbours: dict[tuple, dict[str, Any]] = {}


def chat_topics(path: str, chat_id: int, window: tuple[float, float]
                ) -> tuple[clustering.TopicModel, np.ndarray, np.ndarray, np.ndarray, WindowState]:
    """(In the worker.) The topics of a chat's window, its vectors read from the database a chunk at a time, and
    the row ids, times, the bot's messages and the window's state they were computed from."""
    with ChatReader(path, chat_id, window) as chat:
        state, kept = chat.state(), dict[str, Any]()
        model = clustering.find_topics(chat, chat.texts(), kept=kept)
        _last_neighbours.clear()
        _last_neighbours[(path, chat_id, window, state)] = kept
        return model, chat.ids, chat.times, chat.bot, state


def draw_timeline(lang: str, buckets: list[str], counts: list[int], title: str, unit: str) -> bytes:
    """(In the worker.) The timeline's PNG, its words in `lang`."""
    with using(lang):
        return charts.timeline(buckets, counts, title=title, unit=unit)


def chat_map(path: str, chat_id: int, window: tuple[float, float], ids: np.ndarray, labels: np.ndarray,
             topics: list[charts.MapTopic], title: str, noise: int, lang: str = "en") -> tuple[bytes, int]:
    """(In the worker.) The map's PNG and how many messages it shows: a 2-D UMAP of at most MAP_POINTS of the
    window's messages (a random sample above), coloured by the topics `labels` gave the rows `ids`."""
    with ChatReader(path, chat_id, window) as chat:
        chosen = clustering.sample(len(chat), MAP_POINTS)
        vectors, drawn, bot = chat.take(chosen), chat.ids[chosen], chat.bot[chosen]
        total, kept = len(chat), _last_neighbours.get((path, chat_id, window, chat.state()), {})
    same = "fit" in kept and np.array_equal(kept["fit"], chosen)
    points = clustering.project(vectors, kept["knn"] if same else clustering.neighbours(vectors), 2)
    with using(lang):  # the words drawn: the chat's language (bot.i18n.drawn_language)
        note = map_note(len(topics), noise, len(chosen), total)
        png = charts.topic_map(points, labels_of(drawn, ids, labels), bot, topics, title=title, note=note)
    return png, len(chosen)


def labels_of(wanted: np.ndarray, ids: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The label of each row id in `wanted`, given the `labels` of rows `ids`; NOISE for ids not among them
    (messages stored since the topics were computed)."""
    out = np.full(len(wanted), clustering.NOISE, dtype=np.int64)
    if len(ids):
        order = np.argsort(ids)
        at = np.searchsorted(ids[order], wanted).clip(0, len(ids) - 1)
        found = ids[order][at] == wanted
        out[found] = labels[order][at][found]
    return out


def count_by_period(times: np.ndarray, zone: str) -> Timeline:
    """Messages per calendar week (Monday first) or, over more than WEEKS_UP_TO_DAYS, per month, in `zone`;
    every period from the first to the last is there, empty ones too."""
    if not len(times):
        return Timeline([], [], "week", 0)
    tz = ZoneInfo(zone)
    days = [datetime.fromtimestamp(float(t), tz=timezone.utc).astimezone(tz).date() for t in times]
    weekly = (max(days) - min(days)).days <= WEEKS_UP_TO_DAYS
    if weekly:
        starts = [d.toordinal() - d.weekday() for d in days]
        first, last = min(starts), max(starts)
        counts = np.bincount((np.array(starts) - first) // 7, minlength=(last - first) // 7 + 1)
        labels = [_bucket(datetime.fromordinal(first + 7 * i), "%d %b %Y", "dd MMM y") for i in range(len(counts))]
        return Timeline(labels, counts.tolist(), "week", len(times))
    months = [d.year * 12 + d.month - 1 for d in days]
    first_m, last_m = min(months), max(months)
    counts = np.bincount(np.array(months) - first_m, minlength=last_m - first_m + 1)
    labels = [_bucket(datetime(m // 12, m % 12 + 1, 1), "%b %Y", "LLL y") for m in range(first_m, last_m + 1)]
    return Timeline(labels, counts.tolist(), "month", len(times))


def _bucket(day: datetime, english: str, cldr: str) -> str:
    """A timeline's bar label in the language its words are drawn in ('Nov 2026', 'нояб. 2026')."""
    lang = drawn_language()
    if lang == "en":
        return day.strftime(english)
    from babel.dates import format_date

    return format_date(day.date(), cldr, locale=lang)


def map_note(topics: int, noise: int, shown: int, total: int) -> str:
    sampled = ("; " + _("{shown} of {messages} drawn (a random sample)").format(
        shown=number(shown), messages=plural(total, "message"))) if shown < total else ""
    return _("{messages}, {topics}, {noise} without a topic (grey){sampled}. Near = similar in meaning.").format(
        messages=plural(total, "message"), topics=plural(topics, "topic"), noise=number(noise), sampled=sampled)


def map_caption(result: TopicsResult, shown: int) -> str:
    """The map's caption, in the chat's language (what is drawn in the picture stays English: matplotlib cannot
    write right-to-left scripts)."""
    sampled = " " + _("({n} drawn, a random sample)").format(n=number(shown)) if shown < result.messages else ""
    return _("Map of this chat's memory — {period}: {messages}{sampled}, {topics}; each point is a message, close "
             "points are close in meaning; circles are people, triangles are Engram.").format(
        period=result.period, messages=plural(result.messages, "message"), sampled=sampled,
        topics=plural(len(result.model.topics), "topic"))
