"""A relative time copied from a memory, said as the time it meant: "last Friday" → "the Friday before 15 July 2023".

A memory's "last Friday" meant the Friday before the day it was said, not the Friday before today; a reply that
repeats it as it stands misleads. The resolver sits on the reply's stream (after the echo filter) and rewrites
such a phrase with the day of the memory it came from: the memory holding the same phrase that shares most words
with the reply so far and some word besides the phrase (a phrase no memory holds so is the model's own, and a
phrase of the question itself is the asker's: both stay). It holds back the last few words
of the stream (a phrase is at most three words long), so what is shown and what is stored are the same text.
Only phrases whose meaning is certain are rewritten: "on Friday" or "this Friday" may be before or after the
day they were said, and keep the " (said on …)" of when_said instead. A memory said on the day of the question
(`now`) needs neither: its "yesterday" and "this week" mean what they say today.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.reply.citation import cited, most_sharing
from bot.reply.intent import without_mentions
from memory import Hit
from memory.text import content_words

_DAY = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_UNIT = r"week|weekend|month|year"
PHRASE = re.compile(
    rf"\b(yesterday|tomorrow|today|tonight|last night|(last|next) ({_UNIT}|{_DAY})|this ({_UNIT})|"
    r"(\w+|a couple of) (days?|weeks?|months?|years?) ago)\b", re.I)
# Relative times whose meaning is not certain ("on Friday" may be before or after the day it was said): never
# rewritten, but a reply holding one (or a PHRASE) gets when_said's " (said on …)".
UNCERTAIN = re.compile(rf"\b(recently|last \w+day|(this|next) (morning|\w+day)|on ({_DAY}))\b", re.I)
HOLD_WORDS = 3


def resolved(phrase: str, day: str) -> str:
    """The phrase as the time it meant when said on `day`: "two weeks ago" → "two weeks before 11 August 2023"."""
    low = phrase.lower()
    fixed = {"yesterday": f"the day before {day}", "tomorrow": f"the day after {day}", "today": f"on {day}",
             "tonight": f"on the night of {day}", "last night": f"the night before {day}"}
    if low in fixed:
        return fixed[low]
    first, _, rest = low.partition(" ")
    unit = rest.capitalize() if re.fullmatch(_DAY, rest) else rest
    if first == "last":
        return f"the {unit} before {day}"
    if first == "next":
        return f"the {unit} after {day}"
    if first == "this":
        return f"the {unit} of {day}"
    return phrase[: -len("ago")] + f"before {day}"  # "two weeks ago" → "two weeks before …"


class TimeResolver:
    def __init__(self, memories: Sequence[Hit], day: Callable[[float], str], question: str = "",
                 now: float | None = None):
        today = day(now) if now is not None else None
        self._memories = [h for h in memories if day(h.message.created_at) != today]  # today's need no date
        self._question = question.lower()
        self._day = day
        self._held = ""
        self._said = ""  # the text let through so far (before rewriting): what the source is chosen by
        # Only a memory holding a phrase can be a source: without one, nothing is held back (words stream as they
        # come, and a reply that fails midway has shown what it had).
        self._active = any(PHRASE.search(h.message.text) for h in self._memories)

    def feed(self, chunk: str) -> str:
        if not self._active:
            return chunk
        self._held += chunk
        starts = [m.start() for m in re.finditer(r"\S+", self._held)]
        if len(starts) <= HOLD_WORDS:
            return ""
        cut = starts[-HOLD_WORDS]
        for match in PHRASE.finditer(self._held):
            if match.start() < cut < match.end():
                cut = match.start()
        out, self._held = self._held[:cut], self._held[cut:]
        return self._rewrite(out)

    def finish(self) -> str:
        out, self._held = self._held, ""
        return self._rewrite(out)

    def _rewrite(self, text: str) -> str:
        if not self._memories:
            return text
        pieces, last = [], 0
        for match in PHRASE.finditer(text):
            source = self._source(match[0], self._said + text[: match.end()])
            if source is not None:
                pieces += [text[last:match.start()], resolved(match[0], self._day(source.message.created_at))]
                last = match.end()
        self._said += text
        return "".join(pieces) + text[last:]

    def _source(self, phrase: str, said: str) -> Hit | None:
        """The memory the phrase came from: one holding it that shares most other words with the reply, else None."""
        if phrase.lower() in self._question:
            return None
        holding = [h for h in self._memories if phrase.lower() in h.message.text.lower()]
        return most_sharing(content_words(said) - content_words(phrase), holding)


_WHEN = re.compile(r"^\s*(when|what (year|month|day|date)|which (year|month|week|day))\b", re.I)
_A_DATE = re.compile(r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|"
                     r"november|december)\b", re.I)


def when_said(reply: str, memories: Sequence[Hit], day: Callable[[float], str], question: str = "",
              now: float | None = None) -> str | None:
    """' (said on 15 July 2023)' when a reply from memory dates something relatively ("last Friday") or answers
    a "when" question without a date: the memory knows the day it was said. None otherwise, and None when that
    memory was said on the day of the question (`now`): "this week" said today is this week."""
    undated_when = bool(_WHEN.match(without_mentions(question))) and not _A_DATE.search(reply)
    if not (PHRASE.search(reply) or UNCERTAIN.search(reply) or undated_when):
        return None
    source = cited(reply, memories)
    if source is None or (now is not None and day(source.message.created_at) == day(now)):
        return None
    return f" (said on {day(source.message.created_at)})"
