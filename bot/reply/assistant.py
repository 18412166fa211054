"""The one place where memory, prompt and language model meet.

A reply is a value the front end drives, in three visible hops:

    reply = await assistant.answer(message)      # the message is stored at once; None: it joined a waiting reply
    async for chunk in assistant.stream(reply):  # its turn, recall, plan, prompt, the model's text
        show(chunk)
    await assistant.keep(reply, message_id)      # the finished reply stored, with the front end's id for it

A cancelled or failed reply never reaches `keep` (and `keep` refuses one that did not finish), so nothing is
stored of half a reply. Front ends (Telegram handlers, the terminal chat) only talk to this class.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot.config import AssistantConfig, BusyPolicy, RecallConfig
from bot.errors import GenerationCancelled
from bot.i18n import current
from bot.llm.base import LLM, GenerationSettings
from bot.reply import citation
from bot.reply.dating import TimeResolver, when_said
from bot.reply.fallback import nothing_left, unsure_but_told
from bot.reply.filter import ReplyFilter
from bot.reply.gather import (
    MAX_ITEMS,
    NUDGES,
    Ask,
    Gather,
    about_me,
    asked,
    breaks,
    distinct,
    excluded,
    fallback_idea,
    is_request,
    listing,
    preferences,
    safe_framing,
    unfit,
)
from bot.reply.grounding import Grounding
from bot.reply.intent import Intent, classify, said_by_a_person, tells
from bot.reply.persons import PersonSwap
from bot.reply.plan import ReplyPlan, plan_reply, relevant
from bot.reply.prompt import Prompt, build_prompt, demo_turns, format_day
from bot.reply.updates import Preference, vocabulary
from bot.when.mentions import Span, about_the_past, days_spoken_of, span_label
from bot.when.zones import DATING_BATCH, chat_timezone, date_messages, query_window
from memory import Hit, Memory, Message
from memory.messages import DAYS
from memory.models import ACKNOWLEDGEMENT, ACTION

log = logging.getLogger(__name__)

BOT_NAME = "Engram"
ADDRESSED = "addressed"  # meta flag of a message the assistant was asked to answer (private chat, mention, reply)
MAX_BURST = 20  # messages of one burst put in the prompt (all of them stay in memory)
MAX_BURST_QUERY = 4  # messages of one burst whose words make the recall query
SUGGESTION_TRIES = 3  # a suggestion that names what the asker ruled out is written again, then framed safely
PROFILE_MEMORIES = 4  # of the asker's preferences and constraints shown with a request for a suggestion


@dataclass
class Timings:
    """Latencies since start, for /stats (seconds; the last 1000 of each)."""

    first_token: list[float] = field(default_factory=list)
    generation: list[float] = field(default_factory=list)

    def add(self, series: list[float], value: float) -> None:
        series.append(value)
        del series[:-1000]


class Outcome(enum.Enum):
    """Where a reply stands. Only a DONE reply can be kept (stored)."""

    WAITING = "waiting"  # for its turn: messages of its chat that arrive meanwhile join it
    WRITING = "writing"  # its turn came: recalled, planned, being written
    DONE = "done"  # written to the end (its text may be empty: then there is nothing to keep)
    CANCELLED = "cancelled"
    FAILED = "failed"
    KEPT = "kept"  # stored in memory


class Reply:
    """A reply to one or more messages of a chat: what it answers, what it was made from, its text so far.

    Until its turn to be written comes, messages that arrive in its chat join it (`messages`): a burst gets one
    reply, to its last message, that takes them all into account. It holds no reference to the assistant:
    `Assistant.stream(reply)` writes it, `Assistant.keep(reply, message_id)` stores it.
    """

    def __init__(self, message: Message):
        self.messages = [message]  # the stored messages it answers, oldest first
        self.started = asyncio.Event()  # set when its turn comes: from then on it is being prepared and written
        self.cancel_event = asyncio.Event()
        self.recalled: list[Hit] = []  # the memories the reply was made from (/why)
        self.preference: Preference | None = None  # of those answering the same question, the one preferred (/why)
        self.citation: Hit | None = None  # the memory it cites (assistant.citations: true), set when it is done
        self.prompt: Prompt | None = None
        self.text = ""
        self.kind: str | None = None  # what kind of reply it is, kept as meta "kind" (ACKNOWLEDGEMENT: not evidence)
        self.outcome = Outcome.WAITING
        self.stored: Message | None = None  # the reply as kept in memory

    @property
    def message(self) -> Message:
        """The message it replies to: the last of its chat when its turn came."""
        return self.messages[-1]

    @property
    def chat_id(self) -> int:
        return self.messages[0].chat_id

    def cancel(self) -> None:
        self.cancel_event.set()


class Assistant:
    """Replies for every front end. Its settings are the config's sections (bot/config.py holds the defaults)."""

    def __init__(
        self,
        memory: Memory,
        llm: LLM,
        *,
        recall: RecallConfig,
        assistant: AssistantConfig,
        settings: GenerationSettings,
        timezone: str = "UTC",
        model_languages: Sequence[str] = ("en",),
    ):
        self.memory = memory
        self.llm = llm
        self.recall = recall
        self.config = assistant
        self.settings = settings
        self.timezone = timezone  # a chat's default zone (reminders.timezone): "last week" is read in it
        self.model_languages = tuple(model_languages)  # llm.languages: what the model writes ("any": everything)
        self.timings = Timings()
        self._chat_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Generations at once (one on a CPU model); waiters are served first come, first served, so chats take
        # turns: a chat's next reply queues behind the other chats' replies.
        self._generating = asyncio.Semaphore(assistant.parallel_replies)
        self._waiting: dict[int, Reply] = {}  # per chat: the reply whose turn has not come yet
        self._active: dict[int, Reply] = {}  # per chat: the reply being prepared or written
        self._arriving = 0  # messages being stored before they get (or join) a reply
        self._last_recall: dict[int, list[Hit]] = {}
        self._last_preference: dict[int, Preference | None] = {}
        self._examples = demo_turns()
        self._request_examples = demo_turns(request=True)
        self._dated_upto = 0  # row id up to which people's messages have had their days read
        self._dating = asyncio.Lock()
        self._dating_task: asyncio.Task | None = None

    @property
    def busy(self) -> bool:
        """A message for the assistant is being stored, or its reply is waiting for its turn or being written
        (background work such as an import waits for this)."""
        return bool(self._arriving or self._waiting or self._active)

    @property
    def writing(self) -> bool:
        """A reply is being prepared or written now (CPU work in the background, a transcription, yields to it).
        Read from other threads too: a dict's truth is safe to read there."""
        return bool(self._active)

    # ----- storing without replying ----------------------------------------------------------------------------
    async def remember(self, message: Message) -> Message:
        return await self.memory.messages.remember(await self._with_days(message))

    async def _with_days(self, message: Message) -> Message:
        """A person's message with the days it speaks of (meta "days", bot/when/mentions.py), read in the chat's
        zone as of when it was said: stored with it, so "What's on my schedule this week?" finds it at once."""
        if message.role != "user" or DAYS in (message.meta or {}):
            return message
        tz = await chat_timezone(self.memory, message.chat_id, self.timezone)
        days = [list(span) for span in days_spoken_of(message.text, message.created_at, tz)]
        return replace(message, meta={**(message.meta or {}), DAYS: days})

    async def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None) -> Message | None:
        edited = await self.memory.messages.edit(chat_id, message_id, text, edited_at)
        if edited is not None and edited.role == "user":  # the days it speaks of, read from the new text
            tz = await chat_timezone(self.memory, chat_id, self.timezone)
            await self.memory.messages.set_days([(edited.rowid, days_spoken_of(edited.text, edited.created_at, tz))])
        return edited

    async def fill(self, chat_id: int, message_id: int, text: str, meta: dict | None) -> Message | None:
        """A voice message's transcript or a picture's text written into its stored message, with the days it
        speaks of read from it (as edit does): "dentist on Tuesday at 10" said in a voice note is on the schedule."""
        filled = await self.memory.messages.fill(chat_id, message_id, text, meta)
        if filled is not None and filled.role == "user":
            tz = await chat_timezone(self.memory, chat_id, self.timezone)
            spans = days_spoken_of(filled.text, filled.created_at, tz)
            await self.memory.messages.set_days([(filled.rowid, spans)])
            filled = replace(filled, meta={**(filled.meta or {}), DAYS: [list(span) for span in spans]})
        return filled

    # ----- the days messages speak of ----------------------------------------------------------------------------
    async def date_new(self, limit: int | None = None) -> int:
        """Read the days people's messages speak of ("on Tuesday at 10" → that Tuesday, bot/when/mentions.py) for
        every message stored without them since the last time (by other paths: imports, the terminal's plain
        lines, an older database's whole history); at most `limit` messages. A batch at a time, so a reply's
        own messages (dated as they are stored) never wait for a long pass. Returns how many."""
        done = 0
        while limit is None or done < limit:
            async with self._dating:
                count, self._dated_upto = await date_messages(self.memory, self.timezone, self._dated_upto,
                                                              DATING_BATCH)
            if not count:
                break
            done += count
        return done

    def date_in_background(self) -> asyncio.Task:
        """Read the days of everything stored without them (an upgraded database, an import) without holding up
        a reply or the start; one pass at a time."""
        if self._dating_task is None or self._dating_task.done():
            self._dating_task = asyncio.create_task(self._date_quietly())
        return self._dating_task

    async def _date_quietly(self) -> int:
        try:
            return await self.date_new()
        except Exception:  # the memory closing under it (shutdown): the next start reads the rest
            log.warning("reading the days of stored messages stopped", exc_info=True)
            return 0

    # ----- replying ----------------------------------------------------------------------------------------------
    async def answer(self, message: Message) -> Reply | None:
        """Store a message meant for the assistant; return the Reply to stream, or None when the message joined
        a reply of its chat that is still waiting for its turn (that reply will answer it)."""
        message = replace(message, meta={**(message.meta or {}), ADDRESSED: True})
        self._arriving += 1  # busy from now on: an import stops taking the model for itself while it is stored
        try:
            stored = await self.memory.messages.remember(await self._with_days(message))
        finally:
            self._arriving -= 1
        chat_id = stored.chat_id
        waiting = self._waiting.get(chat_id)
        if waiting is not None and not waiting.cancel_event.is_set():
            waiting.messages.append(stored)
            return None
        reply = Reply(stored)
        active = self._active.get(chat_id)
        if active is not None and self.config.busy_policy is BusyPolicy.CANCEL:
            active.cancel()  # cut short and started again, with the messages it was answering
            reply.messages[:0] = active.messages
        self._waiting[chat_id] = reply
        return reply

    async def stream(self, reply: Reply) -> AsyncGenerator[str, None]:
        """Write the reply when its turn comes, chunk by chunk (`reply.text` holds what came so far).

        One reply of a chat at a time, and `assistant.parallel_replies` generations at once: chats take turns.
        Raises GenerationCancelled when the reply is cancelled (a newer message, shutdown), LLMError when the
        model fails; either way the reply is not kept."""
        chat_id = reply.chat_id
        async with self._chat_locks[chat_id], self._generating:
            if self._waiting.get(chat_id) is reply:
                del self._waiting[chat_id]  # from now on, new messages of the chat get a reply of their own
            if reply.cancel_event.is_set():
                reply.outcome = Outcome.CANCELLED
                raise GenerationCancelled("The reply was cancelled.")
            self._active[chat_id] = reply
            reply.outcome = Outcome.WRITING
            reply.started.set()
            try:
                async for chunk in self._write(reply):
                    yield chunk
            except GenerationCancelled:
                reply.outcome = Outcome.CANCELLED
                raise
            except BaseException:
                reply.outcome = Outcome.FAILED
                raise
            finally:
                if self._active.get(chat_id) is reply:
                    del self._active[chat_id]
        reply.outcome = Outcome.DONE

    async def keep(self, reply: Reply, message_id: int | None = None) -> Message | None:
        """Store a finished reply, with the id the front end gave the message showing it (a new id in this chat
        when it has none). Nothing is stored for an empty reply; a reply that did not finish is refused."""
        if reply.outcome is Outcome.KEPT:
            return reply.stored
        if reply.outcome is not Outcome.DONE:
            raise ValueError(f"only a finished reply is kept, not a {reply.outcome.value} one")
        if not reply.text:
            return None
        chat_id = reply.chat_id
        reply.stored = await self.memory.messages.remember(
            Message(
                chat_id=chat_id,
                message_id=message_id if message_id is not None else await self.next_message_id(chat_id),
                text=reply.text, role="assistant", sender_name=BOT_NAME, reply_to=reply.message.message_id,
                meta={"kind": reply.kind} if reply.kind else None,
            )
        )
        reply.outcome = Outcome.KEPT
        return reply.stored

    def cancel_all(self) -> None:
        """Cancel every reply waiting for its turn or being written (shutdown): each ends as CANCELLED."""
        for reply in [*self._waiting.values(), *self._active.values()]:
            reply.cancel()
        if self._dating_task is not None:
            self._dating_task.cancel()

    async def _write(self, reply: Reply) -> AsyncIterator[str]:
        message = reply.message
        chat_id = message.chat_id
        self.date_in_background()  # what other paths stored since (an import…) gets its days, without waiting
        burst = reply.messages[-MAX_BURST:-1]  # earlier messages of a burst: turns right before the last one
        answering = {m.rowid for m in reply.messages}
        since = (await self.memory.messages.chat_settings(chat_id))["context_since"]
        turns = self.recall.recent_turns
        recent = [m for m in await self.memory.messages.recent(chat_id, turns + len(answering), since)
                  if m.rowid not in answering]
        recent = (recent[-turns:] if turns else []) + burst
        earlier = [m.text for m in burst[-(MAX_BURST_QUERY - 1):]]
        # "what did I say last week about the flat": last week is a window (a boost in recall), not keywords
        window = await query_window(self.memory, chat_id, message.text, message.created_at, self.timezone)
        # "Where do I live?" and "I moved to Madrid" share no word: a question about a fact that changes (where
        # someone lives, works…) adds its slot's words to the keyword side (bot/reply/updates.py)
        slot_words = vocabulary(message.text, message)
        hits = await self.memory.messages.recall(
            chat_id, " ".join([*earlier, message.text]), 2 * self.recall.k,
            exclude_ids=[*answering, *(m.rowid for m in recent)],
            window=(window.start_ts, window.end_ts) if window else None,
            keyword_query=" ".join([*earlier, window.query if window else message.text, slot_words])
            if window or slot_words else None,
        )
        # What people told is the evidence: never an earlier question, nor the assistant's own words (recall
        # already leaves its acknowledgements out; its other replies stay in the prompt's recent turns).
        hits = [h for h in hits if said_by_a_person(h.message)]
        hits = await self._speaking_of_asked_days(message, hits, answering)
        language = current()  # the chat's, chosen by the front end (bot/i18n.py)
        writes = "any" in self.model_languages or language in self.model_languages
        ask = asked(message.text) if gathers(message.text) else None
        plan = await self._gathered(message, ask, hits, answering) if ask is not None else None
        if plan is None:
            plan = plan_reply(message.text, select_memories(hits, self.recall), statements=self.config.statements,
                              recalled=hits, asker=message.sender_name, message=message,
                              context=[Hit(m, 0.0) for m in recent if said_by_a_person(m)], model_writes=writes,
                              request=is_request(message.text))
        if plan.request:
            await self._with_profile(plan, message, hits)
        if plan.intent is Intent.STATEMENT and plan.answer is not None:
            reply.kind = ACKNOWLEDGEMENT  # said back without the model: kept, exported, never recalled
        if plan.intent is Intent.ACTION:
            reply.kind = ACTION  # how to do what was asked (a front end without bot/commands/requests.py)
        superseded = plan.preference.earlier if plan.preference else []
        reply.recalled = [*plan.memories, *(h for h in superseded if all(h is not m for m in plan.memories))]
        reply.preference = plan.preference
        self._last_recall[chat_id] = reply.recalled
        self._last_preference[chat_id] = reply.preference
        started = time.perf_counter()
        if plan.answer is not None:  # decided without the model: more honest than anything it would invent
            self.timings.add(self.timings.first_token, time.perf_counter() - started)
            reply.text = plan.answer
            yield plan.answer
        else:
            async for chunk in self._stream(reply, plan, recent, started):
                yield chunk
        self.timings.add(self.timings.generation, time.perf_counter() - started)
        reply.text = reply.text.strip()
        if not reply.text:  # the filters left nothing (the model only said the question back, a label…)
            reply.text = nothing_left(plan)
            yield reply.text
        elif (tail := unsure_but_told(reply.text, plan, message.text)) is not None:  # "I'm not sure." with the
            reply.text += tail  # note that answers it shown: what memory has, after it
            yield tail
        if reply.text and self.config.citations:
            reply.citation = citation.choose(reply.text, plan.memories, plan.source, plan.answer is not None,
                                             question=message.text)

    async def _speaking_of_asked_days(self, message: Message, hits: list[Hit], answering: set[int]) -> list[Hit]:
        """A question that names days ("is the dentist tomorrow?", "what's happening in May?") also finds the
        memories that speak of them, whenever they were said: recall's window looks at when a message was written,
        this at the days it is about. They join the hits as strong as the best one (recall's order otherwise)."""
        if classify(message.text) not in (Intent.QUESTION, Intent.SELF_QUESTION):
            return hits
        tz = await chat_timezone(self.memory, message.chat_id, self.timezone)
        spans = days_spoken_of(message.text, message.created_at, tz)
        if not spans:
            return hits
        have = {h.message.rowid for h in hits} | answering
        best = max((h.score for h in hits), default=1.0)
        extra = [Hit(m, best) for m in await self.memory.messages.speaking_of(message.chat_id, *spans[0], limit=10)
                 if m.rowid not in have and said_by_a_person(m)]
        return [*extra, *hits] if extra else hits

    async def _gathered(self, message: Message, ask: Ask, hits: list[Hit], answering: set[int]
                        ) -> ReplyPlan | None:
        """The answer to a gathering question (bot/reply/gather.py): a list from memory, each item with its date,
        without the model; None when it is asked about something memory holds nothing of (the question is then
        answered as any other)."""
        chat_id, at = message.chat_id, message.created_at
        tz = await chat_timezone(self.memory, chat_id, self.timezone)
        mine = [m for m in await self.memory.messages.told_by(chat_id, message.sender_id, message.sender_name)
                if m.rowid not in answering]

        def day(ts: float) -> str:
            return span_label((ts, ts + 1), tz)

        items: list[tuple[str, Message]]
        if ask.kind is Gather.SCHEDULE:
            window, label = self._schedule_window(message.text, at, tz)
            found = [m for m in await self.memory.messages.speaking_of(chat_id, *window, limit=4 * MAX_ITEMS)
                     if m.rowid not in answering and said_by_a_person(m)]
            found = distinct(found)
            items = [(span_label(_first_within(m, window), tz), m) for m in found]
            if not items:
                answer = f"You haven't told me of anything planned for {label}."
                return ReplyPlan(Intent.SELF_QUESTION, answer=answer)
            whose = "you've told me" if chat_id >= 0 else "was said here"  # a group's plans are several people's
            header = f"Here's what {whose} is planned for {label}:"
        elif ask.kind is Gather.TALKED:
            spoken = await query_window(self.memory, chat_id, message.text, at, self.timezone)
            start, end = (spoken.start_ts, spoken.end_ts) if spoken else (at - 7 * 86400.0, at + 1)
            label = spoken.label if spoken else "the past week"
            found = [m for m in await self.memory.messages.said_between(chat_id, start, end, limit=4 * MAX_ITEMS)
                     if m.rowid not in answering and m.role == "user" and classify(m.text) is not Intent.GREETING]
            found = distinct(found)
            items = [(f"{day(m.created_at)}, {_clock(m.created_at, tz)}", m) for m in found]
            if not items:
                return ReplyPlan(Intent.SELF_QUESTION, answer=f"We haven't talked about anything in {label} that "
                                                               "I remember.")
            header = f"Here's what we talked about ({label}):"
        elif ask.kind is Gather.ABOUT_ME:
            found = distinct(about_me(mine))
            if not found:
                return ReplyPlan(Intent.SELF_QUESTION, answer="You haven't told me anything about yourself yet.")
            items = [(day(m.created_at), m) for m in found]
            header = "Here's what you've told me about yourself:"
        else:
            told = {h.message.rowid: h.message for h in relevant(ask.topic, hits)}
            for m in await self.memory.messages.matching(chat_id, ask.topic, limit=4 * MAX_ITEMS):
                if said_by_a_person(m) and m.rowid not in answering:
                    told.setdefault(m.rowid, m)
            found = distinct(sorted(told.values(), key=lambda m: -m.created_at))
            if not found:
                return None
            items = [(day(m.created_at), m) for m in found]
            header = f"Here's what I have about {ask.topic}:"
        shown = items[:MAX_ITEMS] if ask.kind is Gather.SCHEDULE else sorted(
            items[:MAX_ITEMS], key=lambda item: item[1].created_at)
        answer = listing(header, shown, message, more=len(items) - len(shown))
        return ReplyPlan(Intent.SELF_QUESTION, memories=[Hit(m, 1.0) for _, m in shown], answer=answer)

    @staticmethod
    def _schedule_window(text: str, at: float, tz: str) -> tuple[Span, str]:
        """The days a schedule question asks about, and their label: the first it names ("this week", "tomorrow",
        "in May"), else the coming 30 days. A span that holds today starts today, unless the question is about
        the past ("what did I have on this week?"), and a week then runs 7 days ("this week" asked on a Sunday
        means the days ahead, as people mean it)."""
        spans = days_spoken_of(text, at, tz)
        if not spans:  # "what does my week look like?": this one
            unit = re.search(r"\bmy (day|week|weekend|month)\b", text, re.I)
            spans = days_spoken_of({"day": "today"}.get(unit[1].lower(), f"this {unit[1]}"), at, tz) if unit else []
        today = days_spoken_of("today", at, tz)[0]
        if not spans:
            window = (today[0], today[0] + 30 * 86400.0)
            return window, f"the next 30 days ({span_label(window, tz)})"
        start, end = spans[0]
        if start <= at < end and not about_the_past(text):  # "this week": from today on, past days are done
            start = today[0]
            if end - start < 7 * 86400.0 and spans[0][1] - spans[0][0] >= 6 * 86400.0:
                end = days_spoken_of("in 7 days", at, tz)[0][0]
        return (start, end), span_label((start, end), tz)

    async def _with_profile(self, plan: ReplyPlan, message: Message, hits: list[Hit]) -> None:
        """A request for a suggestion: the asker's preferences, constraints and circumstances join the memories
        shown (the newest first), and what their constraints rule out is what the reply is checked against."""
        told = await self.memory.messages.told_by(message.chat_id, message.sender_id, message.sender_name)
        profile = distinct(preferences(m for m in told if m.rowid != message.rowid))[:PROFILE_MEMORIES]
        ids = {m.rowid for m in profile}
        plan.memories = [*(h for h in plan.memories if h.message.rowid not in ids),
                         *(Hit(m, 1.0) for m in reversed(profile))][-self.recall.k:]
        plan.ruled = excluded(h.message for h in plan.memories)

    async def _stream(self, reply: Reply, plan: ReplyPlan, recent: list[Message], started: float
                      ) -> AsyncIterator[str]:
        """The model's reply; a suggestion bound by constraints is written whole and checked first (_checked)."""
        if not plan.request:
            async for chunk in self._generate(reply, plan, recent, started, self.settings):
                yield chunk
            return
        text = await self._checked(reply, plan, recent, started)
        reply.text = text
        yield text

    async def _checked(self, reply: Reply, plan: ReplyPlan, recent: list[Message], started: float) -> str:
        """A suggestion, written whole and checked (bot/reply/gather.py unfit). One that names what the asker's
        constraints rule out ("I'm vegetarian" → no meat, no fish), declines, asks back, or says the request or a
        note back is written again (greedy, so the same conversation gets the same reply), nudged to name
        something, and without the note naming what was ruled out when it named it. (SmolLM2-135M offered a
        vegetarian "chicken stir-fry", answered "I'm not sure what to suggest.", said "You're vegetarian." back.)
        One that offers the same idea twice or names nothing of its own ("Try a vegan dinner, or a vegan dinner.")
        is written again too. When every try failed, a meal gets an idea checked against the same constraints
        (gather.fallback_idea), any other request a safe framing that says what the idea has to fit."""
        hint, shown = "", plan
        for attempt in range(SUGGESTION_TRIES):
            reply.text = ""
            async for _chunk in self._generate(reply, shown, recent, started, self.settings, hint):
                pass
            fault = unfit(reply.text, plan.ruled, [h.message.text for h in plan.memories], reply.message.text + hint)
            if fault is None:
                return reply.text
            log.info("suggestion try %d: %s: %r", attempt + 1, fault, reply.text)
            if breaks(reply.text, plan.ruled):
                # A small model copies the words it is shown: the next try is not shown the note that names what
                # is ruled out (the check above still holds it to the note).
                shown = replace(plan, memories=[h for h in plan.memories if h.message.text not in plan.ruled])
            hint = NUDGES[min(attempt, len(NUDGES) - 1)]
        notes = [h.message.text for h in plan.memories]
        return fallback_idea(reply.message.text, plan.ruled, notes) or safe_framing(plan.ruled)

    async def _generate(self, reply: Reply, plan: ReplyPlan, recent: list[Message], started: float,
                        base: GenerationSettings, hint: str = "") -> AsyncIterator[str]:
        """The model's reply, through the echo filter (bot/reply/filter.py); `hint` follows the message in the
        prompt only."""
        message = reply.message
        settings = replace(base, max_new_tokens=min(base.max_new_tokens, plan.max_new_tokens))
        budget = max(self.llm.context_window - settings.max_new_tokens, 64)
        # Trimming to the budget counts tokens with the model's tokenizer: a few milliseconds, off the event loop.
        reply.prompt = await asyncio.to_thread(
            build_prompt, self.config.system_prompt, plan.memories if plan.shown is None else plan.shown, recent,
            replace(message, text=message.text + hint) if hint else message, self.llm.count_tokens, budget,
            now=message.created_at, with_names=message.chat_id < 0, request=plan.request, language=current(),
            examples=self._request_examples if plan.request else self._examples,
        )
        names = {m.sender_name for m in [*recent, *reply.messages, *(h.message for h in plan.memories)]}
        asked = message.text if plan.intent in (Intent.QUESTION, Intent.SELF_QUESTION) else ""  # "Good night!" may
        echo = ReplyFilter(names, self.config.max_sentences, question=asked)  # be said back, a question not
        persons = PersonSwap(plan.memories, message)  # "My dog is Rex." copied from the asker's memory: "Your…"
        times = TimeResolver(plan.memories, format_day, message.text, now=message.created_at)
        # An answer from memory copies the memory's values (a number, a name, a code), not near misses of them.
        grounding = Grounding([h.message.text for h in plan.memories if h.message.role == "user"],
                              [m["content"] for m in reply.prompt.messages] + [n for n in names if n],
                              lang=current()) if plan.memories and not plan.request else None
        first = True
        stream = self.llm.stream(reply.prompt.messages, settings, reply.cancel_event)
        try:
            async for chunk in stream:
                if first:
                    self.timings.add(self.timings.first_token, time.perf_counter() - started)
                    first = False
                text = echo.feed(chunk)
                text = times.feed(persons.feed(grounding.feed(text) if grounding else text))
                if text:
                    reply.text += text
                    yield text
                if echo.stopped:
                    break
        finally:
            close = getattr(stream, "aclose", None)  # stops the generation now, not when garbage is collected
            if close is not None:
                await close()
        held = echo.finish()
        if grounding is not None:
            held = grounding.feed(held) + grounding.finish()
            if grounding.fixed:
                log.info("values set right from memory: %s", grounding.fixed)
        tail = times.feed(persons.feed(held) + persons.finish()) + times.finish()
        if plan.memories:
            tail += when_said(reply.text + tail, plan.memories, format_day, message.text, now=message.created_at) or ""
        if tail:
            reply.text += tail
            yield tail

    async def warm_up(self) -> bool:
        """Run the prompt's fixed part (system prompt and worked examples, ~480 tokens) through a model that keeps
        a prefix cache, once at start: the first reply then finds it cached, as every later one does (first token
        ~0.2 s instead of ~0.7-0.8 s, docs/BENCHMARKS.md). Nothing is stored; a failure only costs that speed-up."""
        if not getattr(self.llm, "use_prefix_cache", False):
            return False
        hello = Message(chat_id=0, message_id=0, text="Hello!", created_at=time.time())
        try:
            prompt = await asyncio.to_thread(build_prompt, self.config.system_prompt, [], [], hello,
                                             self.llm.count_tokens, self.llm.context_window, now=hello.created_at,
                                             examples=self._examples)
            async with self._generating:  # a reply that comes meanwhile waits for this one token, not longer
                async for _chunk in self.llm.stream(prompt.messages, replace(self.settings, max_new_tokens=1),
                                                    asyncio.Event()):
                    pass
        except Exception:
            log.warning("warming the model's prefix cache failed", exc_info=True)
            return False
        return True

    async def reply_text(self, message: Message) -> Reply:
        """Answer, write and keep a whole reply (for tests and tools: one message at a time)."""
        reply = await self.answer(message)
        if reply is None:
            raise RuntimeError("a reply in this chat is still waiting for its turn: use answer() for bursts")
        async for _chunk in self.stream(reply):
            pass
        await self.keep(reply)
        return reply

    # ----- what the front ends show ------------------------------------------------------------------------------
    def last_recall(self, chat_id: int) -> list[Hit]:
        """What was recalled for the last reply in this chat (for /why)."""
        return self._last_recall.get(chat_id, [])

    def last_preference(self, chat_id: int) -> Preference | None:
        """Of the memories recalled for the last reply that answer the same question, the one preferred and why
        (a fact that changed: bot/reply/updates.py), for /why; None when no memory was preferred over another."""
        return self._last_preference.get(chat_id)

    async def reset(self, chat_id: int) -> None:
        """Start a fresh short-term context: recent turns before now leave the prompt; memory stays."""
        await self.memory.messages.set_chat_setting(chat_id, context_since=time.time())

    async def next_message_id(self, chat_id: int) -> int:
        return await self.memory.messages.next_message_id(chat_id)


