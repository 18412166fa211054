"""How a reply is made, decided before the model runs: which memories it sees, how long it may be, or whether
an answer is certain without it.

- an action request ("remind me…", "forget…", bot/reply/requests.py) is carried out by the front ends
  (bot/commands/requests.py) before a reply is asked for; one handed to the assistant anyway gets how to do it
  (/remind, /forget…), never "Noted";
- a greeting or a statement is answered without memories: a small model repeats whatever memory it is shown
  (asked to note an allergy, it answered with a child's school date), and neither needs one. A statement is
  acknowledged by saying it back ("Noted: you're allergic to penicillin."), without the model unless
  assistant.statements is "model": SmolLM2-135M answered "I ran my first marathon" with "I'm sorry for your loss";
  a hello, good morning, good night, bye, thanks, "how are you?" or "what's up?" gets its one fitting answer
  without the model (small_talk): the model said thanks back word for word and answered "hello" with help "with
  your homework"; a longer greeting ("Good night, I'm off to Rome tomorrow") is the model's;
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
from dataclasses import dataclass, field, replace

from bot.config import Statements
from bot.i18n import N_, _, current, isolate
from bot.reply.attribution import attribute, volunteered
from bot.reply.focus import focus
from bot.reply.intent import Intent, classify, without_mentions
from bot.reply.persons import said_by, second_person
from bot.reply.requests import how_to, read_request
from bot.reply.support import answers
from bot.reply.updates import CORRECTION_LEAD, Preference, as_current, resolve, restated, supersede
from bot.text import shorten
from memory import Hit, Message
from memory.lang import language_of
from memory.text import content_words, words

# Fixed answers, marked for the catalogues (N_) and translated where they are given (_(NOT_TOLD)).
NOT_TOLD = N_("I don't know — you haven't told me that yet.")
NOTED = N_("Noted — I'll remember that.")
ACK_MAX_WORDS = 16  # a longer statement is acknowledged without being repeated
_LEAD = re.compile(r"^(please\s+)?(remember|note|fyi|btw)( this| that)?\s*[:,-]?\s*", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# Small talk with one fitting answer, given without the model: SmolLM2-135M said "Thanks!" and "What's up?"
# back word for word.
_HELLO = r"(hi+|hel+o+|hey+|hiy+a+|howdy|greetings|yo+)( there| all| everyone| again)?"
SMALL_TALK = (
    (re.compile(r"(thanks?|thank you|thx|ty|cheers|much appreciated)( (a lot|so much|very much|again|a bunch|"
                r"for (that|this|the help|your help|everything)))*"), N_("You're welcome!")),
    (re.compile(rf"({_HELLO} )?(how are you( doing)?( today)?|how's it going|how do you do)"),
     N_("I'm well, thank you! How can I help?")),
    (re.compile(rf"({_HELLO} )?(what's up|sup)"), N_("Not much — how can I help?")),
    (re.compile(r"nice to meet you( too)?"), N_("Nice to meet you too!")),
    # Greetings too: SmolLM2-135M answered "hello" with "Hello! I'm here to help with your homework." (an int8 export
    # in blocks of 128) or "…with any questions you have." (blocks of 32): a greeting needs no memory nor model.
    (re.compile(rf"{_HELLO}"), N_("Hello! How can I help?")),
    (re.compile(rf"({_HELLO} )?(long time no (see|talk)|(it's )?been a (while|long time))"),
     N_("Hello! How can I help?")),
    (re.compile(r"(good )?morning( all| everyone)?"), N_("Good morning! How can I help?")),
    (re.compile(r"(good )?afternoon( all| everyone)?"), N_("Good afternoon! How can I help?")),
    (re.compile(r"(good )?evening( all| everyone)?"), N_("Good evening! How can I help?")),
    (re.compile(r"(good ?night|nighty night|night night)( (talk|see you) (tomorrow|soon|later))?"),
     N_("Good night!")),
    (re.compile(r"(bye|goodbye|bye bye|see you|see ya|talk (to you )?)( (later|soon|tomorrow))?"),
     N_("Bye — talk soon!")),
)
# Tokens a reply may use, by intent: brief by design (a reply is read on a phone, and shorter is sooner).
MAX_NEW_TOKENS = {Intent.GREETING: 32, Intent.STATEMENT: 40, Intent.SELF_QUESTION: 64, Intent.QUESTION: 64,
                  Intent.ACTION: 0}


@dataclass
class ReplyPlan:
    intent: Intent
    memories: list[Hit] = field(default_factory=list)  # shown to the model, best first
    answer: str | None = None  # the whole reply, when it is certain without the model
    source: Hit | None = None  # the memory such an answer rests on (its citation)
    max_new_tokens: int = 64
    preference: Preference | None = None  # of memories answering the same question, the one preferred (/why)
    shown: list[Hit] | None = None  # the memories as the model sees them, when not as said (a correction: the fact)
    request: bool = False  # a request for a suggestion (bot/reply/gather.py): the model answers, never NOT_TOLD
    ruled: dict[str, tuple[str, ...]] = field(default_factory=dict)  # what the asker's constraints rule out


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
    speaks to the assistant ("you…"), runs long, or is not in English is acknowledged without being repeated
    as its own: the swap of persons (bot/reply/persons.py) is English's, and "Noted: Mein Auto ist…" mixed two
    languages. In a chat answered in another language the statement is quoted as it was said, in that language's
    words: «Записал: „…“»; a statement in another language in an English chat gets NOTED."""
    said = CORRECTION_LEAD.sub("", _LEAD.sub("", without_mentions(text))).strip()
    said = _SENTENCE_END.split(said, maxsplit=1)[0].rstrip(" .!?;:,")
    tokens = said.split()
    if not tokens or len(tokens) > ACK_MAX_WORDS or {"you", "you're", "your", "yours"} & set(words(said)):
        return _(NOTED)
    if current() != "en":
        return _("Noted: “{statement}”.").format(statement=isolate(said))
    if language_of(said) != "en":
        return _(NOTED)
    out = second_person(tokens)
    return "Noted: " + " ".join(out) + "."


