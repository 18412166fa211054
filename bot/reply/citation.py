"""The memory a finished reply cites, chosen and worded once for every front end.

A citation is shown only when the cited memory supports the answer: something a person said (never a question,
never the assistant's own reply or acknowledgement: bot/reply/intent.py said_by_a_person) that shares the
answer's meaningful words — the words it adds to the question when it adds any ("Who is the cello teacher?" →
"The cello teacher is Bob Jones." is not supported by "Good luck with the cello!"), else all of its words. A reply
made by the model cites the supporting memory sharing most of them (none when none supports it: then the reply
did not come from memory); a reply decided without the model cites the memory its answer rests on. The wording
("— 2026-11-20, Ana: “My dog is called Rex.”"; "Ana (voice message)" for one said aloud) is the same
everywhere; each front end only picks its markup (plain text, Telegram HTML) and, where it has them, a link to
the original message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from bot.i18n import isolate
from bot.reply.intent import said_by_a_person
from bot.text import Markup, said_in
from memory import Hit, Message
from memory.lang import language_of
from memory.text import content_words

CITED_WORDS = 8  # of a memory shown under a reply that used it


def most_sharing(said: set[str], memories: Sequence[Hit], lang: str | None = None) -> Hit | None:
    """The memory sharing most of these words (the best-ranked on a tie); None if none shares any. `lang`: the
    language the words were read in (each memory is read in it too; its own by default)."""
    best = max(memories, key=lambda h: len(said & content_words(h.message.text, lang=lang)), default=None)
    return best if best is not None and said & content_words(best.message.text, lang=lang) else None


def answer_words(reply: str, question: str = "", lang: str | None = None) -> tuple[set[str], bool]:
    """(the words a memory must share to support a reply, whether it must share all of them): what the reply adds
    to the question, any of it; or, when it adds nothing ("Yes, Ana likes the cello."), every word it says."""
    said = content_words(reply, lang=lang)
    new = said - content_words(question, lang=lang) - content_words(question, asking=True, lang=lang)
    return (new, False) if new else (said, True)


def supports(memory: Message, reply: str, question: str = "") -> bool:
    """True if a person said it (not a question, not the assistant's words) and it shares the reply's words."""
    lang = language_of(reply)
    return _supports(memory, *answer_words(reply, question, lang), lang)


def _supports(memory: Message, wanted: set[str], every: bool, lang: str | None = None) -> bool:
    shared = wanted & content_words(memory.text, lang=lang)
    return said_by_a_person(memory) and bool(shared) and (not every or shared == wanted)


def cited(reply: str, memories: Sequence[Hit], question: str = "") -> Hit | None:
    """The memory a reply rests on: of those that support it, the one sharing most of its words (the best-ranked
    on a tie); None if none supports it (then the reply did not come from memory). Reply, question and memories
    are all read in the reply's language."""
    lang = language_of(reply)
    wanted, every = answer_words(reply, question, lang)  # once, not once a memory
    return most_sharing(wanted, [h for h in memories if _supports(h.message, wanted, every, lang)], lang)


def choose(reply: str, memories: Sequence[Hit], source: Hit | None, decided: bool, question: str = ""
           ) -> Hit | None:
    """The memory to cite under a finished reply: for an answer decided without the model, the memory it rests on
    (`source`) if a person said it; for the model's, the memory that supports it best (`cited`)."""
    if decided:
        return source if source is not None and said_by_a_person(source.message) else None
    return cited(reply, memories, question)


def citation_text(message: Message, m: Markup, link: str | None = None) -> str:
    """'— 2026-11-20, Ana: “My dog is called Rex.”': the memory a reply used, its date linked where it can be."""
    words = message.text.split()
    snippet = " ".join(words[:CITED_WORDS]) + (" …" if len(words) > CITED_WORDS else "")
    day = m.escape(datetime.fromtimestamp(message.created_at, tz=timezone.utc).strftime("%Y-%m-%d"))
    who, said = isolate(said_in(message)), isolate(snippet)  # a Persian memory under an English reply keeps its order
    return f"— {m.link(day, link) if link else day}, {m.escape(who)}: “{m.escape(said)}”"
