"""Text as the front ends show it: plain or Telegram HTML (Markup), a message's sender, one-line shortening, and
counts of things ("1 message", "29 messages").

Used by the prompt (memories quoted), the views (command results) and the citation under a reply.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import N_, _, ngettext, number
from memory import Message


@dataclass(frozen=True)
class Markup:
    escape: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]  # (text already escaped, url)


PLAIN = Markup(escape=lambda text: text, bold=lambda text: text, link=lambda text, url: f"{text} {url}")
HTML = Markup(escape=lambda text: html.escape(text, quote=False), bold=lambda text: f"<b>{text}</b>",
              link=lambda text, url: f'<a href="{html.escape(url, quote=True)}">{text}</a>')


# The name the terminal chat stores with its user's messages when given none (bot/cli/chat.py --name): shown as
# the chat's own word for "you" ("вы", "tú", "du"), in citations and command answers; stored as it is.
YOU = N_("you")


def sender(message: Message) -> str:
    return message.sender_name or ("Engram" if message.role == "assistant" else _("someone"))


def shown_sender(message: Message) -> str:
    """The sender as a front end shows it: the terminal's "you" in the chat's language."""
    return _(YOU) if message.sender_name == YOU else sender(message)


# What a message made from a recording or a picture was (meta "kind"), as /why, /search and citations name it.
MEDIA_NAMES = {"voice": N_("voice message"), "video_note": N_("video note"), "audio": N_("audio file"),
               "photo": N_("picture")}


def said_in(message: Message) -> str:
    """Its sender, and what it came from when it was not typed: 'Ana (voice message)', 'Ana (picture)'."""
    medium = MEDIA_NAMES.get(message.kind or "")
    return f"{shown_sender(message)} ({_(medium)})" if medium else shown_sender(message)


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The things Engram counts aloud: a count and its noun, in the chat's language with its plural rules (Russian
# has three forms, Persian one). Each pair is written out for the catalogues' extraction.
PLURALS: dict[str, Callable[[int], str]] = {
    "message": lambda n: ngettext("{n} message", "{n} messages", n),
    "chat": lambda n: ngettext("{n} chat", "{n} chats", n),
    "topic": lambda n: ngettext("{n} topic", "{n} topics", n),
    "smaller topic": lambda n: ngettext("{n} smaller topic", "{n} smaller topics", n),
    "update": lambda n: ngettext("{n} update", "{n} updates", n),
    "error": lambda n: ngettext("{n} error", "{n} errors", n),
    "more error": lambda n: ngettext("{n} more error", "{n} more errors", n),
    "vote": lambda n: ngettext("{n} vote", "{n} votes", n),
    "dimension": lambda n: ngettext("{n} dimension", "{n} dimensions", n),
    "page": lambda n: ngettext("{n} page", "{n} pages", n),
}


def plural(count: int, noun: str) -> str:
    """A count with its noun agreeing, in the current language: '1 message', '0 messages', '12,000 messages',
    '5 сообщений' (nouns: PLURALS)."""
    return PLURALS[noun](count).format(n=number(count))
