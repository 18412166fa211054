"""How a reply is made, decided before the model runs: which memories it sees, how long it may be, or whether
an answer is certain without it.

- a greeting or a statement is answered without memories: a small model repeats whatever memory it is shown
  (asked to note an allergy, it answered with a child's school date), and neither needs one. A statement is
  acknowledged by saying it back ("Noted: you're allergic to penicillin."), without the model unless
  assistant.statements is "model": SmolLM2-135M answered "I ran my first marathon" with "I'm sorry for your loss";
  a thanks, "how are you?" or "what's up?" gets its one fitting answer without the model (small_talk), which
  said them back;
- a question sees the recalled memories that share a meaningful word with it (or name a person it names):
  a memory that only sounds alike is what the model turns into an invented answer;
- a question about the asker's own life with no such memory is answered "you haven't told me" without the
  model: asked for a brother's name never told, the model invented one;
- a question about a person of the chat that memory attributes to someone else, or of which nothing was
  recalled, is answered so without the model (bot/reply/attribution.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.config import Statements
from bot.reply.attribution import attribute
from bot.reply.intent import Intent, classify, without_mentions
from bot.reply.persons import second_person
from memory import Hit
from memory.lang import language_of
from memory.text import content_words, words

NOT_TOLD = "I don't know — you haven't told me that yet."
NOTED = "Noted — I'll remember that."
ACK_MAX_WORDS = 16  # a longer statement is acknowledged without being repeated
_LEAD = re.compile(r"^(please\s+)?(remember|note|fyi|btw)( this| that)?\s*[:,-]?\s*", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# Small talk with one fitting answer, given without the model: SmolLM2-135M said "Thanks!" and "What's up?"
# back word for word. (Hello, good night, bye… said back are fine answers: the model answers those.)
SMALL_TALK = (
    (re.compile(r"(thanks?|thank you|thx|ty|cheers|much appreciated)( (a lot|so much|very much|again|a bunch|"
                r"for (that|this|the help|your help|everything)))*"), "You're welcome!"),
    (re.compile(r"how are you( doing)?( today)?|how's it going|how do you do"), "I'm well, thank you! How can I help?"),
    (re.compile(r"what's up|sup"), "Not much — how can I help?"),
    (re.compile(r"nice to meet you( too)?"), "Nice to meet you too!"),
)
# Tokens a reply may use, by intent: brief by design (a reply is read on a phone, and shorter is sooner).
MAX_NEW_TOKENS = {Intent.GREETING: 32, Intent.STATEMENT: 40, Intent.SELF_QUESTION: 64, Intent.QUESTION: 64}


@dataclass
class ReplyPlan:
    intent: Intent
    memories: list[Hit] = field(default_factory=list)  # shown to the model, best first
    answer: str | None = None  # the whole reply, when it is certain without the model
    source: Hit | None = None  # the memory such an answer rests on (its citation)
    max_new_tokens: int = 64


def relevant(text: str, hits: Sequence[Hit]) -> list[Hit]:
    """The hits sharing the most meaningful words (of the text, or of the sender's name) with the question, in
    their recall order; none if no hit shares any. Asked "what does Bo bring?" with "Ana is bringing the cake"
    and "Bo brings the lemonade" both recalled, SmolLM2-135M answered "Bo brings the cake": a memory that
    matches less only confuses it. A question whose only words are words of asking ("What is my name?", "Do you
    know my name?") is matched on those. Every memory is read in the question's language (its stems, its
    stopwords), so a word meets the same word whatever language a short memory was taken for."""
    lang = language_of(text)
    wanted = content_words(text, lang=lang)
    asking = not wanted  # "What is my name?": the words of asking are all its subject
    if asking:
        wanted = content_words(text, asking=True, lang=lang)
    shared = [len(wanted & content_words(f"{h.message.sender_name} {h.message.text}", asking, lang)) for h in hits]
    best = max(shared, default=0)
    return [h for h, n in zip(hits, shared) if n and n == best]


def acknowledge(text: str) -> str:
    """A statement said back from the assistant's side: "Noted: you're allergic to penicillin." One that
    speaks to the assistant ("you…"), runs long, or is not in English is acknowledged without being repeated:
    the swap of persons (bot/reply/persons.py) is English's, and "Noted: Mein Auto ist…" mixed two languages."""
    said = _LEAD.sub("", without_mentions(text)).strip()
    said = _SENTENCE_END.split(said, maxsplit=1)[0].rstrip(" .!?;:,")
    tokens = said.split()
    if not tokens or len(tokens) > ACK_MAX_WORDS or {"you", "you're", "your", "yours"} & set(words(said)):
        return NOTED
    if language_of(said) != "en":
        return NOTED
    out = second_person(tokens)
    return "Noted: " + " ".join(out) + "."


def small_talk(text: str) -> str | None:
    """The answer to a thanks, a "how are you?" or a "what's up?" (the whole message, a name after it allowed);
    None for anything else."""
    plain = " ".join(re.sub(r"[^\w' ]+", " ", without_mentions(text).lower().replace("’", "'")).split())
    plain = re.sub(r" (engram|bot)$", "", plain)
    return next((answer for pattern, answer in SMALL_TALK if pattern.fullmatch(plain)), None)


def plan_reply(text: str, hits: Sequence[Hit], *, statements: Statements = Statements.NOTE,
               recalled: Sequence[Hit] = (), asker: str = "") -> ReplyPlan:
    """`hits`: the memories worth showing (best first); `recalled`: everything recalled, for checking whose a
    memory is (bot/reply/attribution.py). `statements`: NOTE acknowledges a statement without the model
    (acknowledge), MODEL lets it answer."""
    intent = classify(text)
    plan = ReplyPlan(intent, max_new_tokens=MAX_NEW_TOKENS[intent])
    if intent is Intent.STATEMENT and statements is Statements.NOTE:
        plan.answer = acknowledge(text)
    if intent is Intent.GREETING:
        plan.answer = small_talk(text)
    if intent in (Intent.GREETING, Intent.STATEMENT):
        return plan
    plan.memories = relevant(text, hits)
    if intent is Intent.SELF_QUESTION and not plan.memories:
        plan.answer = NOT_TOLD
        return plan
    whose = attribute(text, recalled or hits, asker)
    if whose is not None:
        plan.answer, plan.memories = whose.answer, whose.memories
        plan.source = whose.memories[0] if whose.memories else None
    return plan
