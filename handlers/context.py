"""The services every handler (and job) reaches through `context.bot_data["engram"]`.

handlers/app.py creates one `Services` and fills `memory`, `llm`, `assistant`, `reminders`, `housekeeping` and
`topics` in post_init; handlers read them with `services_of(context).started` (all present: handlers run after
post_init). `chat_of(update)`, `message_of(update)`… are the parts of an update its handler is sure to have.
Replies are generated in background tasks started with `spawn`, so a long generation never holds up the update
queue; post_stop cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import CallbackQuery, Chat, Update
from telegram import Message as TgMessage

from bot.commands.actions import arguments

if TYPE_CHECKING:  # annotations only
    from telegram.ext import Application, CallbackContext

    from bot.config import Config
    from bot.housekeeping import Housekeeping
    from bot.llm.base import LLM
    from bot.media import Media
    from bot.reminders.service import ReminderService
    from bot.reply.assistant import Assistant
    from bot.topics.service import TopicService
    from handlers.policy import AccessPolicy
    from handlers.streaming import Throttle
    from memory import Embedder, Memory

log = logging.getLogger(__name__)

BOT_DATA_KEY = "engram"


@dataclass(frozen=True)
class Started:
    """The services post_init starts, all of them there."""

    memory: Memory
    llm: LLM
    assistant: Assistant
    reminders: ReminderService
    housekeeping: Housekeeping
    topics: TopicService


@dataclass
class Services:
    config: Config
    access: AccessPolicy
    throttle: Throttle
    memory: Memory | None = None
    llm: LLM | None = None
    assistant: Assistant | None = None
    reminders: ReminderService | None = None
    housekeeping: Housekeeping | None = None
    topics: TopicService | None = None
    embedder: Embedder | None = None  # used by post_init to build `memory` when none was given
    media: Media | None = None  # speech and pictures to text (post_init builds it when none was given)
    owns_media: bool = False  # built by post_init, so stopped by post_shutdown (a test's shared one is not)
    started_at: float = 0.0
    importing: bool = False  # an /import is running (one at a time)
    tasks: set[asyncio.Task] = field(default_factory=set)

    @property
    def started(self) -> Started:
        """memory, llm, assistant, reminders, housekeeping and topics; RuntimeError before post_init has set them."""
        if (self.memory is None or self.llm is None or self.assistant is None or self.reminders is None
                or self.housekeeping is None or self.topics is None):
            raise RuntimeError("Engram's services are not started yet (post_init has not run)")
        return Started(self.memory, self.llm, self.assistant, self.reminders, self.housekeeping, self.topics)

    def spawn(self, application: Application, coroutine: Coroutine, update: object | None = None) -> asyncio.Task:
        """Run a coroutine in the background; its errors go to the application's error handler."""

        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # routed to the one error handler, which logs and tells the user
                await application.process_error(update, exc)

        task = asyncio.get_running_loop().create_task(guarded())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def settle(self, timeout: float | None = None) -> None:
        """Wait until every background task has finished (tests, shutdown)."""
        while self.tasks:
            await asyncio.wait_for(asyncio.gather(*list(self.tasks), return_exceptions=True), timeout)

    async def cancel_all(self, grace: float = 3.0) -> None:
        """Stop replies still streaming (their messages end with a mark) and wait briefly for the tasks."""
        if self.assistant is not None:
            self.assistant.cancel_all()
        if self.tasks:
            _done, pending = await asyncio.wait(list(self.tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)


def services_of(context: CallbackContext | Application) -> Services:
    """The Services of the application a handler or job runs in."""
    return context.bot_data[BOT_DATA_KEY]


class MissingPart(LookupError):
    """An update without the part its handler needs (the handler's filter should have made that impossible)."""


def chat_of(update: Update) -> Chat:
    """The update's chat: every message, command and button update has one."""
    if update.effective_chat is None:
        raise MissingPart(f"update {update.update_id} has no chat")
    return update.effective_chat


def chat_id_of(update: Update) -> int:
    return chat_of(update).id


def message_of(update: Update) -> TgMessage:
    """The update's message: the one a message or command handler handles, or the one under a pressed button."""
    if update.effective_message is None:
        raise MissingPart(f"update {update.update_id} has no message")
    return update.effective_message


def query_of(update: Update) -> CallbackQuery:
    """The pressed button of a CallbackQueryHandler's update."""
    if update.callback_query is None:
        raise MissingPart(f"update {update.update_id} is not a button press")
    return update.callback_query


def user_id_of(update: Update) -> int:
    """Who sent the update (a channel post has nobody)."""
    if update.effective_user is None:
        raise MissingPart(f"update {update.update_id} has no user")
    return update.effective_user.id


def chat_data_of(context: CallbackContext) -> dict:
    """PTB's per-chat dict (there whenever the update has a chat)."""
    if context.chat_data is None:
        raise MissingPart("this update has no chat, so no chat_data")
    return context.chat_data


def args_text(update: Update) -> str:
    """Everything after the command word of the update's message."""
    return arguments(message_of(update).text or "")