def gathers(text: str) -> bool:
    """True for a message that may be a gathering question: a question, or an order to tell or list."""
    return classify(text) in (Intent.QUESTION, Intent.SELF_QUESTION) or tells(text)


def _first_within(message: Message, window: Span) -> Span:
    """The day a message speaks of within the window (meta "days", memory/messages.py): the shortest span, the
    first of those."""
    spans = [(float(s), float(e)) for s, e in (message.meta or {}).get("days", [])]
    inside = [sp for sp in spans if sp[0] < window[1] and sp[1] > window[0]]
    return min(inside or spans or [(message.created_at, message.created_at + 1)],
               key=lambda span: (span[1] - span[0], span[0]))  # the most precise: "on Thursday" of "this week"


def _clock(ts: float, tz: str) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).astimezone(ZoneInfo(tz)).strftime("%H:%M")


def select_memories(hits: list[Hit], recall: RecallConfig) -> list[Hit]:
    """The recalled hits worth showing the model: clearly relevant ones, people's words first.

    A weak match costs more than it gives: a small model tends to repeat whatever memory it is shown, so hits
    far below the best one (or weak in themselves) stay out. What people said comes before what the bot said,
    so the model's own earlier answers do not echo its mistakes into new replies.
    """
    if not hits:
        return []
    floor = max(recall.min_score, recall.min_relative_score * max(h.score for h in hits))
    kept = [h for h in hits if h.score >= floor]
    return sorted(kept, key=lambda h: h.message.role == "assistant")[: recall.k]
