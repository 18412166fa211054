"""Received means kept: every update is written to the inbox (memory/migrations.py m004) before Telegram is told
it arrived, and is handled again after a crash if it was not handled before.

How the promise is kept with python-telegram-bot's own Updater, in both modes:
- polling: the Updater awaits `update_queue.put(update)` for each update of a getUpdates answer, and confirms them
  to Telegram only with its NEXT getUpdates call (offset = last id + 1). `InboxQueue.put` writes the update to
  the inbox before it returns, so nothing is confirmed that is not on disk. A crash before the write leaves the
  update unconfirmed, and Telegram delivers it again.
- webhook: PTB's handler answers Telegram's POST only after `put` returns; an error in the write answers 500,
  and Telegram retries.
`EngramApplication.process_update` marks the update handled once every handler has run (the message is stored:
its row and keyword entry are written by then, its vector follows from the memory's queue). At start,
`replay` puts back whatever the inbox holds unhandled. An update that is delivered again (Telegram re-sends what
was not confirmed) is recognised by its id and handled once.

Work a handler leaves running in the background (a voice message being transcribed: handlers/media.py) keeps its
update unhandled until it ends (`EngramApplication.defer`): a crash midway handles the update again at the next
start, and the work is redone.

What a crash can still do: a handler that had finished its work when the process died, before the "handled" mark
was written (a window of a millisecond), runs again at the next start. Storing is idempotent; a command may be
answered twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import Application

from bot.reply.assistant import Assistant, Reply
from memory import Memory

log = logging.getLogger(__name__)


class InboxQueue(asyncio.Queue):
    """PTB's update queue, each update written to the memory's inbox before it is queued."""

    def __init__(self) -> None:
        super().__init__()
        self.memory: Memory | None = None  # set in post_init, before the Updater starts

    async def put(self, item: object) -> None:
        known = isinstance(item, Update) and self.memory is not None and \
            not await self.memory.inbox.add(item.update_id, item.to_json())
        if known:
            log.info("update %s was delivered again; it is handled once", getattr(item, "update_id", None))
            return
        await super().put(item)


class EngramApplication(Application):
    """PTB's Application, which also marks each update handled in the inbox once its handlers have run (or, for
    an update whose handler deferred it, once that handler's background work is done)."""

    _deferred: set[int]

    async def process_update(self, update: object) -> None:
        try:
            await super().process_update(update)
        except asyncio.CancelledError:
            raise  # cut short by a shutdown: not handled, so it is handled again at the next start
        except Exception:
            if not self._is_deferred(update):
                await self._handled(update)  # handlers' errors go to the error handler; this one will not heal
            raise
        if not self._is_deferred(update):
            await self._handled(update)

    def defer(self, update: Update) -> Callable[[], Awaitable[None]]:
        """Keep this update unhandled after its handlers return; the returned coroutine function marks it handled
        (the handler's background work calls it when it is done, failed or not — not when cancelled)."""
        if not hasattr(self, "_deferred"):
            self._deferred = set()
        self._deferred.add(update.update_id)

        async def done() -> None:
            self._deferred.discard(update.update_id)
            await self._handled(update)

        return done

    def _is_deferred(self, update: object) -> bool:
        return isinstance(update, Update) and update.update_id in getattr(self, "_deferred", ())

    async def _handled(self, update: object) -> None:
        queue = self.update_queue
        if isinstance(update, Update) and isinstance(queue, InboxQueue) and queue.memory is not None:
            await queue.memory.inbox.done(update.update_id)


async def replay(application: Application, memory: Memory) -> int:
    """Queue again every update the inbox holds unhandled (a crash came before its handlers finished)."""
    left = await memory.inbox.unhandled()
    for _update_id, payload in left:
        update = Update.de_json(json.loads(payload), application.bot)
        await asyncio.Queue.put(application.update_queue, update)  # already in the inbox: not written again
    if left:
        log.info("handling %d updates received before a restart", len(left))
    return len(left)


async def unanswered(assistant: Assistant, memory: Memory, max_age: float) -> list[Reply]:
    """Replies a restart interrupted: for each chat whose last message for the assistant got no answer, if that
    message is younger than max_age seconds, its reply (to be shown by the caller)."""
    replies = []
    for message in await memory.inbox.unanswered(time.time() - max_age):
        reply = await assistant.answer(message)
        if reply is not None:
            replies.append(reply)
    return replies
