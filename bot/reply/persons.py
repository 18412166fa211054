"""The asker's own words said back to them: "I'm allergic" → "you're allergic", "My dog" → "Your dog".

Two users: a statement acknowledged without the model (bot/reply/plan.py, acknowledge), and a model reply that
copies the asker's own memory in the first person. Asked "What is my dog's name?" with "My dog is called Rex."
recalled, SmolLM2-135M answered "My dog is Rex." although a worked example shows "Your locker code is 5512.";
`PersonSwap` sits on the reply's stream and turns such words to the asker's side. It swaps only a first-person
word that the asker's own memories use with the same next word ("my dog", "I have"), so the assistant speaking
of itself ("I don't know", "I'm here to help") is left alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

from memory import Hit, Message

SWAP = {"i": "you", "i'm": "you're", "im": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll",
        "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "we": "you", "we're": "you're",
        "we've": "you've", "we'll": "you'll", "our": "your", "ours": "yours", "us": "you", "am": "are",
        "was": "were"}
SUBJECTS = ("i", "we")  # after these, "am" and "was" follow the swap ("I am" → "you are")
_FOLLOWERS = ("am", "was")
_SENTENCE_END = re.compile(r"[.!?…]\s*$")


def core(token: str) -> str:
    """A token as the swap table knows it: lower case, straight apostrophe, no punctuation around it."""
    return token.strip(",;:()\"“”.!?").lower().replace("’", "'")


def swap_token(token: str, capital: bool) -> str:
    """The token in the second person, its punctuation kept; capitalised at the start of a sentence."""
    word = core(token)
    start = token.lower().replace("’", "'").find(word)
    swapped = SWAP[word]
    if capital:
        swapped = swapped[0].upper() + swapped[1:]
    return token[:start] + swapped + token[start + len(word):]


def second_person(tokens: Sequence[str]) -> list[str]:
    """Every first-person word turned to the second person (a statement said back: acknowledge)."""
    out, subject = [], False
    for token in tokens:
        word = core(token)
        if word in SWAP and (word not in _FOLLOWERS or subject):
            out.append(swap_token(token, capital=False))
            subject = word in SUBJECTS
        else:
            out.append(token)
            subject = False
    return out


def own_memories(hits: Iterable[Hit], asker: Message) -> list[Hit]:
    """The memories the asker said themself (not the assistant's, not another person's)."""
    return [h for h in hits if h.message.role != "assistant" and said_by(h.message, asker)]


def said_by(message: Message, asker: Message) -> bool:
    if message.sender_id is not None and asker.sender_id is not None:
        return message.sender_id == asker.sender_id
    return message.sender_id is None and message.sender_name == asker.sender_name


def first_person_pairs(texts: Iterable[str]) -> set[tuple[str, str]]:
    """(first-person word, next word) pairs of these texts: {("my", "dog"), ("i", "have"), ("i'm", "allergic")}."""
    pairs = set()
    for text in texts:
        tokens = [core(t) for t in text.split()]
        pairs |= {(a, _stem(b)) for a, b in itertools.pairwise(tokens) if a in SWAP and a not in _FOLLOWERS}
    return pairs


def _stem(word: str) -> str:
    """"dog's" meets "dog": a possessive is the same word here."""
    return word.removesuffix("'s")


class PersonSwap:
    """A reply's stream with the asker's first-person words, copied from their memories, in the second person.

    A first-person word is held until the next word is complete (that decides it); other words stream as they
    come (the word still being written is held: it may be "My" of "My dog")."""

    def __init__(self, memories: Iterable[Hit], asker: Message):
        self._pairs = first_person_pairs(h.message.text for h in own_memories(memories, asker))
        self._held = ""
        self._said = ""  # what was let through: decides whether a swapped word starts a sentence
        self._subject = False  # the last word let through was a swapped "I" or "we"

    def feed(self, chunk: str) -> str:
        if not self._pairs:
            return chunk
        self._held += chunk
        return self._release(final=False)

    def finish(self) -> str:
        if not self._pairs:
            return ""
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        pieces = re.split(r"(\s+)", self._held)  # words at even places, the spaces between at odd ones
        complete = len(pieces) if final else len(pieces) - 1  # the last word may still grow
        out: list[str] = []
        i = 0
        while i < complete:
            piece = pieces[i]
            if i % 2 or not piece:
                out.append(piece)
                i += 1
                continue
            word = core(piece)
            if word in SWAP and word not in _FOLLOWERS:
                if i + 2 >= complete and not final:
                    break  # wait for the next word
                after = _stem(core(pieces[i + 2])) if i + 2 < len(pieces) else ""
                if (word, after) in self._pairs:
                    out.append(swap_token(piece, capital=self._starts_sentence("".join(out))))
                    self._subject = word in SUBJECTS
                    i += 1
                    continue
            elif word in _FOLLOWERS and self._subject:
                out.append(swap_token(piece, capital=False))
                self._subject = False
                i += 1
                continue
            self._subject = False
            out.append(piece)
            i += 1
        self._held = "".join(pieces[i:])
        text = "".join(out)
        self._said += text
        return text

    def _starts_sentence(self, pending: str) -> bool:
        before = (self._said + pending).rstrip()
        return not before or bool(_SENTENCE_END.search(before))
