"""Show a reply while it is generated: one message edited as text arrives, within Telegram's flood limits.

- At most one send or edit per chat every `edit_interval` seconds (Throttle); intermediate edits that come too
  soon are skipped, since the next one carries the newer text; the first send and the final edit wait their turn.
- RetryAfter (HTTP 429) is waited out, then the call is repeated (first send, final edit) or skipped (others).
- Text longer than 4096 characters continues in further messages.
- Text is sent as HTML from handlers.format.to_html; if Telegram still rejects the entities, the message is sent
  as plain text from then on.
- "typing…" is shown while the model works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.errors import retry_after_seconds
from handlers.format import MESSAGE_LIMIT, split_text, to_html

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
TYPING_EVERY = 4.5  # Telegram shows a chat action for about 5 s
GROUP_INTERVAL = 3.0  # seconds between calls in one group: Telegram allows about 20 messages a minute there
INTERRUPTED_MARK = " …"
FOOTER_MARK = "\x00footer"  # ends the part that carries the footer (never in a model's text: cleaned on the way)


class Throttle:
    """When each chat may next be sent to or edited (a per-chat clock shared by all replies).

    Groups get at least GROUP_INTERVAL between calls: Telegram allows about 20 messages a minute in a group.
    """

    def __init__(self, interval: float, group_interval: float = GROUP_INTERVAL):
        self.interval = interval
        self.group_interval = max(interval, group_interval)
        self._next: dict[int, float] = {}
        self._typing: dict[int, float] = {}  # when each chat was last shown "typing…"

    def typing_due(self, chat_id: int) -> bool:
        """True (and noted) if "typing…" may be sent to this chat now: at most once per TYPING_EVERY seconds,
        whichever reply asks."""
        now = time.monotonic()
        if now - self._typing.get(chat_id, -TYPING_EVERY) < TYPING_EVERY:
            return False
        self._typing[chat_id] = now
        return True

    def ready(self, chat_id: int) -> bool:
        return time.monotonic() >= self._next.get(chat_id, 0.0)

    async def wait(self, chat_id: int) -> None:
        delay = self._next.get(chat_id, 0.0) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def used(self, chat_id: int, extra: float = 0.0) -> None:
        interval = self.group_interval if chat_id < 0 else self.interval
        self._next[chat_id] = time.monotonic() + max(interval, extra)


class StreamedMessage:
    """The Telegram message(s) showing one reply. `update(text)` brings them up to date with the text so far."""

    def __init__(self, bot: Bot, chat_id: int, throttle: Throttle, reply_to: int | None = None,
                 thread_id: int | None = None):
        self.bot = bot
        self.chat_id = chat_id
        self.throttle = throttle
        self.reply_to = reply_to
        self.thread_id = thread_id
        self.message_ids: list[int] = []
        self.shown: list[str] = []  # the raw text each message shows
        self.plain = False  # set after Telegram rejected our HTML once
        self.footer: tuple[str, str] | None = None  # (HTML, plain) under the last part, e.g. a citation
        self.markup: InlineKeyboardMarkup | None = None  # buttons under the last part (an offered reminder)
        self._markup_shown = False
        self._markup_for: str | None = None

    @property
    def first_id(self) -> int | None:
        return self.message_ids[0] if self.message_ids else None

    async def update(self, text: str, final: bool = False, footer: tuple[str, str] | None = None,
                     markup: InlineKeyboardMarkup | None = None) -> None:
        """Show `text` (sent or edited as needed); `footer` (HTML, plain) and `markup` (buttons), given with the
        final text, go under its last part."""
        if footer is not None:
            self.footer = footer
        if markup is not None:
            self.markup = markup
        parts = split_text(text, MESSAGE_LIMIT - (len(self.footer[1]) + 2 if self.footer else 0))
        if self.footer is not None:
            parts[-1] = parts[-1] + FOOTER_MARK
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            buttons = final and last and self.markup is not None and not self._markup_shown
            self._markup_for = part if buttons else None
            if index < len(self.shown) and self.shown[index] == part and not buttons:
                continue
            must = final or not last or not self.message_ids  # complete parts and the first send always go out
            if not must and not self.throttle.ready(self.chat_id):
                return
            if index < len(self.message_ids):
                await self._call(self._edit, index, part, must=must)
            else:
                await self._call(self._send, part, must=True)

    async def _call(self, method, *args, must: bool) -> None:
        for _ in range(MAX_ATTEMPTS):
            await self.throttle.wait(self.chat_id)
            try:
                await method(*args)
                self.throttle.used(self.chat_id)
                return
            except RetryAfter as exc:
                delay = retry_after_seconds(exc) or 1.0
                log.info("Telegram asked to wait %.1f s in chat %s", delay, self.chat_id)
                self.throttle.used(self.chat_id, extra=delay)
                if not must:
                    return
        raise TelegramError(f"gave up after {MAX_ATTEMPTS} flood-control waits")

    def _buttons(self, part: str) -> InlineKeyboardMarkup | None:
        """The buttons go with the final last part (the footer's mark ends it when there is a footer)."""
        if self.markup is None or part != self._markup_for:
            return None
        self._markup_shown = True
        return self.markup

    async def _send(self, part: str) -> None:
        reply = ReplyParameters(self.reply_to, allow_sending_without_reply=True) if self.reply_to else None
        markup = self._buttons(part)
        sent = await self._with_fallback(
            lambda text, mode: self.bot.send_message(
                self.chat_id, text, parse_mode=mode, reply_parameters=reply, message_thread_id=self.thread_id,
                reply_markup=markup,
            ),
            part,
        )
        self.message_ids.append(sent.message_id)
        self.shown.append(part)

    async def _edit(self, index: int, part: str) -> None:
        markup = self._buttons(part)
        try:
            await self._with_fallback(
                lambda text, mode: self.bot.edit_message_text(
                    text, chat_id=self.chat_id, message_id=self.message_ids[index], parse_mode=mode,
                    reply_markup=markup,
                ),
                part,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        self.shown[index] = part

    async def _with_fallback(self, call, part: str):
        html_text, plain_text = to_html(part), part
        if self.footer is not None and part.endswith(FOOTER_MARK):
            body = part[: -len(FOOTER_MARK)]
            html_text, plain_text = f"{to_html(body)}\n\n{self.footer[0]}", f"{body}\n\n{self.footer[1]}"
        if not self.plain:
            try:
                return await call(html_text, ParseMode.HTML)
            except BadRequest as exc:
                if "parse entities" not in exc.message.lower() and "can't find end" not in exc.message.lower():
                    raise
                log.warning("Telegram rejected formatted text (%s); sending plain text", exc.message)
                self.plain = True
        return await call(plain_text, None)


@contextlib.asynccontextmanager
async def typing(bot: Bot, throttle: Throttle, chat_id: int, thread_id: int | None = None,
                 start: asyncio.Event | None = None):
    """Show "typing…" in the chat from when `start` is set (at once without one) until the block ends or the
    event it yields is set (the reply's first text is shown); refreshed, at most once per TYPING_EVERY seconds
    per chat."""
    shown = asyncio.Event()

    async def keep_typing() -> None:
        if start is not None:
            await start.wait()
        while not shown.is_set():
            if throttle.typing_due(chat_id):
                try:
                    await bot.send_chat_action(chat_id, ChatAction.TYPING, message_thread_id=thread_id)
                except TelegramError as exc:  # cosmetic: never let it break the reply
                    log.debug("chat action failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(shown.wait(), TYPING_EVERY / 3)

    task = asyncio.create_task(keep_typing())
    try:
        yield shown
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
