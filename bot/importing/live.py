"""An import from a chat front end (Telegram's /import): which chats of the file go where, and yielding to replies.

`/import` takes the file's only chat into the chat it was sent in; of a whole-account export it needs the name or
id of the one chat to take (`/import Family`). In the owner's private chat, `/import into -100123… [chat]` takes
it into another chat instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.commands.actions import UsageError
from bot.i18n import N_, _
from bot.importing.formats import ChatExport, ExportFile
from bot.reply.assistant import Assistant
from bot.text import plural

USAGE = N_("Usage: send the result.json of a Telegram Desktop export (Format: JSON) with the caption /import, or "
         "reply /import to it; /import <chat name> picks a chat of a whole-account export.")
TELEGRAM_FILE_LIMIT = 20 * 1024 * 1024  # what the public Bot API lets a bot download
IDLE_POLL = 0.1  # seconds between looks at whether the assistant is still replying


@dataclass
class ImportRequest:
    target: int
    chat: str  # which chat of a whole-account export ('' = the file's only chat)


def request(arguments: str, here: int, *, owner_private: bool) -> ImportRequest:
    """The words after /import: `[into CHAT_ID] [chat name or id]`."""
    words = arguments.split()
    target = here
    if words[:1] == ["into"]:
        if not owner_private:
            raise UsageError(_("Only the bot's owner, in a private chat with me, may import into another chat."))
        if len(words) < 2 or not words[1].lstrip("-").isdigit():
            raise UsageError(_("Usage: /import into <chat id> [chat name]"))
        target, words = int(words[1]), words[2:]
    return ImportRequest(target, " ".join(words))


def choose(exported: ExportFile, wanted: str) -> list[ChatExport]:
    """The one chat to import: named, or the file's only one."""
    if wanted:
        return exported.pick([wanted])[:1]
    if len(exported.chats) > 1:
        names = ", ".join(c.name for c in exported.chats[:15])
        raise UsageError(_("This export holds {chats} ({names}): reply to it with /import <chat name> to import "
                           "one.").format(chats=plural(len(exported.chats), "chat"), names=names))
    return exported.chats


def too_big(size: int | None, self_hosted: bool) -> str | None:
    """Why a file of this size cannot be fetched (None if it can)."""
    if size is None or self_hosted or size <= TELEGRAM_FILE_LIMIT:
        return None
    return _("This file is {size} MB, and Telegram lets bots download files of up to 20 MB. A self-hosted Bot API "
             "server lifts that limit (set telegram.base_url to it), or import it on the bot's machine with "
             "./engram import FILE.").format(size=f"{size / 2**20:.0f}")


async def until_idle(assistant: Assistant) -> None:
    """Wait while a reply is waiting or being written: an import never shares the CPU with one."""
    while assistant.busy:
        await asyncio.sleep(IDLE_POLL)
