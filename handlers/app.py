"""The Telegram bot: the one place that wires config, services and handlers into a PTB Application.

`./engram telegram` calls `main`, `./engram run` calls `main_run` (Telegram when a token is configured, else the
terminal chat). Tests call `build_application` with fakes (an embedder, a scripted LLM) and a base_url pointing
at a fake Bot API server. This package uses bot's core; bot never imports it (README, Layout).

Lifecycle (PTB runs these around polling / the webhook server):
  post_init      load the embedder if needed, start memory, LLM, reminders, housekeeping jobs; set the menu
  post_stop      stop replies still streaming (after the last update was handled)
  post_shutdown  stop reminders, LLM, memory
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import stat
import sys
import time
from typing import TextIO
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.cli import chat
from bot.config import Config, TelegramMode, load_config
from bot.errors import ConfigError
from bot.housekeeping import Housekeeping
from bot.i18n import CATALOGUES, chat_language, using
from bot.llm import LLM, build_llm
from bot.media import Media, build_media
from bot.reminders.service import ChatScope, ReminderService
from bot.reminders.timers import JobQueueTimers
from bot.services import build_assistant, build_embedder, build_memory, build_topics
from handlers import access, commands, forget, importing, language, media, messages, reminders, requests, topics
from handlers.context import BOT_DATA_KEY, Services, services_of
from handlers.delivery import telegram_sender
from handlers.errors import on_error
from handlers.intake import EngramApplication, InboxQueue, replay, unanswered
from handlers.policy import AccessPolicy
from handlers.streaming import Throttle
from memory import Embedder, Memory

log = logging.getLogger(__name__)

MENU = commands.COMMANDS  # setMyCommands: bot/commands/table.py's commands that Telegram offers
# Telegram has no chat 0: reminders of the terminal chat's default chat are the terminal's to deliver.
TELEGRAM_CHATS = ChatScope(besides=frozenset({chat.DEFAULT_CHAT_ID}))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=("polling", "webhook"), help="override telegram.mode from the config")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    chat.add_arguments(parser)  # `run` may fall back to the terminal chat, so it takes its options


def main_run(args: argparse.Namespace) -> int:
    """The Telegram bot when a token is configured, else the terminal chat: typed in a terminal or piped in
    (`./engram run < questions.txt`). With nothing to read (stdin closed or /dev/null, as under Docker or systemd)
    a chat would end at once: then the missing token is said, with how to set it."""
    config = load_config(getattr(args, "config", None))
    if config.telegram.token.strip():
        return main(args)
    if not has_input(sys.stdin):
        raise ConfigError(
            "No Telegram bot token (TELEGRAM_BOT_TOKEN, or telegram.token in config.yaml), and no input for the "
            "terminal chat (stdin is closed or /dev/null, as under Docker or systemd). Set the token for Telegram "
            "(create a bot with @BotFather), or run it in a terminal or with lines piped in."
        )
    print("No Telegram token configured (TELEGRAM_BOT_TOKEN): starting the terminal chat.")
    return chat.main(args)


def has_input(stream: TextIO | None) -> bool:
    """A terminal, a pipe, a socket or a file to read lines from (not a closed stdin, not /dev/null)."""
    if stream is None:
        return False
    try:
        if stream.isatty():
            return True
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError):  # closed, or no file descriptor behind it
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def main(args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    if getattr(args, "mode", None):
        config.telegram.mode = TelegramMode(args.mode)
        config.telegram.validate()
    application = build_application(config)
    tg = config.telegram
    try:
        if tg.mode is TelegramMode.WEBHOOK:
            application.run_webhook(
                listen=tg.webhook.listen,
                port=tg.webhook.port,
                url_path=urlparse(tg.webhook.url).path.lstrip("/"),
                webhook_url=tg.webhook.url,
                secret_token=tg.webhook.secret_token or None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        raise ConfigError("Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (ask @BotFather for it).") \
            from None
    except NetworkError as exc:
        raise ConfigError(f"Cannot reach the Telegram Bot API at {tg.base_url}: {exc}") from None
    except RuntimeError as exc:
        if "webhooks" in str(exc):
            raise ConfigError('Webhook mode needs tornado: pip install "python-telegram-bot[webhooks]"') from None
        raise
    return 0


def build_application(config: Config, memory: Memory | None = None, llm: LLM | None = None,
                      embedder: Embedder | None = None, speech: Media | None = None) -> Application:
    """The PTB Application for this config. `memory` and `llm` (not started), `embedder` and `speech` (a Media
    whose model is loaded once for many tests) may be given: tests."""
    tg = config.telegram
    builder = (
        Application.builder()
        .application_class(EngramApplication)
        .update_queue(InboxQueue())
        .token(tg.checked_token())
        .base_url(tg.base_url)
        .base_file_url(_file_url(tg.base_url))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if tg.rate_limit:
        # Telegram's flood limits (about 30 messages a second overall, 20 a minute in a group), applied before
        # each call instead of learnt from 429s; a 429 that still comes is waited out by the caller.
        builder.rate_limiter(AIORateLimiter())  # sets it in place: PTB returns "the same builder", retyped
    application = builder.build()
    services = Services(config=config, access=AccessPolicy(tg), throttle=Throttle(tg.edit_interval),
                        memory=memory, llm=llm, embedder=embedder, media=speech)
    application.bot_data[BOT_DATA_KEY] = services
    _register_handlers(application)
    return application


def _file_url(base_url: str) -> str:
    """Telegram's file URL beside a Bot API URL ending in /bot (true of api.telegram.org and telegram-bot-api)."""
    return base_url[: -len("/bot")] + "/file/bot" if base_url.endswith("/bot") else base_url


