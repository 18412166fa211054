"""`./engram run`: the Telegram bot when a token is configured, else the terminal chat."""

from __future__ import annotations

import argparse
import sys

from bot import chat
from bot.config import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    chat.add_arguments(parser)  # `run` may fall back to the terminal chat, so it takes its options


def main(args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    if config.telegram.token.strip():
        from bot import app

        return app.main(args)
    if not sys.stdin.isatty():
        config.telegram.checked_token()  # no terminal to chat in (a service, Docker): say how to set a token
    print("No Telegram token configured (TELEGRAM_BOT_TOKEN): starting the terminal chat.")
    return chat.main(args)
