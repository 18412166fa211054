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

from bot.i18n import N_, _


class FrontEnd(StrEnum):
    TELEGRAM = "telegram"
    TERMINAL = "terminal"  # ./engram chat
    CLI = "cli"  # ./engram COMMAND


@dataclass(frozen=True)
class Command:
    name: str  # without the slash
    args: str  # "<query>", "[period]", "" for none; words marked with N_ (shown translated: self.shown_args)
    help: str  # one line, marked with N_ for the catalogues; shown translated (_(command.help))
    cli: str | None = None  # the `./engram` subcommand that offers it
    missing: Mapping[FrontEnd, str] = field(default_factory=dict)  # a front end without it -> why (N_: _() at use)

    def offered_by(self, front_end: FrontEnd) -> bool:
        return front_end not in self.missing

    @property
    def shown_args(self) -> str:
        """The arguments as the current language writes them ('<запрос>'); '' for none."""
        return _(self.args) if self.args else ""  # _("") would be the catalogue's header

    @property
    def usage(self) -> str:
        return f"/{self.name} {self.shown_args}".rstrip()

    def line(self) -> str:
        """'<query> — search this chat's memory…': the menu's and /help's description."""
        return f"{self.shown_args} — {_(self.help)}" if self.args else _(self.help)


# Reasons shared by several commands.
CHAT_ONLY = N_("it belongs to a conversation: use it in ./engram chat or in Telegram")
REMINDERS_IN_A_CHAT = N_("a reminder is delivered by a running chat: set it in ./engram chat or in Telegram")
TELEGRAM_BUTTONS = N_("in Telegram the buttons under /topics do it")

COMMANDS: tuple[Command, ...] = (
    Command("start", "", N_("what Engram is"),
            missing={FrontEnd.CLI: N_("./engram --help says what the command line does")}),
    Command("help", "", N_("the commands"),
            missing={FrontEnd.CLI: N_("./engram --help (and ./engram COMMAND --help)")}),
    Command("search", N_("<query>"), N_("search this chat's memory by meaning and keywords"), cli="search"),
    Command("why", "", N_("what was recalled for the last reply"), missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("forget", N_("<words> | all"), N_("forget the messages with these words, or all (asks first)"),
            missing={FrontEnd.CLI: N_("forgetting asks first: use /forget in ./engram chat or in Telegram")}),
    Command("export", "", N_("this chat's memory as a JSON file (./engram import reads it back)"), cli="export"),
    Command("import", "", N_("a Telegram export's result.json: send it with the caption /import"), cli="import",
            missing={FrontEnd.TERMINAL: N_("the terminal cannot receive a file: run ./engram import FILE --into "
                                           "CHAT_ID (this chat's id) in a shell")}),
    Command("voice", N_("<audio file>"), N_("a recording on this machine, transcribed, remembered and answered"),
            missing={FrontEnd.TELEGRAM: N_("send a voice message, a video note or an audio file: it is transcribed"),
                     FrontEnd.CLI: N_("./engram import --media transcribes the voice messages of an export")}),
    Command("stats", "", N_("what is stored, models, latencies"), cli="stats"),
    Command("reset", "", N_("start a fresh conversation (long-term memory stays)"), missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("compare", N_("<text A> | <text B>"), N_("how similar two texts are (cosine, Euclidean, dot product)"),
            missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("topics", N_("[period]"), N_("what this chat talks about (last week, in November, 2025…)"), cli="topics"),
    Command("topic", N_("N [page]"), N_("the messages of topic N of the last /topics"),
            missing={FrontEnd.TELEGRAM: TELEGRAM_BUTTONS,
                     FrontEnd.CLI: N_("./engram topics CHAT_ID --json lists every topic with examples")}),
    Command("map", N_("[period]"), N_("a picture of the chat's topics"), cli="topics"),  # ./engram topics --png FILE
    Command("timeline", N_("<topic number or words>"), N_("how often it came up"), cli="topics"),  # topics --timeline
    Command("remind", N_("<when> <what>"), N_("set a reminder, e.g. /remind tomorrow at 9 call Ana"),
            missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("reminders", "", N_("this chat's pending reminders"), missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("cancel", N_("<id>"), N_("cancel a reminder"), missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("timezone", "[Europe/Lisbon]", N_("show or set this chat's time zone"),
            missing={FrontEnd.CLI: REMINDERS_IN_A_CHAT}),
    Command("language", N_("[code | auto]"), N_("show or choose the language this chat is answered in (en, ru, es…)"),
            missing={FrontEnd.CLI: CHAT_ONLY}),
    Command("quit", "", N_("leave (Ctrl-D works too)"),
            missing={FrontEnd.TELEGRAM: N_("a Telegram chat stays open"),
                     FrontEnd.CLI: N_("each command ends by itself")}),
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
    said = {FrontEnd.TELEGRAM: N_("/{name} is not in Telegram: {reason}."),
            FrontEnd.TERMINAL: N_("/{name} is not in the terminal chat: {reason}."),
            FrontEnd.CLI: N_("/{name} is not in the command line: {reason}.")}[front_end]
    return _(said).format(name=name, reason=_(command.missing[front_end]))


def help_text(front_end: FrontEnd) -> str:
    """The plain-text command list of a front end (the terminal's /help)."""
    commands = offered(front_end)
    width = max(len(c.usage) for c in commands) + 2
    return _("Commands:") + "\n" + "\n".join(f"  {c.usage:<{width}}{_(c.help)}" for c in commands)
