"""One command set for every front end: Telegram's handlers and menu, the terminal chat's commands and the command
line's subcommands all match bot/commands/table.py, where a front end without a command says why."""

from __future__ import annotations

import io

from telegram.ext import CommandHandler

from bot.__main__ import COMMANDS as CLI_COMMANDS
from bot.cli.chat import Terminal
from bot.commands import table
from bot.commands.table import CLI_ONLY, COMMANDS, FrontEnd
from bot.config import Config


def names(front_end: FrontEnd) -> set[str]:
    return {c.name for c in table.offered(front_end)}


def telegram_commands(tmp_path) -> set[str]:
    from handlers.app import build_application

    config = Config(base_dir=tmp_path)
    config.telegram.token = "123456:" + "A" * 35  # never used: nothing is started
    application = build_application(config)
    return {name for handlers in application.handlers.values() for h in handlers if isinstance(h, CommandHandler)
            for name in h.commands}


def test_every_command_is_offered_or_excused_by_every_front_end():
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)
    for command in COMMANDS:
        assert set(command.missing) < set(FrontEnd), f"/{command.name} is offered nowhere"
        assert all(reason.strip() for reason in command.missing.values()), command.name
        assert (command.cli is not None) == command.offered_by(FrontEnd.CLI), command.name


def test_telegram_handles_exactly_the_table_and_its_menu_is_the_table(tmp_path):
    from handlers.app import MENU

    assert telegram_commands(tmp_path) == names(FrontEnd.TELEGRAM)
    assert [name for name, _ in MENU] == [c.name for c in table.offered(FrontEnd.TELEGRAM)]


def test_the_terminal_handles_exactly_the_table(tmp_path):
    terminal = Terminal(Config(base_dir=tmp_path), 0, "you", out=io.StringIO())
    assert set(terminal.handlers) == names(FrontEnd.TERMINAL)


def test_the_command_line_offers_the_table_and_its_own_commands():
    offered = {c.cli for c in table.offered(FrontEnd.CLI)}
    assert set(CLI_COMMANDS) == offered | set(CLI_ONLY)
    assert not offered & set(CLI_ONLY)


def test_telegram_and_the_terminal_differ_only_where_the_table_says_why():
    for name in names(FrontEnd.TELEGRAM) ^ names(FrontEnd.TERMINAL):
        command = table.find(name)
        assert command is not None and (set(command.missing) & {FrontEnd.TELEGRAM, FrontEnd.TERMINAL})
    assert names(FrontEnd.TELEGRAM) - names(FrontEnd.TERMINAL) == {"import"}  # a file upload
    # buttons; a chat stays open; a file on this machine (Telegram hears voice messages themselves)
    assert names(FrontEnd.TERMINAL) - names(FrontEnd.TELEGRAM) == {"topic", "quit", "voice"}


async def test_the_terminal_help_lists_its_commands_and_names_the_reason_for_others(tmp_path):
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), 42, "you", out=out)
    await terminal.command("/help")
    for command in table.offered(FrontEnd.TERMINAL):
        assert f"  {command.usage} " in out.getvalue()
    await terminal.command("/import")
    assert "/import is not in the terminal chat" in out.getvalue() and "./engram import FILE" in out.getvalue()
    assert "This chat's id is 42." in out.getvalue()
    await terminal.command("/frobnicate")
    assert out.getvalue().rstrip().endswith("Unknown command /frobnicate. /help lists them.")
