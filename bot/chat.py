"""`python -m bot chat`: talk to Engram in a terminal, on the same assistant and memory as the Telegram bot.

The chat id is persistent (default 0), so the terminal has a memory of its own across runs. Tokens are printed
as they stream; Ctrl-C stops a reply, Ctrl-D or /quit leaves.
"""

from __future__ import annotations

import asyncio
import sys
import time

from bot import views

HELP = """Commands:
  /search <query>     search this chat's memory by meaning and keywords
  /forget <query>     forget the messages containing these words (asks first)
  /forget all         forget everything in this chat (asks first)
  /why                what was recalled for the last reply
  /compare A | B      cosine similarity, Euclidean distance and dot product of two texts
  /stats              what the memory holds, latencies
  /reset              start a fresh conversation (long-term memory stays)
  /quit               leave (Ctrl-D works too)"""


def add_arguments(parser) -> None:
    parser.add_argument("--chat-id", type=int, default=0, help="the terminal's chat id (default 0)")
    parser.add_argument("--name", default="you", help="your name as stored with your messages")


def main(args) -> int:
    from bot.config import load_config

    config = load_config(args.config)
    return asyncio.run(Terminal(config, args.chat_id, args.name).run())


class Terminal:
    def __init__(self, config, chat_id: int, name: str, out=None):
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
        from bot.llm import build_llm
        from bot.services import build_assistant, build_memory

        self.say("Engram: loading models…")
        started = time.perf_counter()
        memory = build_memory(self.config)
        llm = build_llm(self.config)
        await memory.start()
        try:
            await llm.start()
            self.assistant = build_assistant(self.config, memory, llm)
            count = (await memory.stats(self.chat_id))["messages"]
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
            await llm.stop()
            await memory.stop()

    async def reply(self, text: str) -> None:
        from memory import Message

        message_id = await self.assistant.next_message_id(self.chat_id)
        message = Message(self.chat_id, message_id, text, sender_name=self.name)
        reply = await self.assistant.answer(message)
        self.say("engram> ", end="")
        try:
            async for chunk in reply:
                self.say(chunk, end="")
            self.say()
        except asyncio.CancelledError:
            reply.cancel()
            self.say(" [stopped]")
        except Exception as exc:  # an LLM error is shown and the chat goes on; the message stays stored
            self.say(f"\n[no reply: {exc}]")

    async def command(self, line: str) -> None:
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        memory = self.assistant.memory
        if name == "/help":
            self.say(HELP)
        elif name == "/search":
            if not rest:
                self.say("Usage: /search <query>")
                return
            self.say(views.hits_text(await memory.search(self.chat_id, rest, 10)))
        elif name == "/why":
            self.say(views.why_text(self.assistant.last_recall(self.chat_id)))
        elif name == "/compare":
            a, sep, b = rest.partition("|")
            if not sep or not a.strip() or not b.strip():
                self.say("Usage: /compare <text A> | <text B>")
                return
            self.say(views.compare_text(a.strip(), b.strip(), await memory.compare(a.strip(), b.strip())))
        elif name == "/stats":
            t = self.assistant.timings
            self.say(views.stats_text(await memory.stats(), await memory.stats(self.chat_id), self.assistant.llm.name,
                                      memory.recall_latencies, t.first_token, t.generation))
        elif name == "/reset":
            await self.assistant.reset(self.chat_id)
            self.say("Fresh start: earlier turns leave the conversation; long-term memory stays.")
        elif name == "/forget":
            await self.forget(rest)
        else:
            self.say(f"Unknown command {name}. /help lists them.")

    async def forget(self, rest: str) -> None:
        memory = self.assistant.memory
        if not rest:
            self.say("Usage: /forget <words> or /forget all")
            return
        if rest == "all":
            count = (await memory.stats(self.chat_id))["messages"]
            if await self.confirm(f"Forget all {count} messages of this chat?"):
                self.say(f"Forgot {await memory.forget_chat(self.chat_id)} messages.")
            return
        found = await memory.matching(self.chat_id, rest)
        if not found:
            self.say("No message contains all these words.")
            return
        self.say("\n".join(views.message_line(m) for m in found[:20]) + (f"\n… and {len(found) - 20} more"
                                                                         if len(found) > 20 else ""))
        if await self.confirm(f"Forget these {len(found)} messages?"):
            self.say(f"Forgot {await memory.forget_ids(self.chat_id, [m.id for m in found])} messages.")

    async def confirm(self, question: str) -> bool:
        answer = await self.ask(f"{question} [y/N] ")
        if answer is not None and answer.strip().lower() in ("y", "yes"):
            return True
        self.say("Kept.")
        return False
