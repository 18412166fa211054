"""Words of a text, once for every layer: keyword queries (memory/recall.py), what a message is about and whether a
memory shares its subject (bot/reply). It lives in memory/ because the lowest layer needs it and imports nothing
of ours; bot/ uses the same functions.

Words are Unicode: `\\w+` over the lower-cased text, so a Cyrillic or Arabic word is a word like an English one.
Stopwords and the rough stem are English for now.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

# Words too common to tell what a text is about: never a keyword match, never shared subject matter. The vector
# side of recall still sees them.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could d did didn do does doesn doing don down during each either ever every few for
    from further had has have having he her here hers herself him himself his how i if in into is isn it its itself
    just ll m may me might more most much must my myself never no nor not now of off on once only or other our ours
    ourselves out over own re s same shall she should so some such t than that the their theirs them themselves
    then there these they this those through to too under until up us ve very was wasn we were weren what when
    where which while who whom whose why will with won would yes you your yours yourself yourselves""".split()
)
# Words of asking about a memory ("tell me what I said my dog is called"): nothing of its subject, unless they are
# all a question has ("What is my name?", "Do you know my name?": see content_words' `asking`).
ASKING = frozenset("tell know remember said say told name called".split())


def words(text: str) -> list[str]:
    """All the words of a text, lower-cased, stopwords included, in order."""
    return _WORD.findall(text.lower())


def keywords(text: str) -> list[str]:
    """The words of a text worth matching, de-duplicated, in order."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


def stem(word: str) -> str:
    """A rough stem: "parked", "parks" -> "park"; "researching" -> "resea"; "likes", "liked" -> "lik"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word[:5]


# Of the words of asking, those that are a subject when a question has no other ("What am I called?"): a name.
NAMING = {"name": "name", "called": "name"}


def content_words(text: str, asking: bool = False) -> set[str]:
    """The words that carry meaning, as rough stems, so "researching" meets "research" and "parked" "park".
    The words of asking (ASKING) are left out; with `asking`, for a question that has no other subject ("What is
    my name?", "Do you know my name?", "What am I called?"), those that name a name are kept, as "name"."""
    return {stem(NAMING[w] if asking and w in NAMING else w) for w in keywords(text)
            if len(w) > 1 and (w not in ASKING or (asking and w in NAMING))}
