"""Is this message a request to do something? Reading a plain-language action, before any reply is made.

    >>> read_request("Please forget the wifi password I told you.")
    Request(kind=<Action.FORGET: 'forget'>, topic='wifi password', text='Please forget the wifi password I told you.')

Four actions, the same as the commands: remind (/remind), cancel a reminder (/cancel), list reminders (/reminders),
forget (/forget). bot/commands/requests.py carries them out for every front end; here is only the reading, words
only, no model and no I/O, so the reply plan (bot/reply/plan.py) can tell an action from a statement too.

The same four in the languages reminders are read in (bot/when/locales.py LANGUAGES): "отмени напоминание про
хлеб", "¿qué recordatorios tengo?", "esquece a senha do wifi", "vergiss meine Adresse", "یادآوری نان را لغو کن"
(Persian puts its verb last) — FOREIGN below, read by read_foreign; the confirmations are the commands' own,
through gettext, in the request's language.

Precision comes before recall: a request must start with its verb (after words of politeness: "please", "can you",
"hey Engram"), so a question about the past ("what did you remind me about?", "did I tell you to forget…?") or a
statement ("I forgot my keys", "don't forget the milk") is never taken for one. A message that is not read as an
action is simply answered, as before.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from bot.i18n import N_, _
from bot.reply.intent import without_mentions
from bot.when.locales import foreign_request
from bot.when.locales import words as time_words
from memory.lang import language_of, words_of
from memory.models import ACTION as ACTION_KIND
from memory.text import keywords


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


__all__ = ["ACTION_KIND", "LAST_SAID", "Action", "Request", "how_to", "read_request"]

LAST_SAID = ":last"  # a forget's topic meaning "the person's last message" (no words of a message start with ":")

# What the Assistant says to an action request when a front end hands it over instead of carrying it out
# (bot/reply/plan.py): how to do it, never "Noted".
HOW_TO = {
    Action.REMIND: N_("To set a reminder, use /remind <when> <what> (e.g. /remind in 10 minutes check the oven)."),
    Action.ACCEPT: N_("To set a reminder, use /remind <when> <what> (e.g. /remind tomorrow at 9 call Ana)."),
    Action.CANCEL: N_("To cancel a reminder: /reminders lists them, /cancel <id> cancels one."),
    Action.LIST: N_("/reminders lists your pending reminders."),
    Action.FORGET: N_("To forget, use /forget <words> (or /forget all): it shows what would go and asks first."),
}


def how_to(request: Request) -> str:
    """How to do it with a command, in the chat's language (bot/i18n.py)."""
    return _(HOW_TO[request.kind])


# Words of politeness allowed before the verb ("please", "could you", "hey Engram, …", "ok so").
_POLITE = (r"(?:(?:please|pls|plz|kindly|hey|hi|ok|okay|so|oh|and|also|now|then|just|actually|engram|bot|"
           r"(?:can|could|would|will) you(?: please| kindly)?|would you mind|"
           r"i(?:'d| would)? (?:want|like|need) you to|i'd like you to)[\s,]+)*")
_END = r"[\s.!?]*$"
# "remind me …", "set a reminder …", "ping me …" (bot/when/locales.py, English): the reminders' own parser
# (bot/reminders/parse.py) reads the rest.
_REMIND = re.compile(rf"^{_POLITE}(?:{time_words('en').request})\b(?P<rest>.*)$", re.I | re.S)
# "ping me", "alert me"… also ask for a message, a call back or a condition ("ping me the address", "alert me if
# the stock drops", "ping me when you're free"): a reminder only with "to…"/"about…" or a time right after them.
_PING = re.compile(r"\b(?:ping|nudge|buzz|alert|notify) me$", re.I)
_PING_REST = re.compile(r"^(?:to|about)\b|^(?:in (?:\d|an?\b|half|one|two|three|five|ten|twenty|thirty|a few)|at \d|"
                        r"at noon|at midnight|tomorrow|tonight|today|this (?:morning|afternoon|evening)|next|every|"
                        r"each|daily|"
                        r"on (?:mon|tue|wed|thu|fri|sat|sun)|(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|satur|sun)day)",
                        re.I)
_CONDITION = re.compile(r"\b(?:if|when|whenever|once|as soon as|back)\b", re.I)
_OFTEN = re.compile(r"\b(daily|weekly)\s+reminder\b", re.I)  # "set up a weekly reminder on Sundays to…"
# "I have to call the vet at 4, remind me": the request after what to be reminded of — only with a time in it, and
# after a comma or a dash ("You never remind me" is no request).
_REMIND_AFTER = re.compile(r"^(?P<rest>[^?]+?)\s*(?:[,;:\u2013\u2014]|\s-)\s*(?:(?:so|and|then|ok)\s+)?"
                           r"(?:(?:please|pls|could you|can you|would you)\s+)?(?:remind me|ping me|nudge me)"
                           r"(?:\s+(?:please|pls|about (?:it|that)|of (?:it|that)|then))?[\s.!]*$", re.I | re.S)
