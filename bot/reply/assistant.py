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
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace

from bot.config import AssistantConfig, BusyPolicy, RecallConfig
from bot.errors import GenerationCancelled
from bot.llm.base import LLM, GenerationSettings
from bot.reply import citation
from bot.reply.dating import TimeResolver, when_said
from bot.reply.filter import ReplyFilter
from bot.reply.intent import Intent, said_by_a_person
from bot.reply.persons import PersonSwap
from bot.reply.plan import ReplyPlan, plan_reply
from bot.reply.prompt import Prompt, build_prompt, demo_turns, format_day
from bot.when.zones import query_window
from memory import Hit, Memory, Message
from memory.models import ACKNOWLEDGEMENT

log = logging.getLogger(__name__)

BOT_NAME = "Engram"
ADDRESSED = "addressed"  # meta flag of a message the assistant was asked to answer (private chat, mention, reply)
MAX_BURST = 20  # messages of one burst put in the prompt (all of them stay in memory)
MAX_BURST_QUERY = 4  # messages of one burst whose words make the recall query


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
    ):
        self.memory = memory
        self.llm = llm
        self.recall = recall
        self.config = assistant
        self.settings = settings
        self.timezone = timezone  # a chat's default zone (reminders.timezone): "last week" is read in it
        self.timings = Timings()
        self._chat_locks: dict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Generations at once (one on a CPU model); waiters are served first come, first served, so chats take
        # turns: a chat's next reply queues behind the other chats' replies.
        self._generating = asyncio.Semaphore(assistant.parallel_replies)
        self._waiting: dict[int, Reply] = {}  # per chat: the reply whose turn has not come yet
        self._active: dict[int, Reply] = {}  # per chat: the reply being prepared or written
        self._arriving = 0  # messages being stored before they get (or join) a reply
        self._last_recall: dict[int, list[Hit]] = {}
        self._examples = demo_turns()

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
        return await self.memory.messages.remember(message)

    async def edit(self, chat_id: int, message_id: int, text: str, edited_at: float | None = None) -> Message | None:
        return await self.memory.messages.edit(chat_id, message_id, text, edited_at)

    # ----- replying ----------------------------------------------------------------------------------------------
    async def answer(self, message: Message) -> Reply | None:
        """Store a message meant for the assistant; return the Reply to stream, or None when the message joined
        a reply of its chat that is still waiting for its turn (that reply will answer it)."""
        message = replace(message, meta={**(message.meta or {}), ADDRESSED: True})
        self._arriving += 1  # busy from now on: an import stops taking the model for itself while it is stored
        try:
            stored = await self.memory.messages.remember(message)
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

    async def _write(self, reply: Reply) -> AsyncIterator[str]:
        message = reply.message
        chat_id = message.chat_id
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
        hits = await self.memory.messages.recall(
            chat_id, " ".join([*earlier, message.text]), 2 * self.recall.k,
            exclude_ids=[*answering, *(m.rowid for m in recent)],
            window=(window.start_ts, window.end_ts) if window else None,
            keyword_query=" ".join([*earlier, window.query]) if window else None,
        )
        # What people told is the evidence: never an earlier question, nor the assistant's own words (recall
        # already leaves its acknowledgements out; its other replies stay in the prompt's recent turns).
        hits = [h for h in hits if said_by_a_person(h.message)]
        plan = plan_reply(message.text, select_memories(hits, self.recall), statements=self.config.statements,
                          recalled=hits, asker=message.sender_name)
        if plan.intent is Intent.STATEMENT and plan.answer is not None:
            reply.kind = ACKNOWLEDGEMENT  # said back without the model: kept, exported, never recalled
        reply.recalled = plan.memories
        self._last_recall[chat_id] = reply.recalled
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
        if reply.text and self.config.citations:
            reply.citation = citation.choose(reply.text, plan.memories, plan.source, plan.answer is not None,
                                             question=message.text)

    async def _stream(self, reply: Reply, plan: ReplyPlan, recent: list[Message], started: float
                      ) -> AsyncIterator[str]:
        """The model's reply, through the echo filter (bot/reply/filter.py)."""
        message = reply.message
        settings = replace(self.settings, max_new_tokens=min(self.settings.max_new_tokens, plan.max_new_tokens))
        budget = max(self.llm.context_window - settings.max_new_tokens, 64)
        # Trimming to the budget counts tokens with the model's tokenizer: a few milliseconds, off the event loop.
        reply.prompt = await asyncio.to_thread(
            build_prompt, self.config.system_prompt, plan.memories, recent, message, self.llm.count_tokens, budget,
            now=message.created_at, with_names=message.chat_id < 0, examples=self._examples,
        )
        names = {m.sender_name for m in [*recent, *reply.messages, *(h.message for h in plan.memories)]}
        asked = message.text if plan.intent in (Intent.QUESTION, Intent.SELF_QUESTION) else ""  # "Good night!" may
        echo = ReplyFilter(names, self.config.max_sentences, question=asked)  # be said back, a question not
        persons = PersonSwap(plan.memories, message)  # "My dog is Rex." copied from the asker's memory: "Your…"
        times = TimeResolver(plan.memories, format_day, message.text, now=message.created_at)
        first = True
        stream = self.llm.stream(reply.prompt.messages, settings, reply.cancel_event)
        try:
            async for chunk in stream:
                if first:
                    self.timings.add(self.timings.first_token, time.perf_counter() - started)
                    first = False
                text = times.feed(persons.feed(echo.feed(chunk)))
                if text:
                    reply.text += text
                    yield text
                if echo.stopped:
                    break
        finally:
            close = getattr(stream, "aclose", None)  # stops the generation now, not when garbage is collected
            if close is not None:
                await close()
        tail = times.feed(persons.feed(echo.finish()) + persons.finish()) + times.finish()
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
        async for _ in self.stream(reply):
            pass
        await self.keep(reply)
        return reply

    # ----- what the front ends show ------------------------------------------------------------------------------
    def last_recall(self, chat_id: int) -> list[Hit]:
        """What was recalled for the last reply in this chat (for /why)."""
        return self._last_recall.get(chat_id, [])

    async def reset(self, chat_id: int) -> None:
        """Start a fresh short-term context: recent turns before now leave the prompt; memory stays."""
        await self.memory.messages.set_chat_setting(chat_id, context_since=time.time())

    async def next_message_id(self, chat_id: int) -> int:
        return await self.memory.messages.next_message_id(chat_id)


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
