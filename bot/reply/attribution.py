"""Whose was it? A question about a person of the chat, checked against who said what before the model answers.

Asked "What did Caroline realise after her charity race?" when it was Melanie who ran the race, a small model
answers with Melanie's words as if they were Caroline's: the recalled memory matches the question's topic, and
nothing tells the model it belongs to someone else. Here, a question naming one person of the chat is answered
without the model when memory disagrees with its premise:
- the memories that share the most of the question's topic words (its meaningful words, names aside) were all
  said by someone else, and do not speak of the person named → "As far as I recall, that was Melanie, not
  Caroline.";
- no recalled memory shares any topic word → "I don't know — I don't recall anything about that." (the model
  would answer from general knowledge, i.e. invent something about a real person).
A name used only to address someone ("Hey Caroline!", "…, Caroline!") does not make a memory about them; a
sentence that speaks to someone ("What challenges have you met in your pre-season?") may be about the person
named, so it is never attributed to its speaker alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import N_, _
from memory import Hit
from memory.text import content_words, words

NOT_RECALLED = N_("I don't know — I don't recall anything about that.")  # N_: translated where answered
ELSEWHERE = N_("As far as I recall, that was {other}, not {named}.")
_SECOND_PERSON = {"you", "your", "yours", "you're", "you've", "you'll", "you'd", "yourself"}
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_GREETING_WORDS = r"(hey|hi|hello|thanks|thank you|wow|oh|aw+|yeah|yes|no|ok|okay|great|congrats|congratulations)"


@dataclass
class Attribution:
    answer: str
    memories: list[Hit]  # the memories the answer rests on (shown by /why; the first is cited)


def first_name(name: str) -> str:
    return name.split()[0].lower() if name.split() else ""


def named_person(text: str, people: set[str]) -> str | None:
    """The one person of `people` the text names (by first name, "Melanie's" too); None if none or several."""
    said = {w.removesuffix("'s").strip("'") for w in words(text)}
    named = {p for p in people if first_name(p) in said}
    return named.pop() if len(named) == 1 else None


def speaks_of(text: str, name: str) -> bool:
    """True if the text names the person other than to address them ("Hey Mel!", "Thanks, Mel.")."""
    first = re.escape(first_name(name))
    vocative = re.compile(
        rf"((^|[.!?]\s+)({_GREETING_WORDS}[,!]?\s+)?{first}\s*[,!?.:]|,\s*{first}\s*([!?.,]|$))", re.I)
    rest = vocative.sub(" ", text)
    return first in words(rest)


def to_someone(text: str, topic: set[str]) -> bool:
    """True if a sentence of the text that shares a topic word speaks to someone ("you", "your")."""
    return any(content_words(s) & topic and _SECOND_PERSON & set(words(s)) for s in _SENTENCE.split(text))


def attribute(question: str, hits: Sequence[Hit], asker: str = "") -> Attribution | None:
    """An answer without the model when the question names a person of the chat and memory says it was not
    them (or nothing recalled is about it at all); None when the model should answer. `hits`: everything
    recalled for the question, best first."""
    said = [h for h in hits if h.message.role != "assistant" and h.message.sender_name]
    people = {h.message.sender_name for h in said} - {asker}
    named = named_person(question, people)
    if named is None:
        return None
    names = set().union(*(content_words(p) for p in people))
    topic = content_words(question) - names
    if not topic:
        return None
    shared = [len(topic & content_words(h.message.text)) for h in said]
    best = max(shared, default=0)
    if best == 0:
        return Attribution(_(NOT_RECALLED), [])
    top = [h for h, n in zip(said, shared) if n == best]
    if any(h.message.sender_name == named or speaks_of(h.message.text, named) or to_someone(h.message.text, topic)
           for h in top):
        return None
    other = Counter(h.message.sender_name for h in top).most_common(1)[0][0]
    other_name = _("you") if other == asker else other.split()[0]
    answer = _(ELSEWHERE).format(other=other_name, named=named.split()[0])
    return Attribution(answer, [h for h in top if h.message.sender_name == other])


# "Who's driving on Saturday?" asks who said they would: "I can drive on Saturday." (Mateo). Shown Mateo's note in
# the first person, SmolLM2-135M answered "I'm not sure what to do with that."
_WHO = re.compile(r"^\s*who(?:'s|’s|\s+is|\s+will|\s+can|\s+could|\s+does|\s+did|\s+was|\s+has)?\b", re.I)
_I_DO = re.compile(r"(?:^|[.!?;,]\s*|\b(?:ok|okay|yes|sure|fine)[,!]?\s+)I(?:'ll|’ll|'m|’m|'d|’d|\s+can|\s+will|"
                   r"\s+could|\s+would|\s+am|\s+shall)?(?:\s+(?:also|happily|gladly|definitely|probably|just))?"
                   r"\s+(?P<verb>[A-Za-z]+)")


def volunteered(question: str, hits: Sequence[Hit], asker: str = "") -> Hit | None:
    """The memory that answers a "who" question by its speaker: one person said, in the first person, that they
    do what is asked ("Who's driving on Saturday?" ← Mateo: "I can drive on Saturday, I've got room for three.");
    its verb is the question's and it leaves out at most a third of the question's topic ("Who's baking on
    Sunday?" is not answered by "I'll bake on Friday"). None when no one, or more
    than one person, said so (the model answers)."""
    if not _WHO.match(question):
        return None
    topic = content_words(question)
    found = []
    for h in hits:
        said = h.message
        if said.role == "assistant" or not said.sender_name or _HEDGED.search(said.text):
            continue
        shared = topic & content_words(said.text)
        does = any(content_words(m["verb"]) & topic for m in _I_DO.finditer(said.text))
        if does and len(topic - shared) <= len(topic) // 3:
            found.append(h)
    if len({h.message.sender_name for h in found}) != 1:
        return None
    offer = found[0].message
    # "Sorry guys, my car broke down, so no driving on Saturday for me": a later word of theirs taking it back.
    if any(h.message.sender_name == offer.sender_name and h.message.created_at > offer.created_at
           and _TAKEN_BACK.search(h.message.text) and topic & content_words(h.message.text) for h in hits):
        return None
    return found[0]


# An offer that is not one: "I would drive on Saturday but my car is in the shop", "Could I drive on Saturday?"
_HEDGED = re.compile(r"\b(?:i would|i'd|i could|i might|i may|if)\b.*\bbut\b|\?\s*$|\bcan'?t\b|\bcannot\b|"
                     r"\bwon'?t\b|\bnot\b", re.I)
_TAKEN_BACK = re.compile(r"\b(?:no|not|can'?t|cannot|won'?t|unable|sorry|broke|cancel\w*|out|anymore)\b", re.I)