_A_TIME = re.compile(r"\d|\b(?:today|tonight|tomorrow|noon|midnight|morning|afternoon|evening|lunch|monday|tuesday|"
                     r"wednesday|thursday|friday|saturday|sunday|next|every|weekend)\b", re.I)
_NOT_MINE = re.compile(r"\b(?:you|did|was|were|had|yesterday|ago|last)\b", re.I)
# "every Monday at 8 remind me to …": a time phrase first, then the request.
_TIME_FIRST = re.compile(r"^(?P<when>(?:every|each|on|at|in|tomorrow|tonight|today|next|this|daily|weekly|"
                         r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b[^?]{0,60}?),?\s+"
                         rf"{_POLITE}remind me\b(?P<rest>.*)$", re.I | re.S)
# "remind me what my dog is called", "… of how we met": a question, not a reminder.
_REMIND_ASKS = re.compile(r"^\s*(?:,\s*)?(?:(?:of|about) )?(?:what|who|whom|whose|where|which|why|how|if|whether)\b",
                          re.I)
_ACCEPT = re.compile(rf"^(?:yes|yeah|yep|sure|ok|okay|please)?[\s,!]*{_POLITE}(?:remind me|do remind me)"
                     rf"(?: (?:then|please|about it|of it|about that|an hour before))?{_END}", re.I)
_CANCEL_VERBS = (r"(?:cancel|delete|remove|stop|drop|clear|turn off|switch off|kill|scrap|scratch|unset|disable|"
                 r"call off|get rid of|forget|never mind|nevermind|no need for)")
# Verbs that also turn down an offer or shrug at a reminder that rang ("No need for a reminder", "Never mind the
# reminder, I already took them"): a cancel only when they name which reminder.
_SOFT = re.compile(r"^(?:[\w,\s]*?\b)?(?:never ?mind|no need for|(?:i|we) (?:don'?t|do not|no longer) (?:need|want))\b",
                   re.I)
_CANCEL = re.compile(rf"^{_POLITE}{_CANCEL_VERBS}\s+(?P<rest>.*\breminders?\b.*)$", re.I | re.S)
# "I don't need the dentist reminder any more": a reminder no longer wanted is one to cancel.
_UNNEEDED = re.compile(r"^(?:i|we) (?:don'?t|do not|no longer) (?:need|want)\s+(?P<rest>(?:the|that|my|this|our)\s+"
                       r"(?:[\w'-]+\s+){0,3}reminders?\b(?:\s+(?:about|for|to|with)\b[^.!?]*)?)"
                       r"(?:\s+(?:any ?more|now|after all))?[\s.!]*$", re.I | re.S)
# "cancel the one about the bins", "drop the dentist one": a reminder named without the word "reminder" — only
# as the whole request ("Remove the small ones from the oven", "Drop the blue one at Ana's" are notes).
_CANCEL_ONE = re.compile(rf"^{_POLITE}(?:cancel|delete|remove|drop|scrap)\s+(?P<rest>(?:the|that|my)\s+"
                         r"(?:(?!one\b)[\w'-]+\s+){0,2}ones?(?:\s+(?:about|for|to|with)\b.*)?)[\s.!]*$", re.I | re.S)
# What follows a request after a comma or a dash when it only comments on it ("…, I'll do it tonight", "…, I
# shouldn't have typed that here", "… because …"): not part of what to cancel.
_ASIDE = re.compile(r"(?:\s*[,;:\u2013\u2014]\s*|\s+-\s+|\s+(?=because\b|since\b|as i\b))"
                    r"(?:i\b|i'm|i'll|i've|i'd|it\b|it's|that\b|that's|this\b|thanks?\b|thank you|please\b|"
                    r"because\b|since\b|as i\b|'?cause\b|so\b|oops|sorry|my bad|never mind|ok\b|okay\b|"
                    r"no need|not needed|don't need|won't need|we\b|we'll|we're|you\b).*$", re.I | re.S)
