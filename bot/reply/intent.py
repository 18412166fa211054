"""What kind of message is this? A light, deterministic reading that picks how a reply is made.

- greeting: hello, thanks, how are you, good night… (short small talk): answered without memories;
- statement: something told: acknowledged briefly, without memories (a small model repeats whatever it is shown);
- self question: a question about the asker's own life ("what is my brother's name?"): answered from memory,
  or "you haven't told me" when memory holds nothing relevant, never by the model's imagination;
- question: anything else asked: from memory when something relevant is recalled, else from general knowledge;
- action: a plain-language request to remind, cancel, list reminders or forget (bot/reply/requests.py; the plan
  marks it, classify does not): carried out by bot/commands/requests.py, never acknowledged as a statement.
Words only, no model: a mistake costs a less fitting reply, never a lost message.
"""

from __future__ import annotations

import enum
import re

from memory.models import Message
from memory.text import words

_MENTION = re.compile(r"(^|\s)@\w+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|yo|howdy|greetings|good (morning|afternoon|evening|night|day)|thanks?( you)?|thank you|"
    r"cheers|bye|goodbye|see you|good ?night|what'?s up|sup|how are you|how are you doing|how's it going|"
    r"how do you do|nice to meet you|ok|okay|cool|great)\b", re.I)
_QUESTION_START = {"what", "who", "whom", "whose", "when", "where", "which", "why", "how", "do", "does", "did",
                   "is", "are", "was", "were", "can", "could", "will", "would", "should", "have", "has", "am"}
# Words of a question about the asker's own life ("me" and "us" are left out: "can you remind me…" asks the
# assistant; "our" too: "our solar system" is general knowledge).
_SELF = {"i", "my", "mine", "myself", "we"}  # words() splits "I'm" into "i", "m"
MAX_GREETING_WORDS = 7


class Intent(enum.Enum):
    GREETING = "greeting"
    STATEMENT = "statement"
    SELF_QUESTION = "self question"
    QUESTION = "question"
    ACTION = "action"  # a plain-language action ("remind me…", "forget…"): bot/reply/requests.py reads it


def without_mentions(text: str) -> str:
    return _MENTION.sub(" ", text).strip()


def classify(text: str) -> Intent:
    clean = without_mentions(text)
    tokens = words(clean)
    if not tokens:
        return Intent.GREETING
    if len(tokens) <= MAX_GREETING_WORDS and _GREETING.match(clean):
        return Intent.GREETING
    if clean.rstrip().endswith("?") or tokens[0] in _QUESTION_START:
        return Intent.SELF_QUESTION if _SELF & set(tokens) else Intent.QUESTION
    return Intent.STATEMENT


def asks(text: str) -> bool:
    """True if a message only asks: each of its sentences is a question (or small talk), one at least. An earlier
    question is never the evidence for an answer ("Where does my sister live?" is not where she lives); a message
    that tells something and asks ("I moved to Porto. Do you know it?") still tells it."""
    kinds = {classify(s) for s in _SENTENCE.split(without_mentions(text)) if words(s)}
    return bool(kinds & {Intent.QUESTION, Intent.SELF_QUESTION}) and Intent.STATEMENT not in kinds


def said_by_a_person(message: Message) -> bool:
    """True for what a person told (the only evidence for an answer or a citation): not a question, not the
    assistant's own words (its replies, its acknowledgements), not a system note."""
    return message.role == "user" and message.evidence and not asks(message.text)
