"""The services every handler (and job) reaches through `context.bot_data["engram"]`.

handlers/app.py creates one `Services` and fills `memory`, `llm`, `assistant`, `reminders`, `housekeeping` and
`topics` in post_init; handlers read them with `services_of(context)`. Replies are generated in background tasks
started with `spawn`, so a long generation never holds up the update queue; post_stop cancels what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import Update

from bot.commands.actions import arguments

if TYPE_CHECKING:  # annotations only
    from telegram.ext import Application

    from bot.config import Config
    from bot.housekeeping import Housekeeping
    from bot.llm.base import LLM
    from bot.reminders.service import ReminderService
    from bot.reply.assistant import Assistant, Reply
    from bot.topics.service import TopicService
    from handlers.policy import AccessPolicy
    from handlers.streaming import Throttle
    from memory import Embedder, Memory

log = logging.getLogger(__name__)

BOT_DATA_KEY = "engram"


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
    started_at: float = 0.0
    importing: bool = False  # an /import is running (one at a time)
    tasks: set[asyncio.Task] = field(default_factory=set)
    replies: set[Reply] = field(default_factory=set)  # replies being streamed (cancelled on shutdown)

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
        for reply in list(self.replies):
            reply.cancel()
        if self.tasks:
            _done, pending = await asyncio.wait(list(self.tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)


def services_of(context) -> Services:
    """The Services of the application a handler or job runs in."""
    return context.bot_data[BOT_DATA_KEY]


def args_text(update: Update) -> str:
    """Everything after the command word of the update's message."""
    return arguments(update.effective_message.text or "")
