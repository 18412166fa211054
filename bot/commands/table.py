"""Every user command once: its name, arguments, one line of help, and which front ends have it.

The one list of commands. Telegram's menu (setMyCommands) and /help, the terminal chat's /help and the answer to a
command it lacks come from here; the terminal's dispatch, the Telegram handlers and the command line's subcommands
(`python -m bot`, bot/__main__.py) are checked against it (tests/test_command_sets.py). A front end that does not
offer a command names the reason in `missing`, and tells it to whoever types the command there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FrontEnd(StrEnum):
    TELEGRAM = "telegram"
    TERMINAL = "terminal"  # ./engram chat
    CLI = "cli"  # ./engram COMMAND


@dataclass(frozen=True)
class Command:
    name: str  # without the slash
    args: str  # "<query>", "[period]", "" for none
    help: str  # one line
    cli: str | None = None  # the `./engram` subcommand that offers it
    missing: Mapping[FrontEnd, str] = field(default_factory=dict)  # a front end without it -> why

    def offered_by(self, front_end: FrontEnd) -> bool:
        return front_end not in self.missing

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.args}".rstrip()

    def line(self) -> str:
        """'<query> — search this chat's memory…': the menu's and /help's description."""
        return f"{self.args} — {self.help}" if self.args else self.help


# Reasons shared by several commands.
CHAT_ONLY = "it belongs to a conversation: use it in ./engram chat or in Telegram"
REMINDERS_IN_A_CHAT = "a reminder is delivered by a running chat: set it in ./engram chat or in Telegram"
TELEGRAM_BUTTONS = "in Telegram the buttons under /topics do it"

COMMANDS: tuple[Command, ...] = (
    Command("start", "", "what Engram is", missing={FrontEnd.CLI: "./engram --help says what the command line does"}),
    Command("help", "", "the commands", missing={FrontEnd.CLI: "./engram --help (and ./engram COMMAND --help)"}),
    Command("search", "<query>", "search this chat's memory by meaning and keywords", cli="search"),
    Command("why", "", "what was recalled for the last reply", missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("forget", "<words> | all", "forget the messages with these words, or all (asks first)",
            missing={FrontEnd.CLI: "forgetting asks first: use /forget in ./engram chat or in Telegram"}),
    Command("export", "", "this chat's memory as a JSON file (./engram import reads it back)", cli="export"),
    Command("import", "", "a Telegram export's result.json: send it with the caption /import", cli="import",
            missing={FrontEnd.TERMINAL: "the terminal cannot receive a file: run ./engram import FILE --into "
                                        "CHAT_ID (this chat's id) in a shell"}),
    Command("voice", "<audio file>", "a recording on this machine, transcribed, remembered and answered",
            missing={FrontEnd.TELEGRAM: "send a voice message, a video note or an audio file: it is transcribed",
                     FrontEnd.CLI: "./engram import --media transcribes the voice messages of an export"}),
    Command("stats", "", "what is stored, models, latencies", cli="stats"),
    Command("reset", "", "start a fresh conversation (long-term memory stays)", missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("compare", "<text A> | <text B>", "how similar two texts are (cosine, Euclidean, dot product)",
            missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("topics", "[period]", "what this chat talks about (last week, in November, 2025…)", cli="topics"),
    Command("topic", "N [page]", "the messages of topic N of the last /topics",
            missing={FrontEnd.TELEGRAM: TELEGRAM_BUTTONS,
                     FrontEnd.CLI: "./engram topics CHAT_ID --json lists every topic with examples"}),
    Command("map", "[period]", "a picture of the chat's topics", cli="topics"),  # ./engram topics --png FILE
    Command("timeline", "<topic number or words>", "how often it came up", cli="topics"),  # topics --timeline
    Command("remind", "<when> <what>", "set a reminder, e.g. /remind tomorrow at 9 call Ana",
            missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("reminders", "", "this chat's pending reminders", missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("cancel", "<id>", "cancel a reminder", missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("timezone", "[Europe/Lisbon]", "show or set this chat's time zone",
            missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("quit", "", "leave (Ctrl-D works too)",
            missing={FrontEnd.TELEGRAM: "a Telegram chat stays open", FrontEnd.CLI: "each command ends by itself"}),
)

# The command line's own subcommands, which are not chat commands: why each one is there.
CLI_ONLY: Mapping[str, str] = {
    "run": "starts a front end: Telegram with a token, else the terminal chat",
    "telegram": "starts the Telegram bot",
    "chat": "starts the terminal chat",
    "reembed": "maintenance of the whole memory",
    "prepare": "maintenance: loads the models once",
}


def offered(front_end: FrontEnd) -> list[Command]:
    """The commands a front end has, in menu order."""
    return [c for c in COMMANDS if c.offered_by(front_end)]


def find(name: str) -> Command | None:
    return next((c for c in COMMANDS if c.name == name), None)


def missing_text(name: str, front_end: FrontEnd) -> str | None:
    """What a front end says for a command it does not have ('/import is not in the terminal: …'), or None when
    the command is not Engram's at all or the front end has it."""
    command = find(name)
    if command is None or command.offered_by(front_end):
        return None
    where = {FrontEnd.TELEGRAM: "Telegram", FrontEnd.TERMINAL: "the terminal chat", FrontEnd.CLI: "the command line"}
    return f"/{name} is not in {where[front_end]}: {command.missing[front_end]}."


def help_text(front_end: FrontEnd) -> str:
    """The plain-text command list of a front end (the terminal's /help)."""
    commands = offered(front_end)
    width = max(len(c.usage) for c in commands) + 2
    return "Commands:\n" + "\n".join(f"  {c.usage:<{width}}{c.help}" for c in commands)
