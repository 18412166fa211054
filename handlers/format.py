"""Text for Telegram: escaping, the little Markdown a model writes turned into Telegram HTML, and splitting.

Everything Engram sends uses parse_mode HTML. Any text that did not come from us (model output, stored messages,
queries) goes through `escape` or `to_html`, so a `<`, `&`, `*`, `_` or backtick in it can never break a message.
If Telegram still refuses the entities, the sender falls back to plain text (handlers/streaming.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _

MESSAGE_LIMIT = 4096  # Telegram's limit on a message's text, in UTF-16 units, counted after entity parsing
FENCE = "```"

_FENCE_RE = re.compile(r"```([\w+-]*)\n?(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_RE = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*")


def escape(text: str) -> str:
    """Plain text made safe for parse_mode HTML."""
    return html.escape(text, quote=False)


def to_html(text: str) -> str:
    """Model output as Telegram HTML: ``` blocks → <pre>, `code` → <code>, **bold** → <b>; the rest escaped.

    An unclosed fence (a reply still streaming) runs to the end of the text, so every partial text renders too.
    """
    out: list[str] = []
    pos = 0
    for match in _FENCE_RE.finditer(text):
        out.append(_inline_html(text[pos:match.start()]))
        code = match.group(2).rstrip("\n")
        out.append(f"<pre>{escape(code)}</pre>" if code.strip() else "")
        pos = match.end()
    out.append(_inline_html(text[pos:]))
    return "".join(out)


def _inline_html(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _INLINE_RE.finditer(text):
        out.append(escape(text[pos:match.start()]))
        if match.group(1) is not None:
            out.append(f"<code>{escape(match.group(1))}</code>")
        else:
            out.append(f"<b>{escape(match.group(2))}</b>")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def message_link(chat_id: int, message_id: int) -> str | None:
    """A t.me link to a message of a supergroup or channel (ids -100…); other chats have none."""
    text = str(chat_id)
    return f"https://t.me/c/{text[4:]}/{message_id}" if text.startswith("-100") and len(text) > 4 else None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (a character outside the BMP, most emoji, is two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _fit(text: str, units: int) -> int:
    """The longest prefix of `text` (in characters) whose UTF-16 length is at most `units`."""
    count = 0
    for index, ch in enumerate(text):
        count += 2 if ord(ch) > 0xFFFF else 1
        if count > units:
            return index
    return len(text)


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Cut text into parts of at most `limit` UTF-16 units (what Telegram counts), at a line break or space when
    one is near the end.

    A code block cut in two is closed at the end of one part and reopened at the start of the next. Each part's
    rendered (visible) length is at most its raw length, so parts also fit after `to_html`.
    """
    budget = limit - 2 * (len(FENCE) + 1)  # room to close and reopen a fence
    parts: list[str] = []
    rest = text
    reopen = False
    while rest:
        head = FENCE + "\n" if reopen else ""
        room = budget - len(head)
        fits = utf16_len(rest) <= room
        if fits and (head + rest).count(FENCE) % 2 == 0:
            parts.append(head + rest)
            break
        if fits:
            cut = len(rest)
        else:
            cut = _cut_point(rest, _fit(rest, room))
        part = head + rest[:cut].rstrip()
        rest = rest[cut:].lstrip("\n ")
        reopen = part.count(FENCE) % 2 == 1
        if reopen:
            part += "\n" + FENCE
        parts.append(part)
    return [p for p in parts if p.strip()] or [""]


def _cut_point(text: str, room: int) -> int:
    for sep in ("\n", " "):
        at = text.rfind(sep, room // 2, room)
        if at > 0:
            return at
    return room


def page_buttons(callback: Callable[[int], str], page: int, more: bool) -> InlineKeyboardMarkup | None:
    """"◀ back" / "more ▶" buttons under a paged result; `callback(n)` is the callback data of page n."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ " + _("back"), callback_data=callback(page - 1)))
    if more:
        buttons.append(InlineKeyboardButton(_("more") + " ▶", callback_data=callback(page + 1)))
    return InlineKeyboardMarkup([buttons]) if buttons else None
