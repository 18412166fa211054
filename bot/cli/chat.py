"""`python -m bot chat`: talk to Engram in a terminal, on the same assistant and memory as the Telegram bot.

The chat id is persistent (default 0), so the terminal has a memory of its own across runs. Tokens are printed
as they stream; Ctrl-C stops a reply, Ctrl-D or /quit leaves.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bot.commands import actions, views
from bot.config import Config, load_config
from bot.llm import build_llm
from bot.reply.assistant import Assistant
from bot.reply.citation import citation_text
from bot.services import build_assistant, build_memory, build_topics
from bot.text import PLAIN
from bot.topics.service import TopicService
from memory import Message

HELP = """Commands:
  /search <query>     search this chat's memory by meaning and keywords
  /forget <words>     forget the messages containing all these words (asks first)
  /forget all         forget everything in this chat (asks first)
  /why                what was recalled for the last reply
  /compare A | B      cosine similarity, Euclidean distance and dot product of two texts
  /topics [period]    what this chat talks about (last week, in November, 2025, since March…)
  /topic N [page]     the messages of topic N of the last /topics
  /map [period]       a picture of the chat's topics (writes a PNG, prints its path)
  /timeline N|words   how often topic N, or anything, came up (writes a PNG)
  /stats              what the memory holds, latencies
  /reset              start a fresh conversation (long-term memory stays)
  /quit               leave (Ctrl-D works too)"""


def add_arguments(parser) -> None:
    parser.add_argument("--chat-id", type=int, default=0, help="the terminal's chat id (default 0)")
    parser.add_argument("--name", default="you", help="your name as stored with your messages")


def main(args) -> int:
    config = load_config(args.config)
    return asyncio.run(Terminal(config, args.chat_id, args.name).run())


class Terminal:
    assistant: Assistant  # set once the models are loaded (run)
    topics: TopicService

    def __init__(self, config: Config, chat_id: int, name: str, out=None):
        self.config = config
        self.chat_id = chat_id
        self.name = name
        self.out = out or sys.stdout

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    async def ask(self, prompt: str) -> str | None:
        self.say(prompt, end="")
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        return line.rstrip("\n") if line else None

    async def run(self) -> int:
        self.say("Engram: loading models…")
        started = time.perf_counter()
        memory = build_memory(self.config)
        llm = build_llm(self.config)
        await memory.start()
        try:
            await llm.start()
            self.assistant = build_assistant(self.config, memory, llm)
            self.topics = build_topics(self.config, memory)
            count = (await memory.messages.stats(self.chat_id))["messages"]
            self.say(f"Engram is ready ({time.perf_counter() - started:.1f} s; {count} messages remembered in this "
                     f"chat). Type a message, /help for commands.")
            while True:
                line = await self.ask("you> ")
                if line is None or line.strip() in ("/quit", "/exit"):
                    self.say()
                    return 0
                line = line.strip()
                if not line:
                    continue
                if line.startswith("/"):
                    await self.command(line)
                else:
                    await self.reply(line)
        finally:
            if hasattr(self, "topics"):
                self.topics.stop()
            await llm.stop()
            await memory.stop()

    async def reply(self, text: str) -> None:
        message_id = await self.assistant.next_message_id(self.chat_id)
        message = Message(self.chat_id, message_id, text, sender_name=self.name)
        reply = await self.assistant.answer(message)
        if reply is None:  # joined a reply still waiting for its turn (not in a terminal: one line at a time)
            return
        self.say("engram> ", end="")
        try:
            async for chunk in self.assistant.stream(reply):
                self.say(chunk, end="")
            self.say()
            await self.assistant.keep(reply)
            if reply.citation is not None:
                self.say(citation_text(reply.citation.message, PLAIN))
        except asyncio.CancelledError:
            reply.cancel()
            self.say(" [stopped]")
        except Exception as exc:  # an LLM error is shown and the chat goes on; the message stays stored
            self.say(f"\n[no reply: {exc}]")

    async def command(self, line: str) -> None:
        name, rest = line.split(maxsplit=1)[0], actions.arguments(line)
        try:
            await self._command(name, rest)
        except (actions.UsageError, actions.NotEnoughMessages) as exc:
            self.say(str(exc))

    async def _command(self, name: str, rest: str) -> None:
        if name in ("/topics", "/topic", "/map", "/timeline"):
            await self.topic_command(name, rest)
            return
        assistant = self.assistant
        if name == "/help":
            self.say(HELP)
        elif name == "/search":
            page = await actions.search(assistant.memory, self.chat_id, rest, page_size=10,
                                         timezone=self.config.reminders.timezone)
            self.say(views.search_text(page, PLAIN))
        elif name == "/why":
            self.say(views.why_text(await actions.why(assistant, self.chat_id), PLAIN))
        elif name == "/compare":
            self.say(views.compare_text(await actions.compare(assistant.memory, rest), PLAIN))
        elif name == "/stats":
            self.say(views.stats_text(await actions.stats(assistant, self.chat_id, with_totals=True), PLAIN))
        elif name == "/reset":
            await assistant.reset(self.chat_id)
            self.say("Fresh start: earlier turns leave the conversation; long-term memory stays.")
        elif name == "/forget":
            await self.forget(rest)
        else:
            self.say(f"Unknown command {name}. /help lists them.")

    async def topic_command(self, name: str, rest: str) -> None:
        zone, chat = self.config.reminders.timezone, self.chat_id
        if name == "/topics":
            self.say(views.topics_text(await actions.topics(self.topics, chat, rest, timezone=zone), PLAIN))
        elif name == "/topic":
            latest = self.topics.latest(chat)
            numbers = [actions.id_argument(w) for w in rest.split()] or [None]
            if latest is None or numbers[0] is None:
                raise actions.UsageError("Usage: /topic N [page], after /topics")
            page = (numbers[1] or 1) - 1 if len(numbers) > 1 else 0
            self.say(views.topic_page_text(await actions.topic_page(self.topics, chat, latest.key, numbers[0], page),
                                           PLAIN))
        elif name == "/map":
            self.picture(await actions.topic_map(self.topics, chat, rest, timezone=zone), "map")
        else:
            self.picture(await actions.timeline(self.topics, chat, rest, timezone=zone), "timeline")

    def picture(self, picture: actions.Picture, kind: str) -> None:
        path = Path(tempfile.gettempdir()) / f"engram-{kind}-{self.chat_id}-{int(time.time())}.png"
        path.write_bytes(picture.png)
        self.say(f"{picture.caption}\nWritten to {path}")

    async def forget(self, rest: str) -> None:
        request = await actions.forget_request(self.assistant.memory, self.chat_id, rest)
        question = views.forget_question(request, PLAIN)
        if question is None:
            self.say(views.forget_nothing(request))
            return
        self.say(question)
        if await self.confirm("Forget them?" if not request.everything else "Really?"):
            self.say(views.forgotten_text(await actions.forget(self.assistant.memory, self.chat_id, request)))

    async def confirm(self, question: str) -> bool:
        answer = await self.ask(f"{question} [y/N] ")
        if answer is not None and answer.strip().lower() in ("y", "yes"):
            return True
        self.say("Kept.")
        return False