def small_talk(text: str) -> str | None:
    """The answer to a thanks, a "how are you?" or a "what's up?" (the whole message, a name after it allowed);
    None for anything else."""
    plain = " ".join(re.sub(r"[^\w' ]+", " ", without_mentions(text).lower().replace("’", "'")).split())
    plain = re.sub(r" (engram|bot)$", "", plain)
    return next((_(answer) for pattern, answer in SMALL_TALK if pattern.fullmatch(plain)), None)


def plan_reply(text: str, hits: Sequence[Hit], *, statements: Statements = Statements.NOTE,
               recalled: Sequence[Hit] = (), asker: str = "", message: Message | None = None,
               context: Sequence[Hit] = (), model_writes: bool = True, request: bool = False) -> ReplyPlan:
    """`hits`: the memories worth showing (best first); `recalled`: everything recalled, for checking whose a
    memory is (bot/reply/attribution.py) and which of those answering the same question is the newest
    (bot/reply/updates.py; `message`: the question, for whose it is; `context`: what people said in the recent
    turns, which recall leaves out as the prompt holds them). `statements`: NOTE acknowledges a
    statement without the model (acknowledge), MODEL lets it answer. `model_writes`: False when the model cannot
    write the chat's language (llm.languages): a question answered from memory then quotes the memory (quoted).
    `request`: a request for a suggestion (bot/reply/gather.py is_request), answered by the model with what
    memory holds, never "you haven't told me"."""
    action = read_request(text)
    if action is not None:  # an action the front end did not carry out: how to, never "Noted"
        return ReplyPlan(Intent.ACTION, answer=how_to(action), max_new_tokens=MAX_NEW_TOKENS[Intent.ACTION])
    intent = classify(text)
    if request and intent is not Intent.GREETING:
        intent = Intent.QUESTION if intent is Intent.STATEMENT else intent
        plan = ReplyPlan(intent, max_new_tokens=MAX_NEW_TOKENS[Intent.QUESTION], request=True)
        plan.memories = relevant(text, hits)
        return plan
    plan = ReplyPlan(intent, max_new_tokens=MAX_NEW_TOKENS[intent])
    if intent is Intent.STATEMENT and statements is Statements.NOTE:
        plan.answer = acknowledge(text)
    if intent is Intent.GREETING:
        plan.answer = small_talk(text)
    if intent in (Intent.GREETING, Intent.STATEMENT):
        return plan
    changed = resolve(text, [*(recalled or hits), *context], message or Message(0, 0, text, sender_name=asker))
    if changed is not None:  # a fact that changed: the newest value, without the model
        plan.answer, plan.memories, plan.preference = changed.answer, changed.memories, changed.preference
        plan.source = changed.memories[0]
        return plan
    answering = relevant(text, [h for h in hits if answers(text, h.message.text)])  # bot/reply/support.py
    plan.memories, plan.preference = supersede(text, answering, [*(recalled or hits), *context])
    if plan.preference is not None:
        newest = plan.preference.preferred
        value = restated(newest.message.text, [h.message.text for h in plan.preference.earlier]) or as_current(
            newest.message.text)  # "Not Nonna's but Casa Blu": the earlier statement, with the value it corrects
        if message is not None and said_by(newest.message, message) and len(value.split()) <= ACK_MAX_WORDS:
            # The asker's own correction, said back to them: shown it, SmolLM2-135M answered "When does my flight
            # leave?" with "I'm sorry for the confusion."
            said = " ".join(second_person(value.split()))
            plan.answer, plan.source = said[:1].upper() + said[1:], newest
            return plan
        plan.shown = [replace(h, message=replace(h.message, text=value)) if h is newest else h
                      for h in plan.memories]
    if not plan.memories and (intent is Intent.SELF_QUESTION or _names_one_of(text, relevant(text, hits))):
        plan.answer = _(NOT_TOLD)  # "How old is Tom?" with only "Tom works as a nurse" in memory
        return plan
    whose = attribute(text, recalled or hits, asker)
    if whose is not None:
        plan.answer, plan.memories = whose.answer, whose.memories
        plan.source = whose.memories[0] if whose.memories else None
    doer = volunteered(without_mentions(text), plan.memories, asker) if plan.answer is None else None
    if doer is not None:  # "Who's driving?" ← "I can drive" (Mateo): who said it, in their words
        plan.answer, plan.source, plan.memories = quoted(doer, asker), doer, [doer]
    if plan.answer is None and plan.memories and not model_writes:
        plan.source = plan.memories[0]
        plan.answer = quoted(plan.source, asker)
    if plan.answer is None and language_of(text) == "en":  # the model is shown what of each note speaks of it
        plan.shown = [replace(h, message=replace(h.message, text=focus(h.message.text, without_mentions(text))))
                      for h in (plan.shown if plan.shown is not None else plan.memories)]
    return plan


QUOTE_CHARS = 300


def _names_one_of(text: str, hits: Sequence[Hit]) -> bool:
    """Whether the question names (a capitalised word, not its first) someone or something a memory names: a
    question about the chat's own world, which memory cannot answer, is not the model's to guess."""
    names = {w for w in re.findall(r"(?<=\s)[A-Z][\w'-]+", text.replace("’", "'"))}
    named = {w.removesuffix("'s") for w in names}
    return any(re.search(rf"\b{re.escape(w)}\b", h.message.text) for w in named for h in hits)


def quoted(hit: Hit, asker: str) -> str:
    """A memory given as the answer, in its own words: "You told me: “Мою собаку зовут Барон.”" — for a chat whose
    language the model cannot write (a 135M English model asked in Russian mixes the two languages)."""
    said = isolate(shorten(hit.message.text, QUOTE_CHARS))
    name = hit.message.sender_name
    if name and asker and name != asker:
        return _("{name} said: “{text}”").format(name=name, text=said)
    return _("You told me: “{text}”").format(text=said)