# A forget keeps only asides that confirm it ("…, I shouldn't have typed that here", "…, thanks"): "Forget the
# milk, we have enough" and "Forget Paris, we're going to Rome" mean "never mind", not "remove it from your memory".
_FORGET_ASIDE = re.compile(r"(?:\s*[,;:\u2013\u2014]\s*|\s+-\s+)(?:(?:thanks?|thank you)[\s.!]*$|please\b|sorry\b|oops|"
                           r"my bad|i shouldn'?t have|i should not have|i didn'?t mean|by mistake|"
                           r"(?:it|that) (?:was|is|'s) (?:private|secret|personal|a mistake)|it's (?:private|secret|"
                           r"personal))[^,;]*$", re.I | re.S)
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
    r"|(?:what'?s|what is|show me|show) on my reminders? list|(?:show me |show )?my reminders? list"
    r"|what (?:have|did) i (?:asked|ask) you to remind me (?:about|of)"
    r")(?: (?:for me|set|left|pending|coming up|now|at the moment|right now|today|this week))?" + _END, re.I)
# "remove", "wipe"… are everyday verbs ("Remove the batteries before washing" is a note): only with a word of memory.
_FORGET = re.compile(rf"^{_POLITE}(?:forget|delete|erase)\b(?P<rest>.*)$", re.I | re.S)
# "please don't remember my phone number", "I don't want you to remember my password", "stop remembering…": only
# said to the assistant ("Don't remember the hotel's name, sadly" drops its "I" and is a statement).
_UNREMEMBER = re.compile(
    r"^(?:(?:please|pls|kindly)[\s,]+(?:don'?t|do not) remember|(?:please[\s,]+)?stop remembering|"
    r"i (?:don'?t|do not) want you to (?:remember|keep(?! reminding)|store)|"
    r"i(?:'d| would) rather you didn'?t (?:remember|keep|store)|"
    r"you (?:don'?t|do not) need to remember (?!everything|anything|all)|no need to remember (?!it|that|this|,))"
    r"\b(?P<rest>.*)$", re.I | re.S)
# "forget what I just said", "delete my last message": the person's own message before the request.
_LAST_SAID = re.compile(
    r"^(?:(?:the|my|that)\s+)?(?:last|previous)\s+(?:thing|message|one|bit|line)(?:\s+(?:i|we)\s+(?:just\s+)?"
    r"(?:said|told you|wrote|sent|typed))?$|^(?:what|that|the thing)\s+(?:i|we)\s+just\s+(?:said|told you|wrote|"
    r"sent|typed)(?:\s+(?:you|to you))?$", re.I)
_FORGET_MEMORY = re.compile(
    rf"^{_POLITE}(?:remove|wipe|scrub|purge|clear)\b(?P<rest>.*(?:\b(?:from|in|out of) (?:your |the |my )?memory|"
    r"\bwhat (?:i|we) (?:said|told you|mentioned)|\b(?:i|we) (?:told|gave) you|^\s*everything).*)$", re.I | re.S)
# What a forget request's topic is wrapped in: "what I said about …", "… I told you", "… from your memory".
_TOPIC_LEAD = re.compile(
    r"^(?:(?:about|everything|all|anything|what|whatever|the fact|that|the things?|the stuff|stuff|things|"
    r"(?:that |which )?(?:i|we) (?:just )?(?:said|told you|mentioned|wrote|shared|gave you|typed|sent)|you know|"
    r"(?:have|had) (?:said|told you|mentioned)|of|on|regarding|concerning|related to|to do with)\b[\s,:]*)+",
    re.I)
_TOPIC_TAIL = re.compile(
    r"(?:\b(?:that |which )?(?:i|we) (?:just )?(?:said|told you|mentioned|wrote|shared|gave you|typed|sent)"
    r"(?: (?:you|to you|earlier|before|yesterday|today|here))?|\bplease|\bfrom (?:your |my |the )?memory|"
    r"\bfrom (?:this|the) chat|\bfor (?:good|me|ever)|\bforever|\bnow|\bright away|\bthanks?(?: you)?)"
    r"[\s.!?,]*$", re.I)
_EVERYTHING = re.compile(r"^(?:everything|all|all of it|all my (?:data|messages|memories)|"
                         r"everything (?:you know|i (?:ever )?(?:told|said)(?: you)?)(?: about me)?)$", re.I)
MAX_TOPIC_WORDS = 8