def _register_handlers(application: Application) -> None:
    """Every handler, in the order PTB should try them."""
    # 1. Access control first (group -2): updates from anyone not allowed stop here, unstored. Then the language
    #    this update is answered in (group -1).
    application.add_handler(TypeHandler(Update, access.gate), group=-2)
    application.add_handler(TypeHandler(Update, language.choose), group=-1)

    # 2. Commands and their buttons.
    application.add_handler(CommandHandler("start", commands.start))
    application.add_handler(CommandHandler("help", commands.help_command))
    application.add_handler(CommandHandler("search", commands.search))
    application.add_handler(CommandHandler("forget", forget.forget))
    application.add_handler(CommandHandler("export", commands.export))
    application.add_handler(CommandHandler("stats", commands.stats))
    application.add_handler(CommandHandler("reset", commands.reset))
    application.add_handler(CommandHandler("why", commands.why))
    application.add_handler(CommandHandler("compare", commands.compare))
    application.add_handler(CommandHandler("language", language.language))
    application.add_handler(CommandHandler("import", importing.import_document))
    application.add_handler(MessageHandler(filters.Document.ALL & filters.CaptionRegex(importing.CAPTION),
                                           importing.import_document))
    application.add_handler(CallbackQueryHandler(commands.search_more, pattern=r"^search:"))
    application.add_handler(CallbackQueryHandler(forget.forget_confirmed, pattern=r"^forget:"))

    # 3. Reminders: /remind, /reminders, /cancel, /timezone, their buttons; then actions asked in words ("remind
    # me…", "forget…", handlers/requests.py: tried on every text before the ordinary handler, which it calls).
    reminders.register(application)
    requests.register(application)

    # 4. Topics, the map and timelines: /topics, /map, /timeline and their buttons.
    topics.register(application)

    # 5. Every other command and button gets an answer too (after all the known ones).
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, commands.unknown_command))
    application.add_handler(CallbackQueryHandler(commands.unknown_button))

    # 6. Ordinary messages: edits, then text (stored; answered when meant for the bot), recordings (transcribed;
    #    answered as text is), pictures (their text read), then other captions.
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, messages.on_migrate))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED & (filters.TEXT | filters.CAPTION),
                                           messages.on_edit))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
                                           messages.on_text))
    application.add_handler(MessageHandler(
        filters.UpdateType.MESSAGE & (filters.VOICE | filters.VIDEO_NOTE | filters.AUDIO), media.on_recording))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & (filters.PHOTO | filters.Document.IMAGE),
                                           media.on_picture))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.CAPTION, messages.on_media))

    # 7. Exactly one error handler.
    application.add_error_handler(on_error)


async def _post_init(application: Application) -> None:
    """Start the services (models load off the event loop), then publish the command menu."""
    services = services_of(application)
    config = services.config
    if services.memory is None:
        embedder = services.embedder or await asyncio.to_thread(build_embedder, config)
        services.memory = build_memory(config, embedder)
    if services.llm is None:
        services.llm = build_llm(config)
    await services.memory.start()
    try:
        await services.llm.start()
    except BaseException:
        await services.memory.stop()
        raise
    services.assistant = build_assistant(config, services.memory, services.llm)
    await services.assistant.warm_up()  # the first reply's fixed prompt part comes from the cache (~0.8 s now)
    services.assistant.date_in_background()  # an older database's messages get the days they speak of
    services.topics = build_topics(config, services.memory)
    if services.media is None:
        services.media = build_media(config)
        services.owns_media = True
    assistant = services.assistant
    services.media.replies_writing = lambda: assistant.writing  # transcriptions wait while a reply is written
    if services.reminders is None:
        services.reminders = ReminderService.from_config(services.memory, JobQueueTimers(application.job_queue),
                                                         telegram_sender(application.bot), config,
                                                         chats=TELEGRAM_CHATS)
    await services.reminders.start()
    services.housekeeping = Housekeeping.from_config(services.memory, config)
    services.housekeeping.schedule(application.job_queue)
    services.started_at = time.time()
    await application.bot.set_my_commands([BotCommand(name, _menu_text(text)) for name, text in MENU])
    for code in CATALOGUES[1:]:  # the menu in each language with a catalogue, for users whose Telegram is in it
        with using(code):
            await application.bot.set_my_commands(
                [BotCommand(name, _menu_text(text)) for name, text in commands.menu()], language_code=code)
    # Received means kept: from now on every update is in the inbox before it is confirmed (handlers/intake.py).
    inbox = application.update_queue
    assert isinstance(inbox, InboxQueue), "build_application gives every application an InboxQueue"
    inbox.memory = services.memory
    await replay(application, services.memory)
    for reply in await unanswered(services.assistant, services.memory, config.assistant.answer_missed_within):
        # outside any update: the reply's task takes the chat's language from here (bot/i18n.py)
        with using(await chat_language(services.memory, reply.chat_id, reply.message.text)):
            messages.spawn_reply(services, application, reply)
    log.info("Engram is running as @%s", application.bot.username)


def _menu_text(description: str) -> str:
    return description.replace("<", "").replace(">", "")[:256]


async def _post_stop(application: Application) -> None:
    await services_of(application).cancel_all()


async def _post_shutdown(application: Application) -> None:
    """Stop what post_init started, last started first; each step runs even if an earlier one failed."""
    services = services_of(application)
    if services.housekeeping is not None:
        services.housekeeping.unschedule()
    if services.topics is not None:
        services.topics.stop()
    if services.media is not None and services.owns_media:
        services.media.stop()
    if services.reminders is not None:
        await _quietly(services.reminders.stop())
    if services.llm is not None:
        await _quietly(services.llm.stop())
    if services.memory is not None:
        await _quietly(services.memory.stop())


async def _quietly(awaitable) -> None:
    try:
        await awaitable
    except Exception:
        log.exception("error while stopping a service")
