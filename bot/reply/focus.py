"""A note as the model is shown it: the part of the memory that speaks of the question, without the chatter
around it. The memory itself (recall, /why, the citation) is unchanged.

Shown "Had my check-up this morning, turns out my blood type is O negative." and asked "What's my blood type
again?", SmolLM2-135M answered "Had your blood type checked again."; shown "Book club meets at the Red Lion this
month, upstairs room." and asked where book club is, "Upstairs.". A small model copies the start or the end of a
note: the clauses at both ends that share no meaningful word with the question and name nothing (no number, no
name: "a blue Volvo" stays) are left out, unless the clause kept leans on the one before it ("…metformin, so I no
longer take it": "it" needs "metformin").
"""

from __future__ import annotations

import re

from memory.text import content_words

_PARTS = re.compile(r"(?<=[,;:.!?])\s+")
# A clause that leans on the one before it: a pronoun or a conjunction first.
_LEANS = re.compile(r"^(so|and|but|or|then|which|who|where|it|it's|its|he|she|they|them|this|that|these|those|"
                    r"there|his|her|their)\b", re.I)
_CHATTER = re.compile(r"^((turns out|it turns out|btw|by the way|fyi|so|anyway|apparently|well|oh|also|and)"
                      r"[,:]?\s+)+", re.I)
# A clause after the kept ones that undoes or changes them ("…, but that got cancelled", "…, cancelled now", "…,
# it's been pushed back three hours"): kept with them, or the model is shown a fact that no longer holds.
_UNDOES = re.compile(r"\b(?:cancel\w*|call(?:ed)? off|postpon\w*|push\w* back|mov\w*|resched\w*|delay\w*|"
                     r"chang\w*|no longer|not any ?more|anymore|isn'?t|wasn'?t|won'?t|not|never|instead|actually|"
                     r"scrap\w*|off)\b", re.I)
MIN_WORDS = 8  # a shorter note is shown as said


def names(part: str) -> bool:
    """True when a clause names something (a number, a name: "a blue Volvo", "at 5:45"): it may be the answer,
    and is kept even when it shares no word with the question."""
    tokens = part.split()
    return any(any(c.isdigit() for c in t) for t in tokens) or any(t[:1].isupper() and t != "I" for t in tokens[1:])


def focus(text: str, question: str) -> str:
    """The clauses of `text` from the first to the last that share a meaningful word with `question` (the one
    before a clause that leans on it too), without a lead-in ("turns out", "btw"); `text` itself when it is short,
    shares nothing, or is one clause."""
    wanted = content_words(question)
    parts = _PARTS.split(text.strip())
    if not wanted or len(parts) < 2 or len(text.split()) < MIN_WORDS:
        return text
    scores = [len(wanted & content_words(p)) or names(p) for p in parts]
    if not any(len(wanted & content_words(p)) for p in parts):
        return text
    first = next(i for i, n in enumerate(scores) if n)
    last = max(i for i, n in enumerate(scores) if n)
    while first > 0 and _LEANS.match(parts[first]):
        first -= 1
    last = max([last, *(i for i in range(last + 1, len(parts)) if _UNDOES.search(parts[i]))])
    if (first, last) == (0, len(parts) - 1):
        return text
    kept = _CHATTER.sub("", " ".join(parts[first:last + 1])).rstrip(",;: ")
    if not kept:
        return text
    kept = kept[:1].upper() + kept[1:]
    return kept if kept.endswith((".", "!", "?")) else kept + "."