@dataclass(frozen=True)
class ActionWords:
    """A language's words for cancel, list and forget (regexes over the message in lower case, without the words
    of politeness before them). cancel / forget: the verb first, `rest` what follows; cancel_last / forget_last:
    for a language that puts the verb last (Persian), `rest` what comes before it; dont: "don't remind me…"."""

    reminder: str  # the word for a reminder, any form: a cancel must name one, a forget must not
    cancel: str = ""
    dont: str = ""
    list: str = ""
    forget: str = ""
    cancel_last: str = ""
    forget_last: str = ""
    lead: str = ""  # what a forget's topic is wrapped in before it: "what I said about"
    tail: str = ""  # and after it: "please", "from your memory"
    # the verbs of `forget` that only mean "forget"; the others (удали, сотри, borra, elimina, apaga, lösche, پاک کن…)
    # also mean "wipe", "turn off", "delete the photos", so they make a forget only with a word of memory
    # (`of_memory`: "из памяти", "lo que te dije") or the speaker's own thing, as English's "remove" does
    only_forget: str = ""
    of_memory: str = ""
    idioms: frozenset[str] = frozenset()  # a forget whose first word is one of these names nothing ("забудь это")
    everything: frozenset[str] = frozenset()  # a forget of these words is a forget of all
    polite: frozenset[str] = frozenset()  # besides bot/when/locales.py's


