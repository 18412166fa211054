"""Shared parts of the Telegram end-to-end tests: run the real Application against the fake server, a scripted
LLM, and the steps "send something as a user, wait for what the bot does"."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

from fake_telegram import FakeTelegram


async def converse(fake: FakeTelegram, services, chat_id: int, text: str, timeout: float = 20.0, **kw) -> str:
    """Send a message and return the bot's whole reply (every message it sent for it), once streaming is over."""
    mark = fake.mark()
    await fake.text(chat_id, text, **kw)
    first = await fake.wait_for_method("sendMessage", chat_id, mark, timeout)
    await services.settle(timeout)
    return shown_since(fake, chat_id, first.result["message_id"])


def shown_since(fake: FakeTelegram, chat_id: int, first_id: int) -> str:
    return "\n".join(m.get("text", "") for m in fake.bot_messages(chat_id) if m["message_id"] >= first_id)


async def command(fake: FakeTelegram, chat_id: int, text: str, timeout: float = 15.0, **kw) -> dict:
    """Send a command; return the message the bot answered with (as it is shown now)."""
    mark = fake.mark()
    await fake.text(chat_id, text, **kw)
    call = await fake.wait_for(lambda c: c.method in ("sendMessage", "sendDocument", "sendPhoto") and c.ok
                               and c.chat_id == chat_id, mark, timeout)
    return fake.messages[(chat_id, call.result["message_id"])]


async def press(fake: FakeTelegram, chat_id: int, message: dict, data: str, timeout: float = 15.0, **kw) -> dict:
    """Press a button of a bot message; return that message once the bot has edited it."""
    mark = fake.mark()
    await fake.press(chat_id, message["message_id"], data, **kw)
    await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok and c.chat_id == chat_id, mark, timeout)
    return fake.messages[(chat_id, message["message_id"])]


def button(message: dict, label_part: str) -> str:
    """The callback data of the inline button whose label contains `label_part`."""
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if label_part.lower() in b["text"].lower():
                return b["callback_data"]
    raise AssertionError(f"no button {label_part!r} in {message.get('reply_markup')}")


async def until_stored(services, chat_id: int, message_id: int, timeout: float = 10.0):
    """Wait until the bot has stored a message (updates are handled asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await services.memory.messages.get(chat_id, message_id)
        if message is not None:
            return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"message {message_id} of chat {chat_id} was never stored")


async def quiet(fake: FakeTelegram, services, chat_id: int, probe_user: int | None = None) -> None:
    """Wait until every update pushed so far has been handled: a /start probe is answered after them."""
    await command(fake, chat_id, "/start", user_id=probe_user)
    await services.settle(20)


@asynccontextmanager
async def running(application):
    """Run a PTB Application against the fake as run_polling would (initialize, post_init, poll, start), and
    stop it the same way (stop polling, stop, post_stop, shutdown, post_shutdown)."""
    from telegram import Update

    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        await application.updater.start_polling(poll_interval=0.0, timeout=2, allowed_updates=Update.ALL_TYPES)
        await application.start()
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)


def bot_config(tmp_path, fake: FakeTelegram, **telegram):
    """A Config for a bot under test: database in tmp_path, the fake server, no housekeeping jobs."""
    from bot.config import Config, Statements

    config = Config(base_dir=tmp_path)
    config.storage.path = str(tmp_path / "engram.db")
    config.housekeeping.backup_dir = ""
    config.housekeeping.checkpoint_minutes = 0
    config.telegram.token = fake.token
    config.telegram.base_url = fake.base_url
    config.telegram.edit_interval = 0.05
    config.assistant.statements = Statements.MODEL  # the scripted model answers every message (reply_plan: own tests)
    for key, value in telegram.items():
        setattr(config.telegram, key, value)
    return config


@asynccontextmanager
async def bot_running(config, llm, embedder, speech=None):
    """The real Application from handlers/app.py, running against the fake; yields its Services (`speech`: a
    shared bot.media.Media with its model loaded)."""
    from handlers.app import build_application
    from handlers.context import services_of

    application = build_application(config, llm=llm, embedder=embedder, speech=speech)
    async with running(application):
        yield services_of(application)
