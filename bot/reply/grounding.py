"""A value in an answer from memory is the memory's value: the model's slips of copying are set right as it writes.

SmolLM2-135M, shown "The trip budget is 300 euros each.", answered "The trip budget is 30 euros per person."; shown
"Pia will bring the football.", "The football is brought by Pio."; shown "The wifi password at the cabin is
pinecone42.", "The wifi password is 123456." The sentence was right, the value it copied was not. So when a
question is answered from memories, each word of the reply that carries a value — a number or code (it has a
digit), a name (a capitalised word inside a sentence) — and appears nowhere in what the model was given (the
prompt: memories, question, recent turns) is compared with the values of the memories shown:
- a near one (a number that is the other's start or end, "30" / "300", or one character off at the same length,
  "13th" / "12th"; a name one or two letters off with the same first letter, "Pio" / "Pia", when the model's word
  is not an English word itself, as "Dad" or "Mark" are) takes its place; one-digit numbers and clock times are
  never changed (a count or a time the model worked out: "3 years older", "by 12:30");
- a code (three digits or more, or letters and digits mixed) with no near one takes the place of the one password
  the memories hold (letters and digits mixed, "pinecone42"), when they hold exactly one — never of a plain
  number, so a year or a sum is not turned into a door code;
- anything else is left as written (a general fact the model knows, a word of its own).
The first word of a sentence is left alone (its capital says nothing), and names are read in English only (German
capitalises every noun). Streamed: a word is let through once it is complete, so the reply still streams.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from memory.text import stopwords

_TOKEN = re.compile(r"\S+")
_PARTS = re.compile(r"^(?P<lead>[(\"'“‘«]*)(?P<core>.*?)(?P<trail>(?:['’]s)?[)\"'”’».,!?;:]*)$")
_SENTENCE_END = re.compile(r"[.!?][)\"'”’»]*$")
_ABBREVIATION = re.compile(r"^(?:Dr|Mr|Mrs|Ms|St|Mt|Jr|Sr|Prof|[A-Z])\.$")


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small words: a plain table)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, start=1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _cores(text: str) -> list[str]:
    """The words of a text with the punctuation around them taken off ("4B.", "(Pia's)" → "4B", "Pia")."""
    out = []
    for token in _TOKEN.findall(text):
        core = _PARTS.match(token)["core"]  # type: ignore[index]
        if core:
            out.append(core)
    return out


def _has_digit(word: str) -> bool:
    return any(c.isdigit() for c in word)


def _is_code(word: str) -> bool:
    """A password, number or code: three digits or more, or letters and digits mixed ("pinecone42")."""
    digits = sum(c.isdigit() for c in word)
    return digits >= 3 or (digits > 0 and any(c.isalpha() for c in word))


def _is_name(word: str, lang: str) -> bool:
    return (lang == "en" and len(word) >= 2 and word[0].isupper() and word.replace("-", "").replace("'", "").isalpha()
            and word.lower() not in stopwords("en"))


class Grounding:
    """Feed it the model's text as it comes; it gives the text back with the memories' values where the model
    slipped. `memories`: the texts of the memories shown; `given`: everything else the model was given (the
    prompt's texts, the names of the chat)."""

    def __init__(self, memories: Sequence[str], given: Iterable[str] = (), lang: str = "en"):
        self.lang = lang
        self._given = {w.lower() for text in [*memories, *given] for w in _cores(text)}
        self._given |= {part.lower() for w in list(self._given) for part in re.split(r"[-/':]", w) if part}
        values = list(dict.fromkeys(w for text in memories for w in _cores(text)
                                    if _has_digit(w) or _is_name(w, lang)))
        self._numbers = [w for w in values if _has_digit(w)]
        self._names = [w for w in values if not _has_digit(w)]
        self._codes = list(dict.fromkeys(w.lower() for w in self._numbers if _is_code(w)))
        self._held = ""
        self._start = True  # the next word starts a sentence
        self.fixed: list[tuple[str, str]] = []  # (as the model wrote it, as memory has it)

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        end = max(text.rfind(" "), text.rfind("\n"))
        if end < 0:
            self._held = text
            return ""
        self._held = text[end + 1:]
        return self._fix(text[:end + 1])

    def finish(self) -> str:
        held, self._held = self._held, ""
        return self._fix(held)

    def _fix(self, text: str) -> str:
        return _TOKEN.sub(lambda m: self._word(m[0]), text)

    def _word(self, token: str) -> str:
        start, self._start = self._start, bool(_SENTENCE_END.search(token)) and not _ABBREVIATION.match(token)
        parts = _PARTS.match(token)
        if parts is None or not parts["core"]:
            return token
        core = parts["core"]
        if core.lower() in self._given:
            return token
        value = self._value_for(core, start)
        if value is None:
            return token
        self.fixed.append((core, value))
        return parts["lead"] + value + parts["trail"]

    def _value_for(self, word: str, sentence_start: bool) -> str | None:
        if _has_digit(word):
            if len(word) < 2 or _CLOCK.match(word):  # "3", "12:30": a count or a time the model worked out
                return None
            near = [(self._number_distance(word, v), v) for v in self._numbers]
            found = _closest(near)
            if found is None and _is_code(word) and len(self._codes) == 1 and _mixed(self._codes[0]):
                found = next(v for v in self._numbers if v.lower() == self._codes[0])  # "123456" for "pinecone42"
            return found
        if sentence_start or not _is_name(word, self.lang) or _a_word(word):
            return None
        limit = 1 if len(word) <= 5 else 2
        near = [(d, v) for v in self._names if v[0].lower() == word[0].lower()
                and (d := _distance(word.lower(), v.lower())) <= limit]
        return _closest(near)

    @staticmethod
    def _number_distance(word: str, value: str) -> int:
        """How far a number is from a memory's: 1 when one is the other's start or end ("30" / "300", "19" /
        "maple19") or one character off, more otherwise (too far)."""
        a, b = word.lower(), value.lower()
        if a.isdigit() and b.isdigit() and len(a) != len(b) and not (a.startswith(b) or b.startswith(a)):
            return 99  # "11400" is no slip of "950"
        if min(len(a), len(b)) >= 2 and (a.startswith(b) or b.startswith(a) or a.endswith(b) or b.endswith(a)):
            return 1
        if len(a) != len(b) or len(a) < 3:  # one digit off: only in numbers of the same length ("13th" / "12th")
            return 99
        d = _distance(a, b)
        return d if d <= (1 if len(b) < 6 else 2) else 99


_CLOCK = re.compile(r"^\d{1,2}[:.]\d{2}(?:[ap]m)?$", re.I)


def _mixed(code: str) -> bool:
    """Letters and digits together ("pinecone42"): a password or code, never a sum, a year or a count."""
    return any(c.isdigit() for c in code) and any(c.isalpha() for c in code)


def _a_word(word: str) -> bool:
    """An English word in its own right ("Dad", "Mark", "Rose"): written on purpose, not a slip of a name."""
    import simplemma

    return simplemma.is_known(word.lower(), lang="en")


def _closest(near: list[tuple[int, str]]) -> str | None:
    """The one nearest value, or None when none is near or two are equally near."""
    near = sorted((d, v) for d, v in near if d < 99)
    if not near or (len(near) > 1 and near[0][0] == near[1][0] and near[0][1].lower() != near[1][1].lower()):
        return None
    return near[0][1]