FOREIGN: dict[str, ActionWords] = {
    "ru": ActionWords(
        reminder=r"напоминани\w*",
        only_forget=r"забудь",
        of_memory=r"памят|что я (?:тебе )?(?:сказал|говорил|писал|рассказ)",
        cancel=r"(?:отмени|отмените|удали|удалите|убери|уберите|сотри|сотрите|выключи|выключите)\s+"
               r"(?P<rest>.*напоминани.*)",
        dont=r"(?:(?:больше\s+)?не напоминай(?:те)?|перестань(?:те)? напоминать)(?:\s+мне)?(?:\s+больше)?\b"
             r"(?P<rest>.*)",
        list=r"(?:(?:покажи(?:те)?|перечисли(?:те)?|выведи|назови)(?:\s+мне)?(?:\s+(?:мои|все|все мои))?\s+"
             r"напоминания|какие(?:\s+у\s+меня)?(?:\s+есть)?\s+напоминания(?:\s+у\s+меня)?(?:\s+есть)?|"
             r"(?:есть\s+ли|у\s+меня\s+есть)(?:\s+у\s+меня)?(?:\s+какие-(?:нибудь|то))?\s+напоминания|"
             r"мои\s+напоминания|список\s+напоминаний)",
        forget=r"(?:забудь(?:те)?|удали(?:те)?|сотри(?:те)?)\b(?P<rest>.*)",
        lead=r"(?:(?:всё|все|то)?,?\s*(?:что|чего)\s+я\s+(?:тебе\s+)?(?:говорил|говорила|сказал|сказала|писал|"
             r"писала|рассказывал|рассказывала)(?:\s+тебе)?|о|об|обо|про|насчёт|насчет)\b",
        tail=r"(?:пожалуйста|из (?:своей |твоей )?памяти|(?:который|которую|которое|что) я (?:тебе )?"
             r"(?:говорил|говорила|сказал|сказала|дал|дала)(?: тебе)?)",
        idioms=frozenset({"это", "об", "про", "меня", "его", "её", "ее", "их", "так", "ладно", "не"}),
        everything=frozenset({"всё", "все", "всё обо мне", "все обо мне", "всё что знаешь", "всё, что знаешь"})),
    "uk": ActionWords(
        reminder=r"нагадуван\w*",
        only_forget=r"забудь",
        of_memory=r"пам['’]ят|що я (?:тобі )?(?:казав|сказав|писав|розпов)",
        cancel=r"(?:скасуй(?:те)?|видали(?:ть)?|видаліть|прибери(?:ть)?|вимкни(?:ть)?|зітри(?:ть)?)\s+"
               r"(?P<rest>.*нагадуван.*)",
        dont=r"(?:(?:більше\s+)?не нагадуй(?:те)?|перестань(?:те)? нагадувати)(?:\s+мені)?(?:\s+більше)?\b(?P<rest>.*)",
        list=r"(?:(?:покажи(?:ть)?|перелічи(?:ть)?|назви)(?:\s+мені)?(?:\s+(?:мої|всі|всі мої))?\s+"
             r"нагадування|які(?:\s+[ву]\s+мене)?(?:\s+є)?\s+нагадування(?:\s+[ву]\s+мене)?(?:\s+є)?|"
             r"чи\s+є(?:\s+[ву]\s+мене)?(?:\s+якісь)?\s+нагадування|мої\s+нагадування|список\s+нагадувань)",
        forget=r"(?:забудь(?:те)?|видали(?:ть)?|видаліть|зітри(?:ть)?)\b(?P<rest>.*)",
        lead=r"(?:(?:все|те)?,?\s*(?:що)\s+я\s+(?:тобі\s+)?(?:казав|казала|сказав|сказала|писав|писала|"
             r"розповідав|розповідала)(?:\s+тобі)?|про|щодо)\b",
        tail=r"(?:будь ласка|з (?:своєї |твоєї )?пам'яті|(?:який|яку|яке|що) я (?:тобі )?(?:казав|казала|сказав|"
             r"сказала|дав|дала)(?: тобі)?)",
        idioms=frozenset({"це", "про", "мене", "його", "її", "їх", "так", "не"}),
        everything=frozenset({"все", "усе", "все про мене", "все що знаєш"})),
    "es": ActionWords(
        reminder=r"recordatorios?",
        only_forget=r"olv[ií]d",
        of_memory=r"memoria|lo que (?:te )?(?:dije|cont[eé]|escrib[ií])",
        cancel=r"(?:cancela(?:r)?|cancele|borra(?:r)?|borre|elimina(?:r)?|elimine|quita(?:r)?|quite|anula(?:r)?|"
               r"anule|desactiva(?:r)?|desactive)\s+(?P<rest>.*recordatorio.*)",
        dont=r"(?:(?:ya\s+)?no me recuerdes(?:\s+más)?|deja de recordarme)\b(?P<rest>.*)",
        list=r"(?:(?:mu[eé]strame|ens[eé]ñame|dime|lista|listame|l[ií]stame|muestra)(?:\s+todos)?(?:\s+(?:mis|los))?"
             r"\s+recordatorios(?:\s+pendientes)?|(?:qu[eé]|cu[aá]les)(?:\s+son)?(?:\s+(?:mis|los))?\s+"
             r"recordatorios(?:\s+pendientes)?(?:\s+(?:tengo|hay|tienes))?(?:\s+pendientes)?|"
             r"tengo\s+(?:alg[uú]n\s+|algunos\s+)?recordatorios?(?:\s+pendientes?)?|mis\s+recordatorios|"
             r"hay\s+recordatorios(?:\s+pendientes)?)",
        forget=r"(?:olvida|olv[ií]date de|olvide|borra|borre|elimina|elimine)\b(?P<rest>.*)",
        lead=r"(?:(?:todo\s+)?lo\s+que\s+(?:te\s+)?(?:dije|cont[eé]|escrib[ií])(?:\s+(?:sobre|de|acerca de))?|"
             r"sobre|acerca de)\b",
        tail=r"(?:por favor|de tu memoria|que te (?:dije|di|cont[eé]))",
        idioms=frozenset({"lo", "eso", "esto", "todo eso", "me", "te", "la", "las", "los", "no"}),
        everything=frozenset({"todo", "todo lo que sabes", "todo lo que sabes de mí", "todo lo que sabes de mi"})),
    "pt": ActionWords(
        reminder=r"lembretes?",
        only_forget=r"esque[cç]",
        of_memory=r"mem[oó]ria|o que (?:eu )?(?:te )?(?:disse|falei|contei|escrevi)",
        cancel=r"(?:cancela(?:r)?|cancele|apaga(?:r)?|apague|remove(?:r)?|remova|elimina(?:r)?|elimine|"
               r"desativa(?:r)?|desative|tira|tire)\s+(?P<rest>.*lembrete.*)",
        dont=r"(?:n[aã]o me lembre|para de me lembrar|pare de me lembrar)\b(?P<rest>.*)",
        list=r"(?:(?:mostra|mostre|lista|liste|diz|diga)(?:-me|\s+me)?(?:\s+todos)?(?:\s+os)?(?:\s+meus)?\s+"
             r"lembretes(?:\s+pendentes)?|(?:quais|que)(?:\s+s[aã]o)?(?:\s+os)?(?:\s+meus)?\s+lembretes"
             r"(?:\s+pendentes)?(?:\s+(?:eu\s+)?(?:tenho|h[aá]))?|(?:eu\s+)?tenho\s+(?:algum\s+|alguns\s+)?"
             r"lembretes?(?:\s+pendentes?)?|(?:os\s+)?meus\s+lembretes)",
        forget=r"(?:esquece|esque[cç]a|apaga|apague|elimina|elimine)\b(?P<rest>.*)",
        lead=r"(?:(?:tudo\s+)?o\s+que\s+(?:eu\s+)?(?:te\s+)?(?:disse|contei|escrevi)(?:\s+(?:sobre|de|acerca de))?|"
             r"sobre|acerca de)\b",
        tail=r"(?:por favor|da (?:tua|sua) mem[oó]ria|que (?:eu )?te (?:disse|dei|contei))",
        idioms=frozenset({"isso", "isto", "disso", "me", "te", "tudo isso", "não", "nao"}),
        everything=frozenset({"tudo", "tudo o que sabes", "tudo o que sabe", "tudo o que sabes sobre mim"})),
    "de": ActionWords(
        reminder=r"erinnerung(?:en)?",
        only_forget=r"verg(?:iss|ess)",
        of_memory=r"gedächtnis|speicher|was ich (?:dir )?(?:gesagt|geschrieben|erzählt)",
        cancel=r"(?:lösche|lösch|loesche|streiche|streich|entferne|entfern|storniere|deaktiviere)\s+"
               r"(?P<rest>(?!.*\baus (?:deiner|der|dem)\b).*erinnerung.*)",
        dont=r"(?:erinnere mich nicht(?:\s+mehr)?|hör auf,? mich zu erinnern)\b(?P<rest>.*)",
        list=r"(?:(?:zeig(?:e)?|liste|nenne?)(?:\s+mir)?(?:\s+alle)?(?:\s+(?:meine|die))?\s+erinnerungen|"
             r"welche\s+erinnerungen\s+(?:habe|hab)\s+ich(?:\s+noch)?|(?:habe|hab)\s+ich\s+(?:irgendwelche\s+|"
             r"noch\s+)?erinnerungen|meine\s+erinnerungen)",
        forget=r"(?:vergiss|vergesst|vergessen sie|lösche|lösch|loesche)\b(?P<rest>.*)",
        lead=r"(?:(?:alles,?\s+)?was\s+ich\s+(?:dir\s+)?(?:über|zu|von)|über)\b",
        tail=r"(?:bitte|aus deinem gedächtnis|(?:gesagt|erzählt|geschrieben|gegeben)(?: habe| hab)?|"
             r"(?:das|die|den) ich dir (?:gesagt|gegeben|erzählt)(?: habe| hab)?)",
        idioms=frozenset({"es", "das", "mich", "dich", "ihn", "sie", "nicht", "nie"}),
        everything=frozenset({"alles", "alles über mich", "alles was du weißt"})),
    "fa": ActionWords(
        reminder=r"یادآوری\S*",
        only_forget=r"فراموش",
        of_memory=r"حافظه|(?:که\s+)?(?:به\s+تو\s+)?گفتم",
        cancel_last=r"(?P<rest>.*یادآوری.*?)(?:\s+را)?\s+(?:لغو|حذف|پاک)\s+(?:کن|کنید|بکن|بکنید)",
        list=r"(?:(?:چه|کدام)\s+یادآوری\S*\s+(?:دارم|داریم)|یادآوری\S*(?:\s+من)?(?:\s+را)?\s+(?:نشان\s+بده|"
             r"نشان\s+بدهید|بگو|چیست|چیه|کدامند)|(?:لیست|فهرست)\s+یادآوری\S*(?:\s+من)?|یادآوری\S*\s+من)",
        forget_last=r"(?P<rest>.+?)(?:\s+را)?\s+(?:فراموش|پاک|حذف)\s+(?:کن|کنید|بکن|بکنید)",
        forget=r"(?:فراموش\s+کن|فراموش\s+کنید)\b(?P<rest>.*)",
        lead=r"(?:(?:هر\s+)?(?:آنچه|چیزی|آن\s*چه)\s+(?:که\s+)?(?:درباره|در\s+مورد|راجع\s+به)|درباره|در\s+مورد|"
             r"راجع\s+به)",
        tail=r"(?:(?:را\s+)?که\s+(?:به\s+تو\s+)?گفتم|گفتم|لطفا|لطفاً|از\s+حافظه\S*)",
        idioms=frozenset({"این", "آن", "اینو", "اونو"}),
        everything=frozenset({"همه", "همه چیز", "همه‌چیز", "همه چیز را"})),
}
_END_FOREIGN = r"[\s.!?¿¡؟]*$"
# A forget whose next word is one of these is no request at all: "Vergiss nicht die Milch" (don't forget the milk),
# "Esquece, não importa" (never mind).
_NEVER_A_TOPIC = frozenset({"nicht", "nie", "não", "nao", "no", "не"})


