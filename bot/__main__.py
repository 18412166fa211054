"""Engram's command line: `python -m bot <command>` (or `./engram <command>`).

Each command lives in a module with `add_arguments(parser)` and `main(args) -> int` (or `add_<name>_arguments`
and `main_<name>` where one module holds several). Command modules keep heavy imports (torch, transformers)
inside their functions, so building the parser stays fast. `python -m bench` runs the same machinery over the
benchmark commands.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys

# Must be set before torch loads OpenMP. With the default (spinning) policy, torch's threads stall each other when
# another process takes a core: on the shared 2-core machine, first token went from 0.3-0.5 s to 4-8 s and decode
# from 9-15 to 1-3 tokens/s (docs/BENCHMARKS.md). Its cost on an idle machine is not measured yet.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from bot.errors import EngramError
from memory.errors import MemoryStoreError

# The command line is the one place that knows every front end: the Telegram bot lives in handlers/ (which
# imports bot; bot never imports it), so it is named here, not imported. Benchmarks are `python -m bench`.
# Which chat command each one offers, and why the others are not here: bot/commands/table.py (tests check both).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("handlers.app", "run the assistant: Telegram if a token is configured, else the terminal chat"),
    "telegram": ("handlers.app", "run the Telegram bot"),
    "chat": ("bot.cli.chat", "chat with Engram in this terminal"),
    "import": ("bot.importing.cli", "import a Telegram Desktop JSON export (or Engram's /export) into the memory"),
    "search": ("bot.cli.tools", "search a chat's memory by meaning and keywords (--json for scripts)"),
    "stats": ("bot.cli.tools", "what the memory holds: messages by who wrote them, when, the database and the "
                               "embedding model, as /stats shows them (--json for scripts)"),
    "topics": ("bot.cli.tools", "a chat's topics (--json), its map (--png) and a topic's timeline (--timeline)"),
    "export": ("bot.cli.tools", "a chat's memory as JSON, as Telegram's /export (./engram import reads it back)"),
    "reembed": ("bot.cli.tools", "re-embed every message with the configured embedding model"),
    "prepare": ("bot.cli.tools", "load the models once, so their caches exist (the Dockerfile runs it)"),
}


def build_parser(commands: dict[str, tuple[str, str]] = COMMANDS,
                 description: str = "Engram: a Telegram assistant with semantic memory") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engram", description=description)
    parser.add_argument("--config", help="path to config.yaml (default: ./config.yaml or $ENGRAM_CONFIG)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in commands.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(module=module_name)
        add = getattr(module, f"add_{name.replace('-', '_')}_arguments", None) or module.add_arguments
        add(command)
    return parser


# The evaluations and benchmarks (`python -m bench`, bench/__main__.py): `./engram` sends these names there.
BENCH_NAMES = re.compile(r"(eval|bench)-[a-z-]+")


def main(argv: list[str] | None = None, commands: dict[str, tuple[str, str]] = COMMANDS,
         default: str | None = "run", description: str | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    elsewhere = next((a for a in given if BENCH_NAMES.fullmatch(a) and a not in commands), None)
    if elsewhere is not None:  # `python -m bot eval-replies`: not "invalid choice", but where it lives
        print(f"engram: {elsewhere} is an evaluation or benchmark: `python -m bench {elsewhere}` "
              f"(or `./engram {elsewhere}`) runs it.", file=sys.stderr)
        return 2
    parser = build_parser(commands, description) if description else build_parser(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "apscheduler", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command is None:
        if default is None:
            parser.print_help()
            return 2
        args = parser.parse_args([default, *(argv or sys.argv[1:])])
    module = importlib.import_module(args.module)
    runner = getattr(module, f"main_{args.command.replace('-', '_')}", None) or module.main
    try:
        return int(runner(args) or 0)
    except (EngramError, MemoryStoreError) as exc:
        print(f"engram: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
