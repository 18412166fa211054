"""What kind of message is this? A light, deterministic reading that picks how a reply is made.

- greeting: hello, thanks, how are you, good night… (short small talk): answered without memories;
- statement: something told: acknowledged briefly, without memories (a small model repeats whatever it is shown);
- self question: a question about the asker's own life ("what is my brother's name?"): answered from memory,
  or "you haven't told me" when memory holds nothing relevant, never by the model's imagination;
- question: anything else asked: from memory when something relevant is recalled, else from general knowledge;
- action: a plain-language request to remind, cancel, list reminders or forget (bot/reply/requests.py; the plan
  marks it, classify does not): carried out by bot/commands/requests.py, never acknowledged as a statement.
Words only, no model: a mistake costs a less fitting reply, never a lost message. Every language the same way:
the words of greeting, asking and of oneself are each language's table in memory/lang.py (English's is always
read too: a short English question is not always told from another language).
"""

from __future__ import annotations

import enum
import re

from memory.lang import QUESTION_MARKS, UNSPACED, WORDS, Words, language_of, plain
from memory.models import Message
from memory.text import first_person, words

_MENTION = re.compile(r"(^|\s)@\w+")
# Sentences end at . ! ? and a space, or at the marks of scripts that put no space after them (。！？؟।).
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？؟।])\s*")
MAX_GREETING_WORDS = 7


class Intent(enum.Enum):
    GREETING = "greeting"
    STATEMENT = "statement"
    SELF_QUESTION = "self question"
    QUESTION = "question"
    ACTION = "action"  # a plain-language action ("remind me…", "forget…"): bot/reply/requests.py reads it


def without_mentions(text: str) -> str:
    return _MENTION.sub(" ", text).strip()


def _tables(lang: str) -> list[Words]:
    return [WORDS[lang], WORDS["en"]] if lang in WORDS and lang != "en" else [WORDS["en"]]


_DRAWN_OUT = re.compile(r"(\w)\1+")


def _squash(text: str) -> str:
    """Letters said long ("heyy", "hiii", "helloo") as one: how a greeting typed by hand is compared."""
    return _DRAWN_OUT.sub(r"\1", text)


def greets(clean: str, lang: str) -> bool:
    """The message opens with a greeting or small talk of its language or English ("hi", "спасибо", "你好"), its
    letters drawn out or not ("heyy", "hiii")."""
    said = plain(clean)
    first = said.split(" ", 1)[0]
    drawn = _squash(said) if _squash(first) != first else ""  # "heyy", not "cool" read as "col"
    for table in _tables(lang):
        for greeting in table.greetings:
            if said == greeting or said.startswith(greeting + " ") or (lang in UNSPACED and said.startswith(greeting)):
                return True
            short = _squash(greeting)
            if drawn and lang not in UNSPACED and (drawn == short or drawn.startswith(short + " ")):
                return True
    return False


def is_question(clean: str, tokens: list[str], lang: str) -> bool:
    """Asked by its form: a question mark of any script (?, ？, ؟, an opening ¿), a question word at the start
    ("what", "как", "wo"), or one that asks wherever it stands (Turkish "mı", Hindi "क्या", Chinese "吗")."""
    if clean.rstrip().endswith(QUESTION_MARKS) or "¿" in clean:
        return True
    tables = _tables(lang)
    if any(tokens[0] in t.starts for t in tables):
        return True
    if lang in UNSPACED:
        return any(word in clean for word in WORDS[lang].anywhere) if lang in WORDS else False
    return any(set(tokens) & t.anywhere for t in tables)


def about_self(clean: str, tokens: list[str], lang: str) -> bool:
    """The question is about the asker's own life: a word of oneself ("my", "мою", "mein", "मेरा"); in Chinese
    "我的" or a question that opens with "我"; in Arabic a noun with the possessive ending ـي ("كلبي", my dog);
    a verb in the first person or a Persian "my" ending ("¿Dónde trabajo?", "اسم برادرم چیست؟": first_person) in
    the sentence that asks (the last: "Tengo un perro. ¿Te gustan los perros?" asks about dogs)."""
    if lang in UNSPACED:
        return "我的" in clean or "我们的" in clean or clean.lstrip().startswith("我")
    if any(set(tokens) & t.self for t in _tables(lang)):
        return True
    asked = [s for s in _SENTENCE.split(clean) if words(s)]
    if asked and any(first_person(t, lang) for t in words(asked[-1])):
        return True
    return lang == "ar" and any(len(t) >= 3 and t.endswith("ي") and not t.startswith("ال") for t in tokens[1:])


def classify(text: str) -> Intent:
    clean = without_mentions(text)
    tokens = words(clean)
    if not tokens:
        return Intent.GREETING
    lang = language_of(clean)
    if len(tokens) <= MAX_GREETING_WORDS and greets(clean, lang):
        return Intent.GREETING
    if is_question(clean, tokens, lang) or (lang == "en" and tells(clean)):
        return Intent.SELF_QUESTION if about_self(clean, tokens, lang) else Intent.QUESTION
    return Intent.STATEMENT


# An order to tell is a question ("Tell me everything you know about my pets.", "List my plans for May"), not a
# statement to note.
_TELL_ME = re.compile(r"^\s*(?:(?:please|pls|ok|so|now|and|can you|could you|would you)[\s,]+)*(?:tell me|show me|"
                      r"list|give me a list|summari[sz]e|sum up|recap|"
                      r"remind me (?:of|about|what|who|where|when|which|how))\b", re.I)


def tells(text: str) -> bool:
    """True for an order to tell or list ("Tell me…", "list my…", "sum up…"), in any language's chat."""
    return bool(_TELL_ME.match(without_mentions(text)))


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
