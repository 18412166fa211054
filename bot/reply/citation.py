"""The memory a finished reply cites, chosen and worded once for every front end.

A reply made by the model cites the recalled memory sharing most meaningful words with what it said (none when
it shares none: then the reply did not come from memory); a reply decided without the model cites the memory its
answer rests on. The wording ("— 2026-11-20, Ana: “My dog is called Rex.”") is the same everywhere; each front
end only picks its markup (plain text, Telegram HTML) and, where it has them, a link to the original message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from bot.text import Markup, sender
from memory import Hit, Message
from memory.text import content_words

CITED_WORDS = 8  # of a memory shown under a reply that used it


def most_sharing(said: set[str], memories: Sequence[Hit]) -> Hit | None:
    """The memory sharing most of these words (the best-ranked on a tie); None if none shares any."""
    best = max(memories, key=lambda h: len(said & content_words(h.message.text)), default=None)
    return best if best is not None and said & content_words(best.message.text) else None


def cited(reply: str, memories: Sequence[Hit]) -> Hit | None:
    """The memory a reply rests on: the one sharing most meaningful words with it (the best-ranked on a tie);
    None if it shares none with any (then the reply did not come from memory)."""
    return most_sharing(content_words(reply), memories)


def choose(reply: str, memories: Sequence[Hit], source: Hit | None, decided: bool) -> Hit | None:
    """The memory to cite under a finished reply: for an answer decided without the model, the memory it rests on
    (`source`); for the model's, the memory it shares most words with (`cited`)."""
    return source if decided else cited(reply, memories)


def citation_text(message: Message, m: Markup, link: str | None = None) -> str:
    """'— 2026-11-20, Ana: “My dog is called Rex.”': the memory a reply used, its date linked where it can be."""
    words = message.text.split()
    snippet = " ".join(words[:CITED_WORDS]) + (" …" if len(words) > CITED_WORDS else "")
    day = m.escape(datetime.fromtimestamp(message.created_at, tz=timezone.utc).strftime("%Y-%m-%d"))
    return f"— {m.link(day, link) if link else day}, {m.escape(sender(message))}: “{m.escape(snippet)}”"
