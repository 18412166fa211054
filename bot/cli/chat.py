"""`python -m bot chat`: talk to Engram in a terminal, on the same assistant and memory as the Telegram bot.

The chat id is persistent (default 0), so the terminal has a memory of its own across runs. Tokens are printed
as they stream; Ctrl-C stops a reply, Ctrl-D or /quit leaves.

The commands are Telegram's (bot/commands/table.py lists which front end has which), on the same code:
bot/commands/actions.py and views.py, bot/reminders. Reminders fire while the chat is open: the ReminderService
runs on asyncio timers and prints "⏰ …"; one that fell due while the chat was closed comes at the next start.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.cli.tools import reembed_bar
from bot.commands import actions, table, topic_commands, views
from bot.commands.language import PROSE_ARGS, language_command, use_chat_language
from bot.commands.requests import Requests, offer_hint
from bot.commands.table import FrontEnd
from bot.config import Config, load_config
from bot.i18n import N_, _, current, ngettext, number
from bot.llm import build_llm
from bot.media import Media, build_media
from bot.media import texts as media_texts
from bot.reminders import ParsedReminder, ParseError, texts
from bot.reminders.service import ChatScope, ReminderService
from bot.reminders.timers import AsyncioTimers
from bot.reply.assistant import Assistant
from bot.reply.citation import citation_text
from bot.services import build_assistant, build_memory, build_topics
from bot.text import PLAIN, YOU
from bot.topics.service import TopicService
from memory import Memory, Message

DEFAULT_CHAT_ID = 0  # Telegram has no chat 0: the Telegram bot leaves its reminders to the terminal
INTRO = N_("Engram: an assistant with a long-term memory of this chat, in your terminal. It remembers what you "
           "tell it and brings it back when it matters; everything stays on this machine. Ask in words too: "
           "\"remind me tomorrow at 9 to call Ana\", \"what reminders do I have?\", \"forget what I said about the "
           "wifi\".")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chat-id", type=int, default=DEFAULT_CHAT_ID,
                        help=f"the terminal's chat id (default {DEFAULT_CHAT_ID})")
    parser.add_argument("--name", default=YOU, help="your name as stored with your messages (default: %(default)s, "
                        "shown in the chat's language)")


def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    return asyncio.run(Terminal(config, args.chat_id, args.name).run())


class Terminal:
    assistant: Assistant  # set once the models are loaded (run)
    topics: TopicService
    memory: Memory
    reminders: ReminderService  # start_reminders
    requests: Requests  # start_reminders: plain-language actions (bot/commands/requests.py)

    def __init__(self, config: Config, chat_id: int, name: str, out: TextIO | None = None):
        self.config = config
        self.chat_id = chat_id
        self.name = name
        self.out = out or sys.stdout
        self.prompt: str | None = None  # shown and waiting for a line: a reminder printed meanwhile shows it again
        self.leaving = False
        self._timers: AsyncioTimers | None = None
        # Every command of bot/commands/table.py that the terminal offers (tests/test_command_sets.py checks).
        self.handlers: dict[str, Callable[[str], Awaitable[None]]] = {
            "start": self.start_command, "help": self.help_command, "search": self.search,
            "why": self.why, "forget": self.forget, "export": self.export, "stats": self.stats,
            "reset": self.reset, "compare": self.compare, "topics": self.topic_command("/topics"),
            "topic": self.topic_command("/topic"), "map": self.topic_command("/map"),
            "timeline": self.topic_command("/timeline"), "remind": self.remind, "reminders": self.list_reminders,
            "cancel": self.cancel, "timezone": self.timezone, "language": self.language, "quit": self.quit,
            "voice": self.voice,
        }
        self.media: Media | None = None  # built at the first /voice

    def say(self, text: str = "", end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    async def ask(self, prompt: str) -> str | None:
        self.say(prompt, end="")
        self.prompt = prompt
        try:
            line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        finally:
            self.prompt = None
        return line.rstrip("\n") if line else None

    async def run(self) -> int:
        self.say(_("Engram: loading models…"))
        started = time.perf_counter()
        memory = build_memory(self.config)
        llm = build_llm(self.config)
        await memory.start(progress=reembed_bar())  # a re-embed after a change of model (the default's too)
        try:
            await llm.start()
            self.assistant = build_assistant(self.config, memory, llm)
            # As the Telegram bot does at start: the prompt's fixed part is cached before the first reply, so every
            # reply, the first too, reuses it (and the same conversation gets the same replies in both front ends).
            await self.assistant.warm_up()
            self.assistant.date_in_background()  # an older database's messages get the days they speak of
            self.topics = build_topics(self.config, memory)
            count = (await memory.messages.stats(self.chat_id))["messages"]
            self.memory = memory
            await self.use_language(None)  # the chat's language, as far as it is known: the banner is in it too
            self.say(ngettext("Engram is ready ({seconds} s; {n} message remembered in this chat). Type a message, "
                              "/help for commands.",
                              "Engram is ready ({seconds} s; {n} messages remembered in this chat). Type a message, "
                              "/help for commands.", count)
                     .format(seconds=f"{time.perf_counter() - started:.1f}", n=number(count)))
            await self.start_reminders(memory)  # after the banner: a reminder due meanwhile is printed under it
            while not self.leaving:
                line = await self.ask(_(YOU) + "> ")
                if line is None or line.strip() == "/exit":
                    break
                await self.line(line)
            self.say()
            return 0
        finally:
            await self.stop_reminders()
            if hasattr(self, "topics"):
                self.topics.stop()
            await llm.stop()
            await memory.stop()
            if self.media is not None:
                self.media.stop()

    async def line(self, line: str) -> None:
        """One typed line: a command, an action asked in words, or a message to answer."""
        line = line.strip()
        if not line:
            return
        if line.startswith("/"):
            await self.command(line)
        elif not await self.action(line):
            await self.reply(line)

    # ----- reminders: the same service as Telegram's, on asyncio timers, printing instead of sending ----------
    async def start_reminders(self, memory: Memory, *, sweep_seconds: float = 60.0) -> ReminderService:
        """Deliver this chat's reminders while the terminal is open (and the missed ones now)."""
        self.memory = memory
        self._timers = AsyncioTimers()
        r = self.config.reminders
        self.reminders = ReminderService(memory, self._timers, self.deliver, r.timezone,
                                         unknown_outcome=r.unknown_outcome, min_interval=r.min_interval_seconds,
                                         sweep_seconds=sweep_seconds, chats=ChatScope(only=frozenset({self.chat_id})))
        await self.reminders.start()
        self.requests = Requests(memory, self.reminders)
        return self.reminders

    async def stop_reminders(self) -> None:
        if self._timers is None:
            return
        await self.reminders.stop()
        await self._timers.close()
        self._timers = None

    async def deliver(self, chat_id: int, text: str) -> int:
        """The ReminderService's `send`: print the reminder, even while a prompt waits; the id it is stored with."""
        if self.prompt is not None:
            self.say(f"\r{text}\n{self.prompt}", end="")
        else:
            self.say(text)
        return await self.memory.messages.next_message_id(chat_id)

    async def use_language(self, text: str | None) -> str:
        """Choose the language of what follows (this line), as Telegram does for each update (before the memory
        is open, e.g. /help at once: the current one stays)."""
        if getattr(self, "memory", None) is None:
            return current()
        return await use_chat_language(self.memory, self.chat_id, text)

    async def language(self, rest: str) -> None:
        self.say(await language_command(self.memory, self.chat_id, rest))

    async def action(self, text: str) -> bool:
        """A plain-language action ("remind me in 2 minutes to…", "cancel the bread reminder", "what reminders do I
        have?", "forget what I said about the wifi password"), carried out as in Telegram (bot/commands/requests.py);
        False when the line asks for none (then it is answered)."""
        await self.use_language(text)
        request = self.requests.read(text)
        if request is None:
            return False
        message_id = await self.memory.messages.next_message_id(self.chat_id)
        done = await self.requests.carry_out(self.chat_id, request)  # before it is stored: a forget's preview
        await self.requests.keep_request(Message(self.chat_id, message_id, text, sender_name=self.name,
                                                 created_at=time.time()))  # is of what was said before it
        shown = done.text
        if done.forget is not None:
            self.say("engram> " + (views.forget_question(done.forget, PLAIN) or ""))
            if await self.confirm(_("Forget them?") if not done.forget.everything else _("Really?")):
                shown = views.forgotten_text(await actions.forget(self.memory, self.chat_id, done.forget))
                self.say(shown)
            else:
                shown = _("Kept: nothing was forgotten.")
        else:
            self.say("engram> " + shown)
        await self.requests.keep_reply(self.chat_id, await self.memory.messages.next_message_id(self.chat_id),
                                       replace(done, text=shown), time.time())
        return True

    async def confirm_reminder(self, parsed: ParsedReminder) -> None:
        reminder = await self.reminders.create(self.chat_id, None, parsed)
        text = texts.confirmation(reminder, parsed)
        self.say(text)
        message_id = await self.memory.messages.next_message_id(self.chat_id)
        await self.reminders.remember_confirmation(self.chat_id, message_id, text, reminder, time.time())

    async def remind(self, rest: str) -> None:
        await self.confirm_reminder(await self.reminders.parse(self.chat_id, rest))

    async def list_reminders(self, rest: str) -> None:
        self.say((await self.reminders.listing(self.chat_id)).text())

    async def cancel(self, rest: str) -> None:
        self.say(texts.cancelled_text(await self.reminders.cancel_command(self.chat_id, rest)))

    async def timezone(self, rest: str) -> None:
        self.say((await self.reminders.timezone_command(self.chat_id, rest)).text())

    async def reply(self, text: str) -> None:
        await self.use_language(text)
        message_id = await self.assistant.next_message_id(self.chat_id)
        await self.answer(Message(self.chat_id, message_id, text, sender_name=self.name))

    async def voice(self, rest: str) -> None:
        """/voice FILE: a recording transcribed, stored as a voice message of this chat and answered, as a voice
        message sent to the bot in a private chat."""
        path = Path(rest.strip().strip("'\"")).expanduser()
        if not rest.strip() or not path.is_file():
            raise actions.UsageError(_("Usage: /voice <audio file> (a voice note, MP3, M4A, WAV, a video…)"))
        if self.media is None:
            self.media = build_media(self.config, replies_writing=lambda: self.assistant.writing)
        message_id = await self.assistant.next_message_id(self.chat_id)
        meta = {"kind": "voice", "media": media_texts.PENDING, "file": path.name}
        await self.assistant.remember(Message(self.chat_id, message_id, media_texts.pending_text("voice", None),
                                              sender_name=self.name, meta=meta))
        self.say("🎙 " + _("transcribing…"))
        text, added = await self.media.text_of_file(path, "voice")
        filled = await self.assistant.memory.messages.fill(self.chat_id, message_id, text, {**meta, **added})
        if filled is None or added["media"] != media_texts.DONE:
            self.say(media_texts.not_transcribed("voice", added.get("error", "?")))
            return
        self.say(media_texts.shown_transcript(filled.text))
        await self.answer(filled)

    async def answer(self, message: Message) -> None:
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
            offered = await self.requests.offer(self.chat_id, message.text, message.created_at)
            if offered is not None:  # a plan: a reminder offered, set only when asked ("remind me")
                self.say(offer_hint(offered))
        except asyncio.CancelledError:
            reply.cancel()
            self.say(" " + _("[stopped]"))
        except Exception as exc:  # an LLM error is shown and the chat goes on; the message stays stored
            self.say("\n" + _("[no reply: {error}]").format(error=exc))

    async def command(self, line: str) -> None:
        name, rest = line.split(maxsplit=1)[0], actions.arguments(line)
        await self.use_language(rest if name[1:].lower() in PROSE_ARGS else None)
        try:
            await self._command(name, rest)
        except (actions.UsageError, topic_commands.NotEnoughMessages, ParseError) as exc:
            self.say(str(exc))

    async def _command(self, name: str, rest: str) -> None:
        word = name[1:].lower()
        handler = self.handlers.get(word)
        if handler is not None:
            await handler(rest)
        elif reason := table.missing_text(word, FrontEnd.TERMINAL):
            self.say(reason + " " + _("(This chat's id is {id}.)").format(id=self.chat_id) if word == "import"
                     else reason)
        else:
            self.say(_("Unknown command {name}. /help lists them.").format(name=name))

    async def start_command(self, rest: str) -> None:
        self.say(f"{_(INTRO)}\n\n{table.help_text(FrontEnd.TERMINAL)}")

    async def help_command(self, rest: str) -> None:
        self.say(table.help_text(FrontEnd.TERMINAL))

    async def quit(self, rest: str) -> None:
        self.leaving = True

    async def search(self, rest: str) -> None:
        page = await actions.search(self.assistant.memory, self.chat_id, rest, page_size=10,
                                     timezone=self.config.reminders.timezone)
        self.say(views.search_text(page, PLAIN))

    async def why(self, rest: str) -> None:
        hits = await actions.why(self.assistant, self.chat_id)
        self.say(views.why_text(hits, PLAIN, self.assistant.last_preference(self.chat_id),
                                actions.keyword_weight(self.assistant.memory)))

    async def compare(self, rest: str) -> None:
        self.say(views.compare_text(await actions.compare(self.assistant.memory, rest), PLAIN))

    async def stats(self, rest: str) -> None:
        self.say(views.stats_text(await actions.stats(self.assistant, self.chat_id, with_totals=True), PLAIN))

    async def reset(self, rest: str) -> None:
        await self.assistant.reset(self.chat_id)
        self.say(_("Fresh start: earlier turns leave the conversation; long-term memory stays."))

    async def export(self, rest: str) -> None:
        """/export [FILE]: this chat's memory as JSON, into FILE or engram-chat-<id>.json here."""
        exported = await actions.export_file(self.memory, self.chat_id)
        path = Path(rest).expanduser() if rest else Path.cwd() / exported.filename
        path.write_bytes(exported.data)
        self.say(views.export_written(exported.messages, str(path)))

    def topic_command(self, name: str) -> Callable[[str], Awaitable[None]]:
        async def run(rest: str) -> None:
            await self.topic(name, rest)

        return run

    async def topic(self, name: str, rest: str) -> None:
        zone, chat = self.config.reminders.timezone, self.chat_id
        if name == "/topics":
            self.say(views.topics_text(await topic_commands.topics(self.topics, chat, rest, timezone=zone), PLAIN))
        elif name == "/topic":
            page = await topic_commands.topic_command(self.topics, chat, rest)
            self.say(views.topic_page_text(page, PLAIN, typed=True))
        elif name == "/map":
            self.picture(await topic_commands.topic_map(self.topics, chat, rest, timezone=zone), "map")
        else:
            self.picture(await topic_commands.timeline(self.topics, chat, rest, timezone=zone), "timeline")

    def picture(self, picture: topic_commands.Picture, kind: str) -> None:
        # a name of its own each time (two charts in one second must not share a file)
        with tempfile.NamedTemporaryFile(prefix=f"engram-{kind}-{self.chat_id}-", suffix=".png", delete=False) as f:
            f.write(picture.png)
        path = Path(f.name)
        self.say(picture.caption + "\n" + _("Written to {path}").format(path=path))

    async def forget(self, rest: str) -> None:
        request = await actions.forget_request(self.assistant.memory, self.chat_id, rest)
        question = views.forget_question(request, PLAIN)
        if question is None:
            self.say(views.forget_nothing(request))
            return
        self.say(question)
        if await self.confirm(_("Forget them?") if not request.everything else _("Really?")):
            self.say(views.forgotten_text(await actions.forget(self.assistant.memory, self.chat_id, request)))

    async def confirm(self, question: str) -> bool:
        answer = await self.ask(f"{question} " + _("[y/N]") + " ")
        if answer is not None and answer.strip().lower() in ("y", "yes", _("y"), _("yes")):
            return True
        self.say(_("Kept."))
        return False
