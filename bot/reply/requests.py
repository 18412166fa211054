"""Is this message a request to do something? Reading a plain-language action, before any reply is made.

    >>> read_request("Please forget the wifi password I told you.")
    Request(kind=<Action.FORGET: 'forget'>, topic='wifi password', text='Please forget the wifi password I told you.')

Four actions, the same as the commands: remind (/remind), cancel a reminder (/cancel), list reminders (/reminders),
forget (/forget). bot/commands/requests.py carries them out for every front end; here is only the reading, words
only, no model and no I/O, so the reply plan (bot/reply/plan.py) can tell an action from a statement too.

Precision comes before recall: a request must start with its verb (after words of politeness: "please", "can you",
"hey Engram"), so a question about the past ("what did you remind me about?", "did I tell you to forget…?") or a
statement ("I forgot my keys", "don't forget the milk") is never taken for one. A message that is not read as an
action is simply answered, as before.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from bot.reply.intent import without_mentions
from bot.when.locales import foreign_request
from memory.models import ACTION as ACTION_KIND


class Action(enum.Enum):
    REMIND = "remind"
    CANCEL = "cancel"
    LIST = "list"
    FORGET = "forget"
    ACCEPT = "accept"  # "remind me" / "yes, remind me" right after a plan was offered as a reminder


@dataclass(frozen=True)
class Request:
    kind: Action
    topic: str  # what it is about: the reminder's words, the words of what to forget, "" when none
    text: str  # the message as written
    language: str = "en"  # the language of the request's words ("напомни мне": ru; bot/when/locales.py)


__all__ = ["ACTION_KIND", "Action", "Request", "how_to", "read_request"]

# What the Assistant says to an action request when a front end hands it over instead of carrying it out
# (bot/reply/plan.py): how to do it, never "Noted".
HOW_TO = {
    Action.REMIND: "To set a reminder, use /remind <when> <what> (e.g. /remind in 10 minutes check the oven).",
    Action.ACCEPT: "To set a reminder, use /remind <when> <what> (e.g. /remind tomorrow at 9 call Ana).",
    Action.CANCEL: "To cancel a reminder: /reminders lists them, /cancel <id> cancels one.",
    Action.LIST: "/reminders lists your pending reminders.",
    Action.FORGET: "To forget, use /forget <words> (or /forget all): it shows what would go and asks first.",
}


def how_to(request: Request) -> str:
    return HOW_TO[request.kind]


# Words of politeness allowed before the verb ("please", "could you", "hey Engram, …", "ok so").
_POLITE = (r"(?:(?:please|pls|plz|kindly|hey|hi|ok|okay|so|oh|and|also|now|then|just|actually|engram|bot|"
           r"(?:can|could|would|will) you(?: please| kindly)?|would you mind|"
           r"i(?:'d| would)? (?:want|like|need) you to|i'd like you to)[\s,]+)*")
_END = r"[\s.!?]*$"
# "remind me …", "set a reminder …": the reminders' own parser (bot/reminders/parse.py) reads the rest.
_REMIND = re.compile(rf"^{_POLITE}(?:remind me|set (?:up )?an? reminder|add an? reminder|create an? reminder)\b"
                     r"(?P<rest>.*)$", re.I | re.S)
# "every Monday at 8 remind me to …": a time phrase first, then the request.
_TIME_FIRST = re.compile(r"^(?P<when>(?:every|each|on|at|in|tomorrow|tonight|today|next|this|daily|weekly|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b[^?]{0,60}?),?\s+"
                         rf"{_POLITE}remind me\b(?P<rest>.*)$", re.I | re.S)
# "remind me what my dog is called": a question, not a reminder.
_REMIND_ASKS = re.compile(r"^\s*(?:,\s*)?(?:what|who|whom|whose|where|which|why|how|if|whether)\b", re.I)
_ACCEPT = re.compile(rf"^(?:yes|yeah|yep|sure|ok|okay|please)?[\s,!]*{_POLITE}(?:remind me|do remind me)"
                     rf"(?: (?:then|please|about it|of it|about that|an hour before))?{_END}", re.I)
_CANCEL_VERBS = r"(?:cancel|delete|remove|stop|drop|clear|turn off|switch off|kill|scrap|get rid of|forget)"
_CANCEL = re.compile(rf"^{_POLITE}{_CANCEL_VERBS}\s+(?P<rest>.*\breminders?\b.*)$", re.I | re.S)
_DONT_REMIND = re.compile(rf"^{_POLITE}(?:(?:don'?t|do not|no need to) remind me|stop reminding me)\b(?P<rest>.*)$",
                          re.I | re.S)
# A time phrase before "remind me" is one, not a past: "At lunch you said remind me…" is not a request.
_NOT_A_TIME = re.compile(r"\b(?:did|said|you|i|was|were|had|told|when|if)\b", re.I)
_LIST = re.compile(
    rf"^{_POLITE}(?:(?:show|list|see|view|display|give|tell)(?: me)?(?: all)?(?: of)? (?:my |the |all |any |"
    r"pending |upcoming )*(?:pending |upcoming |active )?reminders?"
    r"|(?:what|which)(?: are| is)?(?: my| the| all)?(?: pending| upcoming| active)? reminders?(?: (?:do|have) i"
    r"(?: got| have| set)?| are (?:there|set|pending|left|coming up)| have you got(?: for me)?| (?:you )?have set)?"
    r"|(?:do|have) i (?:have|got) any(?: pending| upcoming)? reminders?(?: set)?"
    r"|are there any(?: pending| upcoming)? reminders?"
    r"|(?:any|my)(?: pending| upcoming)? reminders?"
    r")(?: (?:for me|set|left|pending|coming up|now|at the moment|right now|today|this week))?" + _END, re.I)
# "remove", "wipe"… are everyday verbs ("Remove the batteries before washing" is a note): only with a word of memory.
_FORGET = re.compile(rf"^{_POLITE}(?:forget|delete|erase)\b(?P<rest>.*)$", re.I | re.S)
_FORGET_MEMORY = re.compile(
    rf"^{_POLITE}(?:remove|wipe|scrub|purge|clear)\b(?P<rest>.*(?:\b(?:from|in|out of) (?:your|the|my) memory|"
    r"\bwhat (?:i|we) (?:said|told you|mentioned)|\b(?:i|we) (?:told|gave) you|^\s*everything).*)$", re.I | re.S)
# What a forget request's topic is wrapped in: "what I said about …", "… I told you", "… from your memory".
_TOPIC_LEAD = re.compile(
    r"^(?:(?:about|everything|all|anything|what|whatever|the fact|that|the things?|the stuff|stuff|things|"
    r"(?:that |which )?(?:i|we) (?:said|told you|mentioned|wrote|shared|gave you|typed|sent)|you know|"
    r"(?:have|had) (?:said|told you|mentioned)|of|on|regarding|concerning|related to|to do with)\b[\s,:]*)+",
    re.I)
_TOPIC_TAIL = re.compile(
    r"(?:\b(?:that |which )?(?:i|we) (?:just )?(?:said|told you|mentioned|wrote|shared|gave you|typed|sent)"
    r"(?: (?:you|to you|earlier|before|yesterday|today|here))?|\bplease|\bfrom (?:your|my|the) memory|"
    r"\bfrom (?:this|the) chat|\bfor (?:good|me|ever)|\bforever|\bnow|\bright away|\bthanks?(?: you)?)"
    r"[\s.!?,]*$", re.I)
_EVERYTHING = re.compile(r"^(?:everything|all|all of it|all my (?:data|messages|memories)|"
                         r"everything (?:you know|i (?:ever )?(?:told|said)(?: you)?)(?: about me)?)$", re.I)
MAX_TOPIC_WORDS = 8


def read_request(text: str) -> Request | None:
    """The action a message asks for, or None when it asks for none (a statement, a question, small talk)."""
    said = " ".join(without_mentions(text).replace("’", "'").split())
    if not said or said.startswith("/"):
        return None
    if _ACCEPT.match(said):
        return Request(Action.ACCEPT, "", text)
    if (foreign := foreign_request(said)) is not None:  # "напомни мне…", "recuérdame…", "یادم بنداز…"
        return Request(Action.REMIND, foreign[1], text, language=foreign[0])
    if (match := _TIME_FIRST.match(said)) is not None and not _NOT_A_TIME.search(match["when"]):
        rest = f"{match['when']} {match['rest'].strip()}".strip()
        return Request(Action.REMIND, rest, text)
    if (match := _REMIND.match(said)) is not None:
        rest = match["rest"].strip()
        if _REMIND_ASKS.match(rest) or (rest.endswith("?") and re.match(r"^(?:of|about)\b", rest, re.I)):
            return None  # "remind me what my dog is called?": asks
        return Request(Action.REMIND, rest, text)
    if _LIST.match(said):
        return Request(Action.LIST, "", text)
    if (match := _CANCEL.match(said)) is not None:
        return Request(Action.CANCEL, reminder_topic(match["rest"]), text)
    if (match := _DONT_REMIND.match(said)) is not None:
        return Request(Action.CANCEL, reminder_topic(match["rest"]), text)
    if (match := _FORGET.match(said) or _FORGET_MEMORY.match(said)) is not None:
        return _forget(match["rest"], text)
    return None


def _forget(rest: str, text: str) -> Request | None:
    rest = rest.strip(" ,:.!?")
    if rest.lower().startswith("me "):  # "forget me" is not a topic; "remove me from…" neither
        return None
    if not rest or _short_idiom(rest):
        return None
    topic = _TOPIC_TAIL.sub("", _TOPIC_LEAD.sub("", rest)).strip(" ,:.!?")
    topic = re.sub(r"^(?:my|the|our|your|a|an|that|this|those|these)\s+", "", topic, flags=re.I).strip()
    if _EVERYTHING.match(topic) or (not topic and re.match(r"^(?:everything|all)\b", rest, re.I)):
        return Request(Action.FORGET, "all", text)
    if not topic or len(topic.split()) > MAX_TOPIC_WORDS or "," in topic or ";" in topic:
        return None
    return Request(Action.FORGET, topic, text)


def _short_idiom(rest: str) -> bool:
    """'forget it', 'forget about that', 'forget that, I'll do it': nothing that names what to forget."""
    plain = re.sub(r"[^\w' ]+", " ", rest.lower()).split()
    if not plain:
        return True
    if plain[0] in ("it", "so", "to", "me", "i", "him", "her", "them", "you", "yourself", "myself"):
        return True
    return plain[0] in ("that", "this", "about") and (len(plain) == 1 or plain[1] in (
        "it", "that", "this", "i", "i'll", "please", "then", "for", "one"))


def reminder_topic(rest: str) -> str:
    """The words naming which reminder: "the bread reminder" -> "bread"; "my reminder to call Ana" -> "call ana"."""
    words = re.findall(r"[\w#']+", rest.lower())
    drop = {"the", "my", "a", "an", "that", "this", "reminder", "reminders", "to", "about", "for", "of", "please",
            "me", "remind", "set", "i", "you", "your", "it", "one", "now", "again", "on", "at", "in", "which"}
    return " ".join(w for w in words if w not in drop)