@functools.cache
def _foreign_patterns(lang: str) -> dict[str, re.Pattern[str] | None]:
    w = FOREIGN[lang]
    polite = sorted(w.polite | time_words(lang).polite, key=len, reverse=True)
    lead = rf"^[¿¡\s]*(?:(?:{'|'.join(map(re.escape, polite))})[\s,]+)*" if polite else r"^[¿¡\s]*"

    def made(body: str, whole: bool = False) -> re.Pattern[str] | None:
        return re.compile(lead + body + (_END_FOREIGN if whole else "$"), re.I | re.S) if body else None

    return {"cancel": made(w.cancel), "dont": made(w.dont), "list": made(w.list, whole=True),
            "forget": made(w.forget), "cancel_last": made(w.cancel_last + _END_FOREIGN[:-1]) if w.cancel_last else None,
            "forget_last": made(w.forget_last + _END_FOREIGN[:-1]) if w.forget_last else None}


@functools.cache
def _foreign_parts(lang: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A language's word for a reminder, and what wraps a forget's topic before and after it."""
    w = FOREIGN[lang]
    return (re.compile(w.reminder, re.I), re.compile(rf"^(?:{w.lead}[\s,:]*)+", re.I),
            re.compile(rf"(?:\s*{w.tail})+[\s.!?,؟]*$", re.I))


def read_foreign(said: str) -> Request | None:
    """Cancel, list or forget in a language of FOREIGN, or None. The message's language is tried first, then the
    others: a short request is not always told from a neighbour ("cancela o lembrete do dentista" reads as
    Spanish), and each language's words are its own ("lembrete" is Portuguese)."""
    first = language_of(said)
    if first == "en":
        return None  # English's own words are read above (read_request)
    text = said.replace("\u200c", "")  # Persian's zero-width non-joiner: یادآوری‌ها is یادآوریها
    for lang in dict.fromkeys([first, *FOREIGN] if first in FOREIGN else FOREIGN):
        heard, found = _read_in(lang, text, said)
        if heard:  # its words, a request or an idiom ("забудь об этом"): not read again as another language's
            return found
    return None


_CANCEL_PATTERNS = ("cancel", "cancel_last", "dont")  # keys of _foreign_patterns, tried in this order


# A negation anywhere ("Vergiss den Schirm nicht", "Olvida el paraguas, no llueve") or a comment after the topic
# makes a forget a remark, not a request (ActionWords.only_forget, of_memory: which verbs need a word of memory).
_NEGATION = re.compile(r"(?<!\w)(?:nicht|nie|no|não|nao|не|ні|نه)(?!\w)", re.I)
_MEMORY_NOUN = re.compile(r"^(?:памят|пам['’]ят|memori|memóri|gedächtnis|speicher|حافظه)", re.I)


_KINDLY = re.compile(r"[,;]?\s*(?:por favor|please|bitte|danke|gracias|obrigad[oa]|пожалуйста|спасибо|будь ласка|"
                     r"дякую|لطفا|لطفاً|ممنون|مرسی)[\s.!?؟]*$", re.I)


def _forget_meant(lang: str, text: str, rest: str) -> bool:
    """Whether a forget read in `lang` is one (ActionWords.only_forget, of_memory). A verb that also means "wipe"
    or "turn off" counts with a word of memory or when what it names is the speaker's own ("apaga o meu
    endereço", "удали мой адрес"; not "apaga a luz")."""
    rest = _KINDLY.sub("", rest)
    if _NEGATION.search(text) or "," in rest or ";" in rest:
        return False
    w = FOREIGN[lang]
    if ((w.only_forget and re.search(w.only_forget, text if lang == "fa" else text[:24], re.I))
            or (w.of_memory and re.search(w.of_memory, text, re.I))):
        return True
    own = words_of(lang).self
    return any(w.lower() in own for w in rest.split()[:2])


def _read_in(lang: str, text: str, said: str) -> tuple[bool, Request | None]:
    """Whether the words of `lang` open the message (a verb of these actions), and the request they make, if
    any (None: an idiom, "forget it")."""
    patterns = _foreign_patterns(lang)
    reminder, lead, tail = _foreign_parts(lang)
    if (pattern := patterns["list"]) is not None and pattern.match(text):
        return True, Request(Action.LIST, "", said, language=lang)
    for key in _CANCEL_PATTERNS:
        if (pattern := patterns[key]) is not None and (match := pattern.match(text)) is not None:
            return True, Request(Action.CANCEL, _topic(match["rest"], lang, drop_reminder=True), said,
                                 language=lang)
    for key in ("forget", "forget_last"):
        if (pattern := patterns[key]) is not None and (match := pattern.match(text)) is not None:
            rest = match["rest"].strip(" ,:.!?؟")
            if not _forget_meant(lang, text, rest):
                return False, None
            if reminder.search(rest):
                return True, None  # "удали напоминание…" is a cancel; "забудь о напоминании?" asks nothing clear
            first = rest.split()[0].lower() if rest.split() else ""
            if not rest or (first in FOREIGN[lang].idioms and (len(rest.split()) <= 2 or first in _NEVER_A_TOPIC)):
                return True, None
            topic = tail.sub("", lead.sub("", rest)).strip(" ,:.!?؟")
            if topic.lower() in FOREIGN[lang].everything:
                return True, Request(Action.FORGET, "all", said, language=lang)
            words = [w for w in keywords(topic, lang) if w not in words_of(lang).self and not _MEMORY_NOUN.match(w)]
            if not words or len(words) > MAX_TOPIC_WORDS:
                return True, None
            return True, Request(Action.FORGET, " ".join(words), said, language=lang)
    return False, None


def _topic(rest: str, lang: str, drop_reminder: bool) -> str:
    """The words naming which reminder in another language: its keywords, without the word for a reminder."""
    words = keywords(rest, lang)
    if drop_reminder:
        reminder = _foreign_parts(lang)[0]
        words = [w for w in words if not reminder.fullmatch(w)]
    return " ".join(words)


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
    if (match := _REMIND_AFTER.match(said)) is not None and _A_TIME.search(match["rest"]) \
            and not _NOT_MINE.search(match["rest"]):
        rest = re.sub(r"^(?:i (?:have|need|must|ought|want) to|i've got to|i have got to|i should|i must)\s+", "",
                      match["rest"].strip(), flags=re.I)
        return Request(Action.REMIND, rest, text)
    if (match := _REMIND.match(said)) is not None:
        rest = match["rest"].strip()
        if (often := _OFTEN.search(said, 0, match.start("rest"))) is not None:
            rest = f"{often[1].lower()} {rest}"
        if _REMIND_ASKS.match(rest) or (re.match(r"^(?:of|about)\b", rest, re.I)
                                         and (rest.endswith("?") or not _A_TIME.search(rest))):
            return None  # "remind me what my dog is called?", "remind me of the kids' school name": asks
        pinged = _PING.search(said[:match.start("rest")].rstrip())
        if pinged and (not _PING_REST.match(rest) or _CONDITION.search(rest)):
            return None  # "ping me the address tomorrow", "alert me if the stock drops"
        return Request(Action.REMIND, rest, text)
    if _LIST.match(said):
        return Request(Action.LIST, "", text)
    if (match := _CANCEL.match(said) or _CANCEL_ONE.match(_ASIDE.sub("", said)) or _UNNEEDED.match(said)) is not None:
        topic = reminder_topic(_without_aside(match["rest"]))
        if not topic and _SOFT.match(said):
            return None  # "No need for a reminder": declines, names none
        return Request(Action.CANCEL, topic, text)
    if (match := _DONT_REMIND.match(said)) is not None:
        return Request(Action.CANCEL, reminder_topic(_without_aside(match["rest"])), text)
    if (match := _FORGET.match(said) or _FORGET_MEMORY.match(said) or _UNREMEMBER.match(said)) is not None:
        return _forget(_FORGET_ASIDE.sub("", match["rest"]), text)
    found = read_foreign(said)
    return Request(found.kind, found.topic, text, language=found.language) if found is not None else None


_A_CLAUSE = re.compile(r"\b(?:is|are|was|were|isn't|aren't|wasn't|doesn't|don't|didn't|has|have|had|will|won't|"
                       r"can't|can|sticks?|works?|broke|broken)\b", re.I)


def _without_aside(rest: str) -> str:
    """The request's words without a comment after them — unless what is left reads as a sentence of its own
    ("Delete key is broken on my laptop, it sticks" is a statement, not a request to delete "key is broken")."""
    cut = _ASIDE.sub("", rest)
    return rest if cut != rest and _A_CLAUSE.search(cut) else cut


def _forget(rest: str, text: str) -> Request | None:
    rest = rest.strip(" ,:.!?")
    bare = _TOPIC_TAIL.sub("", rest).strip(" ,:.!?")
    if any(_LAST_SAID.match(t) for t in (rest, bare, _TOPIC_LEAD.sub("", bare))):
        return Request(Action.FORGET, LAST_SAID, text)
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
    if re.match(r"^(?:that|what) (?:i|we) (?:just )?(?:said|told you|mentioned|wrote|shared|gave you|typed|sent)\b"
                r".*\b(?:about|of|regarding)\b", rest, re.I):
        return False  # "forget that I told you about the surgery": a topic follows
    return plain[0] in ("that", "this", "about") and (len(plain) == 1 or plain[1] in (
        "it", "that", "this", "i", "i'll", "please", "then", "for", "one"))


def reminder_topic(rest: str) -> str:
    """The words naming which reminder: "the bread reminder" -> "bread"; "my reminder to call Ana" -> "call ana"."""
    words = re.findall(r"[\w#']+", rest.lower())
    drop = {"the", "my", "a", "an", "that", "this", "reminder", "reminders", "to", "about", "for", "of", "please",
            "me", "remind", "set", "i", "you", "your", "it", "one", "ones", "now", "again", "on", "at", "in", "which"}
    return " ".join(w for w in words if w not in drop)
