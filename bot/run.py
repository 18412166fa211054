"""`./engram run`: the Telegram bot when a token is configured, else the terminal chat."""

from __future__ import annotations

import argparse
import importlib

from bot.config import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    chat = _terminal_chat()
    if chat is not None and hasattr(chat, "add_arguments"):
        chat.add_arguments(parser)  # `run` falls back to it, so it takes its options


def main(args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    if config.telegram.token.strip():
        from bot import app

        return app.main(args)
    chat = _terminal_chat()
    if chat is None:
        config.telegram.checked_token()  # raises the message that says how to set a token
    print("No Telegram token configured (TELEGRAM_BOT_TOKEN): starting the terminal chat.")
    return chat.main(args)


def _terminal_chat():
    try:
        return importlib.import_module("bot.chat")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.chat":
            raise
        return None
