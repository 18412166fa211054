"""What a reply says when the model gave nothing worth sending: never an empty reply, never a bare "I'm not sure"
when memory holds the answer.

- nothing left: the model's text was filtered away entirely (it only said the question back, a label…) → the
  best memory quoted, or that it does not know;
- unsure but told: the model said only "I'm not sure." although the note it was shown speaks of everything the
  question asks about (SmolLM2-135M, shown "My swimming lesson is at 5:45 on Wednesdays." and asked when the lesson
  is, answered "I'm not sure.") → the note quoted after it, so the person sees what memory has.
"""

from __future__ import annotations

import re

from bot.i18n import _, isolate
from bot.reply.intent import Intent, without_mentions
from bot.reply.plan import NOT_TOLD, NOTED, ReplyPlan
from memory.text import content_words

_UNSURE = re.compile(r"^(sorry,?\s+)?(i'm|i am)\s+(not sure|unsure|afraid i don't know)( what to do with that|"
                     r" about that| what you mean)?[.!]?$|^(sorry,?\s+)?i (don't|do not) know( that)?[.!]?$|"
                     r"^no idea[.!]?$", re.I)


def nothing_left(plan: ReplyPlan) -> str:
    """The reply when the model's text was filtered away entirely: what memory has (the best memory quoted), or
    that it does not know. Never an empty reply."""
    if plan.intent is Intent.GREETING:
        return _("Hello! How can I help?")
    if plan.intent is Intent.STATEMENT:
        return _(NOTED)
    if plan.memories:
        said = " ".join(plan.memories[0].message.text.split())
        return _("Here is what I have: “{memory}”").format(memory=isolate(said))
    return _(NOT_TOLD) if plan.intent is Intent.SELF_QUESTION else _("I don't know.")


def unsure_but_told(text: str, plan: ReplyPlan, question: str) -> str | None:
    """What follows a reply that is only "I'm not sure." when the best note shown speaks of every meaningful word
    of the question: " Here is what I have: “…”"; None otherwise (a note about something else is not quoted: "What's
    my son's name?" is not answered with the daughter's)."""
    if plan.request or not plan.memories or not _UNSURE.match(text.strip().replace("’", "'")):
        return None
    wanted = content_words(without_mentions(question))
    best = plan.memories[0].message
    if not wanted or wanted - content_words(best.text):
        return None
    return " " + _("Here is what I have: “{memory}”").format(memory=isolate(" ".join(best.text.split())))
