"""Facts that change: of the memories that answer the same question, the newest wins; a correction supersedes
what it corrects. Nothing is deleted: the older memory stays, is shown as earlier, and answers "before" questions.

Decided at answer time, among the recalled memories, without a model (SmolLM2-135M cannot weigh "I live in Porto"
against "I moved to Madrid last week": asked "Where do I live?" it answered "Porto", or nothing):
- a statement is read for the claims it makes, with a small table of slots: where someone lives ("I live in",
  "I moved to", "we relocated to", "my sister lives in"), where they work ("I work at", "I got a job at",
  "I joined"), what they work as, and "my <thing> is <value>" ("My dog is called Max.", "I changed my phone
  number to …", "My favourite colour is now green."). A claim has a holder (the speaker for "I"/"we", "my
  sister", a named person), a slot and a value, or none ("I no longer live in Porto");
- a question is read for the slot it asks about and whose it is ("Where does my sister live?", "Which city do I
  live in now?", "What is my dog's name?"), and whether it asks what was before ("Where did I live before?");
- the claims of that slot and holder in what was recalled are ordered by when they were said: when they disagree,
  or the newest is a change ("moved to", "changed my…", "no longer"), the answer is the newest value, given
  without the model ("You live in Madrid now (before that: Porto)."), cited to the message that said it; a
  "before" question gets the value before it. `Preference` says which memory was preferred and why (/why);
- a correction the slots do not read ("Actually, the meeting is on Thursday, not Tuesday.") still supersedes the
  older memories on the same subject among those shown to the model: they are left out of the prompt (kept in
  /why, marked as earlier) unless the question asks what was before.
Recall has to bring the newer memory at all: "Where do I live?" and "I moved to Madrid" share no content word, so
a question about a slot adds the slot's words ("moved", "relocated", …) to the keyword side of recall
(`vocabulary`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.reply.intent import without_mentions
from bot.reply.persons import second_person
from bot.reply.prompt import format_day
from memory import Hit, Message
from memory.text import content_words, words

RESIDENCE, WORK, OCCUPATION, THING = "residence", "work", "occupation", "thing"


@dataclass(frozen=True)
class Slot:
    you: str  # "live in": the verb with "you"
    third: str  # "lives in": with anyone else
    past: str  # "lived in"
    label: str  # "where {} live{s}" for /why
    vocabulary: str  # words recall's keyword side adds for a question about the slot


SLOTS = {
    RESIDENCE: Slot("live in", "lives in", "lived in", "where {} live{s}",
                    "live lives living lived moved relocated home based"),
    WORK: Slot("work at", "works at", "worked at", "where {} work{s}",
               "work works working job joined hired employer company office"),
    OCCUPATION: Slot("work as", "works as", "worked as", "what {} work{s} as", "work works working job as"),
}

# Lead-ins that correct what was said before; the claim after them is the corrected one.
_MIXED_UP = r"i mixed (it|them|that|those|things) up|i got (it|that|them|those) mixed up|i mixed up \w+|my bad"
CORRECTION = re.compile(
    r"\b(i got (that|it) wrong|wrong|i was wrong|i made a mistake|my mistake|i meant|i misspoke|correction|"
    r"actually|oops|not [\w'’]+( [\w'’]+){0,2} but|, not \w+|no longer|any ?more|changed|instead|scratch that|update:|"
    + _MIXED_UP + r")\b", re.I)
CORRECTION_LEAD = re.compile(
    r"^\s*((sorry|oops|whoops|wait|no|ah|oh|ugh|argh|hmm)[,!.]?\s+)*((i got (that|it) wrong|i was wrong|"
    r"i made a mistake|my mistake|i misspoke( earlier)?|i meant|correction|actually|update|scratch that|"
    r"wrong (guy|person|one|name|number|day|date|time|place)|" + _MIXED_UP + r")\s*[:,.!-]?\s*)+", re.I)
_NOT_THAT = re.compile(r"^(it's|it is|that's|that is|it was|that was)\s+not\s+[^,.;!?]+[,;]\s*", re.I)
_INTERJECTION = re.compile(r"^\s*((sorry|oops|whoops|wait|no|ah|oh|hmm|ugh|argh|ok|okay)\b[,!.]?\s*)+", re.I)
_APOSTROPHE = str.maketrans({"’": "'"})
_SENTENCE = re.compile(r"(?<!\b(?:Dr|Mr|Ms|St|Mt)\.)(?<=[.!?;])\s+|:\s+")  # "Dr. Kim" is not two sentences
# A value runs to the end of its clause; a full stop inside a word ("jon@new.org", "3.5", "Dr. Kim") is part of it.
_VALUE = r"(?:[^.,;:!?]|\.(?=\S)|(?<=\b(?:Dr|Mr|Ms|St|Mt))\.\s)+"
_MID = r"(?:'ve|'s|\s+(?:have|has|had|just|now|finally|recently|also|already|actually|then|since|all))*"
_NEG = r"(?:\s+(?P<neg>no longer|don't|do not|doesn't|does not|not|never))?"
# Whose: "I", "we", "my sister (Ana)", a name; or nobody named at the start of a sentence that begins with the
# verb ("Lost my job as a banker yesterday."): the speaker.
_HOLDER = (r"(?P<holder>(?i:\bI\b|\bwe\b|\bmy\s+\w+(?:\s+[A-Z][a-z]+)?)|\b[A-Z][a-z]+|"
           r"^(?=(?i:just\s+)?(?i:lost|got|moved|started|quit|left|relocated)\b))")
_A_HOME = (r"(?:a|an|our|my|the|his|her|their)\s+(?:(?:new|little|tiny|small|big|lovely|nice|own)\s+)*(?:flat|house|"
           r"apartment|place|home|room|studio|condo|cottage|bungalow)")
_CLAIMS = (
    (RESIDENCE, re.compile(
        # "I'm renting a flat in Bristol", "we bought a house in Bath", "we moved into a flat in Leeds"
        _HOLDER + _MID + _NEG + r"\s*(?P<verb>(?i:(?:(?:'m|'re|am|are|is|been)\s+)?(?:renting|rent|rents|bought|"
        r"own|owns|moved\s+into)\s+" + _A_HOME + r"|(?:'m|am|are|is|been)\s+(?:living|based|staying)|live|lives|living|"
        r"reside|resides|moved(?:\s+house|\s+back|\s+out)?|relocated|settled(?:\s+down)?))"
        r"\s+(?P<prep>(?i:to|in|into|at|near))\s+(?P<value>" + _VALUE + ")")),
    (OCCUPATION, re.compile(
        _HOLDER + _MID + _NEG + r"\s*(?P<verb>(?i:(?:'m|am|are|is|been)\s+working|work|works|got a (?:new )?job|"
        r"lost (?:my|his|her) job|"
        r"started (?:a (?:new )?job|working)|took a (?:new )?job|have a (?:new )?job))\s+(?P<prep>(?i:as))\s+"
        "(?P<value>" + _VALUE + ")")),
    (WORK, re.compile(
        _HOLDER + _MID + _NEG + r"\s*(?P<verb>(?i:(?:'m|am|are|is|been)\s+(?:working|employed)|work|works|"
        r"lost (?:my|his|her) job|"
        r"got a (?:new )?job|got hired|was hired|started (?:a (?:new )?job|working|work)|took a (?:new )?job|"
        r"have a (?:new )?job|joined|left|quit(?: my job)?|(?:'m|am|is|are)\s+(?:starting|joining)"
        r"(?:\s+(?:work|a (?:new )?job))?|start(?:s|ing)?(?:\s+(?:work|a (?:new )?job))?))"
        r"\s+(?:(?P<prep>(?i:at|for|with|by|in))\s+)?"
        "(?P<value>" + _VALUE + ")")),
    (THING, re.compile(  # "The team meeting is on Thursday.": a fact of the chat's, whoever says it
        r"(?:^|(?<=[,;]\s))(?i:(?P<shared>the|our)\s+)(?P<thing>\w+(?:\s+\w+){0,2}?)\s+(?i:is|are)\s+"
        "(?P<value>" + _VALUE + ")")),
    (THING, re.compile(
        r"(?i:\b(?P<change>(?:i|we)(?:'ve|\s+have|\s+just)*\s+(?:changed|updated|switched)\s+)?my\s+)"
        r"(?P<thing>(?:\w+'s\s+)?\w+(?:\s+\w+){0,2}?)\s+(?(change)(?i:to)|(?i:is|are|has changed to|changed to))"
        r"\s+(?P<value>" + _VALUE + ")")),
)
_CHANGE_VERBS = re.compile(r"\b(moved|relocated|settled|got|started|took|joined|hired|left|quit|changed|updated|"
                           r"switched|raised|increased|went up|put up|lowered|reduced|went down|rescheduled|postponed|"
                           r"pushed back|brought forward|sold|now|new|these days|nowadays|gave up|no longer)\b", re.I)
_CUT_WORDS = (r"[—–-]\s|because|since|with|and|but|so|when|after|before|a few|about|now|any ?more|recently|"
              r"though|too|instead")
# When a change happened ("I moved to Madrid last week", "… at Netflix on Monday") is not where or what: cut from
# a slot's value. A thing's value may be a time ("The report is due on Monday."): kept there.
_CUT_WHEN = (r"last|this|next|for|yesterday|today|tonight|ago|on (?:mondays?|tuesdays?|wednesdays?|thursdays?|"
             r"fridays?|saturdays?|sundays?|the \d+\w*|\d+\w*)|in (?:the )?(?:january|february|march|april|may|june|"
             r"july|august|september|october|november|december|spring|summer|autumn|fall|winter|\d{4})")
_CUT = re.compile(rf"\s+(?:{_CUT_WORDS}|{_CUT_WHEN})\b.*$", re.I)
_CUT_THING = re.compile(rf"\s+(?:{_CUT_WORDS})\b.*$", re.I)
_NOT_BUT = re.compile(r"^not\s+(?:(?:called|named)\s+)?(?P<old>.+?)\s+but\s+(?P<new>.+)$", re.I)
_VALUE_LEAD = re.compile(r"^(?:(?:now|actually|still|currently|really|called|named)\s+)+", re.I)
_THING_SKIP = {"new", "current", "old", "actual", "real", "own"}
_PLACE_WORDS = {"home", "house", "place", "flat", "apartment", "job", "work", "company", "office", "address", "city",
                "town", "country", "employer", "workplace"}
_NOT_A_NAME = {"I", "Last", "This", "Next", "Sorry", "Actually", "Now", "Then", "So", "And", "But", "Yesterday",
               "Today", "Where", "Which", "What", "Who", "When", "How", "Do", "Does", "Did", "Is", "Are", "We",
               "My", "Our", "Since", "After", "Before", "Oh", "Wait", "No", "Yes", "Also", "In", "On", "At"}
# What a question asks about.
_Q_RESIDENCE = re.compile(r"\b(where|which|what)\b.*\b(live|lives|living|lived|based|reside|resides|home|moved|"
                          r"move)\b", re.I)
_Q_WORK = re.compile(r"\b(where|which|what|who)\b.*\b(work|works|working|worked|employer|employed|job|company)\b",
                     re.I)
_Q_OCCUPATION = re.compile(r"\b(what)\b.*\b(job|profession|occupation|work as|do for (a )?(living|work))\b", re.I)
_Q_BEFORE = re.compile(r"\b(before|previously|used to|earlier|formerly|former|originally|at first|(?<!how )old|"
                       r"did (i|we|my \w+|[a-z]+) (live|work))\b", re.I)
_Q_HOLDER = re.compile(r"\b(?i:do|does|did|am|are|is|was|were|have|has|had)\s+"
                       r"(?P<holder>(?i:I|we|my\s+\w+)|[A-Z][a-z]+)\b")
# "Do I still live in Porto?", "Does Gina still work at Door Dash?", "Is Jon still working as a banker?"
_Q_STILL = re.compile(r"^\s*(?:do|does|am|is|are)\b.*?\bstill\s+(?P<verb>live|lives|living|based|work|works|working|"
                      r"employed)\b(?:\s+(?P<prep>in|at|for|as|with|by))?\s+(?P<value>[^?]+)", re.I)
_Q_SAYS_I = re.compile(r"(?i:\b(i|me|my|we|our)\b)")


@dataclass(frozen=True)
class Claim:
    hit: Hit
    slot: str  # RESIDENCE, WORK, OCCUPATION or THING
    owner: str  # whose: the speaker's first name for "I", a named person's
    relation: str  # "" for the owner themself, "sister" for "my sister"
    key: frozenset[str] = frozenset()  # THING: the thing's content words ("dog", "favourite colour")
    thing: str = ""  # THING: as said ("dog", "favourite colour")
    value: str | None = None  # None: "no longer"
    prep: str = ""
    change: bool = False  # a change or correction ("moved to", "changed my", "actually")
    gone: str = ""  # what a "no longer" claim says no longer holds ("I left the bank": "the bank")

    @property
    def said(self) -> Message:
        return self.hit.message


@dataclass(frozen=True)
class Asked:
    slot: str
    owner: str
    relation: str
    before: bool
    key: frozenset[str] = frozenset()  # THING: the question's content words
    check: str = ""  # "Do I still live in Porto?": the value asked about ("Porto")


@dataclass
class Preference:
    """Which memory was preferred among those answering the same question, and why (shown by /why)."""

    preferred: Hit
    earlier: list[Hit] = field(default_factory=list)
    reason: str = ""


@dataclass
class Resolution:
    answer: str | None  # the whole reply, when certain without the model
    memories: list[Hit]  # newest (preferred) first
    preference: Preference


def first_name(name: str) -> str:
    return name.split()[0].lower() if name.split() else ""


def owner_of(message: Message) -> str:
    return first_name(message.sender_name) or f"#{message.sender_id}"


def same_speaker(a: Message, b: Message) -> bool:
    """Whether two messages were said by one person: by their ids when both are known (two Alexes in a group are
    two people), else by first name; a message of nobody's is nobody's else."""
    if a.sender_id is not None and b.sender_id is not None:
        return a.sender_id == b.sender_id
    return bool(first_name(a.sender_name)) and first_name(a.sender_name) == first_name(b.sender_name)


def _holder(text: str, speaker: str) -> tuple[str, str] | None:
    low = text.lower()
    if low in ("i", "we", ""):
        return speaker, ""
    parts = low.split()
    if len(parts) > 1 and parts[0] == "my":  # "my sister" (not "Myra")
        relation = parts[1]
        return (speaker, "") if relation in _PLACE_WORDS else (speaker, relation)
    if text in _NOT_A_NAME:
        return None
    return low, ""


def _value(raw: str, cut: re.Pattern[str] = _CUT) -> tuple[str | None, str | None]:
    """(the value a claim states, the one it says was wrong): "Madrid last week" → ("Madrid", None), "not Rex but
    Max" → ("Max", "Rex")."""
    value = _VALUE_LEAD.sub("", raw.strip())
    old = None
    m = _NOT_BUT.match(value)
    if m:
        value, old = _VALUE_LEAD.sub("", m["new"]), m["old"]
    value = cut.sub("", value).strip(" '\"")
    return (value or None), old


def _end(m: re.Match[str]) -> int:
    """Where a claim ends: its value, cut where the clause moves on ("I left the bank | and now I work at …")."""
    cut = _CUT.search(m["value"])
    return m.start("value") + (cut.start() if cut else len(m["value"]))


def _matches_in(pattern: re.Pattern[str], sentence: str) -> list[re.Match[str]]:
    """Every claim of a pattern in a sentence, the next searched from where the last one's value ended."""
    found, at = [], 0
    while (m := pattern.search(sentence, at)) is not None:
        found.append(m)
        at = max(_end(m), m.start() + 1)
    return found


_GOING_ON = re.compile(r",\s*(?:and\s+)?(?:now\s+)?(starting|joining)\b", re.I)


def claims(hit: Hit) -> list[Claim]:
    """The claims a memory makes (none for a question: said_by_a_person filters those out before)."""
    message = hit.message
    speaker = owner_of(message)
    # "I quit Deloitte, starting at KPMG on Monday": the clause after the comma is the same person's
    text = _GOING_ON.sub(r", and I'm \1", message.text.translate(_APOSTROPHE))
    out: list[Claim] = []
    for sentence in _SENTENCE.split(text):
        corrected = bool(CORRECTION.search(sentence))
        sentence = CORRECTION_LEAD.sub("", sentence)
        taken: list[tuple[int, int]] = []
        for slot, pattern in _CLAIMS:
            for m in _matches_in(pattern, sentence):
                if any(m.start() < end and start < _end(m) for start, end in taken):
                    continue  # "I work as a nurse" is not also "I work at …"
                value, _old = _value(m["value"], _CUT_THING if slot == THING else _CUT)
                if slot == THING:
                    thing = m["thing"]
                    key = frozenset(content_words(thing) - {w[:5] for w in _THING_SKIP})
                    if not key or value is None or len(value.split()) > 8:
                        continue
                    gone = ""
                    if value.lower().startswith(("no longer ", "not ")):
                        gone, value = re.sub(r"^(no longer|not)\s+", "", value, flags=re.I), None
                    kept = " ".join(w for w in thing.split() if w.lower() not in _THING_SKIP)
                    shared = "shared" in m.groupdict() and m["shared"] is not None
                    out.append(Claim(hit, THING, "" if shared else speaker, "", key, kept, value, "",
                                     bool(m.groupdict().get("change")) or corrected
                                     or bool(_CHANGE_VERBS.search(m.group(0))),
                                     gone))
                    taken.append((m.start(), _end(m)))
                    continue
                holder = _holder(m["holder"], speaker)
                if holder is None or value is None:
                    continue
                verb = m["verb"].lower()
                if slot == WORK and verb in ("left", "quit", "quit my job") and m["prep"]:
                    continue  # "I left for Paris", "I quit in May"
                lost = verb.startswith("lost")
                negated = bool(m["neg"]) or lost or verb in ("left", "quit", "quit my job") or bool(
                    re.search(r"\bany ?more\b", m["value"], re.I))
                prep = (m["prep"] or "at").lower()
                if slot == RESIDENCE:
                    prep = "in"
                out.append(Claim(hit, slot, *holder, value=None if negated else value, prep=prep,
                                 change=corrected or negated or bool(_CHANGE_VERBS.search(m.group(0))),
                                 gone=value if negated else ""))
                taken.append((m.start(), _end(m)))
    return out


def asked(question: str, asker: Message) -> Asked | None:
    """The slot a question asks about, and whose; None for any other question."""
    text = without_mentions(question).translate(_APOSTROPHE)
    speaker = owner_of(asker)
    before = bool(_Q_BEFORE.search(text))
    m = _Q_HOLDER.search(text)
    holder = _holder(m["holder"], speaker) if m else None
    if holder is None:
        mine = re.search(r"(?i:\bmy\s+(\w+))", text)
        if mine and mine[1].lower() not in _PLACE_WORDS and mine[1].lower() not in {"job", "dog"}:
            holder = (speaker, mine[1].lower())
        elif _Q_SAYS_I.search(text):
            holder = (speaker, "")
    still = _Q_STILL.search(text)
    if still and holder is not None:
        verb, prep = still["verb"].lower(), (still["prep"] or "").lower()
        slot = RESIDENCE if verb.startswith(("liv", "based")) else OCCUPATION if prep == "as" else WORK
        return Asked(slot, *holder, False, check=_value(still["value"])[0] or "")
    if _Q_OCCUPATION.search(text) and holder is not None:
        return Asked(OCCUPATION, *holder, before)
    if _Q_RESIDENCE.search(text) and holder is not None:
        return Asked(RESIDENCE, *holder, before)
    if _Q_WORK.search(text) and holder is not None:
        return Asked(WORK, *holder, before)
    key = frozenset(content_words(text))
    if key:  # "What is my dog's name?", "What car do I drive?": the asker's; "When is the meeting?": the chat's
        return Asked(THING, speaker if _Q_SAYS_I.search(text) else "", "", before, key)
    return None


def vocabulary(question: str, asker: Message) -> str:
    """Words for recall's keyword side to add for a question about a slot ("" for any other question)."""
    a = asked(question, asker)
    return SLOTS[a.slot].vocabulary if a is not None and a.slot in SLOTS else ""


def _matches(claim: Claim, a: Asked) -> bool:
    if claim.slot != a.slot or claim.owner != a.owner or claim.relation != a.relation:
        return False
    return claim.slot != THING or (bool(claim.key) and claim.key <= a.key)


def _norm(value: str | None) -> str:
    return " ".join(words(value or ""))


def _subject(a: Asked, claim: Claim, asker: Message) -> tuple[str, bool]:
    """("You" / "Your sister" / "Ana", whether the verb takes the "you" form)."""
    if a.owner == owner_of(asker):
        return ("Your " + a.relation, False) if a.relation else ("You", True)
    name = claim.said.sender_name.split()[0] if a.owner == owner_of(claim.said) and claim.said.sender_name else (
        a.owner.capitalize())
    return (f"{name}'s {a.relation}", False) if a.relation else (name, False)


def _swap(value: str) -> str:
    return " ".join(second_person(value.split()))


def resolve(question: str, recalled: Sequence[Hit], asker: Message) -> Resolution | None:
    """The answer to a question about a fact that changed, from the recalled memories (what people told, oldest
    to newest by when it was said); None when the question is not about a slot, or memory holds no change."""
    a = asked(question, asker)
    if a is None:
        return None
    found = [c for h in recalled for c in claims(h) if _matches(c, a)]
    if a.slot == THING and found:  # the most specific thing the question names: "my dog's vet" over "my dog"
        widest = max(len(c.key) for c in found)
        found = [c for c in found if len(c.key) == widest]
        # and of its claims, those about what the question asks of it: "When is the report due?" is answered by
        # "The report is due on Friday.", not by a later "The report is great."
        extra = a.key - found[0].key
        about = [c for c in found if extra & content_words(c.said.text)]
        found = about or found
    if not found:
        return None
    found.sort(key=lambda c: (c.said.created_at, c.said.message_id))
    newest = found[-1]
    earlier = [c for c in found[:-1] if _norm(c.value) != _norm(newest.value) and c.value is not None]
    if not earlier and not newest.change and not a.check:
        return None  # one value, never changed: the model answers as for any fact
    subject, you = _subject(a, newest, asker)
    preferred_hits = [newest.hit]
    for c in reversed(earlier):
        if all(c.hit is not h for h in preferred_hits):
            preferred_hits.append(c.hit)
    label = _label(a, newest, you, subject)
    shown_old = [c.value for c in reversed(earlier) if c.value]
    old_values = list(dict.fromkeys(shown_old))
    reason = (f"the newest of {len(found)} memories on {label}" if len(found) > 1 else f"the memory on {label}")
    reason = (reason + f" (said {format_day(newest.said.created_at)})"
              + (f"; earlier: {', '.join(old_values)}" if old_values else "")
              + ("; it is a correction" if CORRECTION.search(newest.said.text) else ""))
    preference = Preference(newest.hit, preferred_hits[1:], reason)
    if a.check:
        return Resolution(_still(a, newest, subject, you), preferred_hits, preference)
    if a.before:
        if not old_values:
            return None
        answer = _before(a, newest, subject, you, old_values[0])
        return Resolution(answer, [found[-2].hit if earlier else newest.hit, *preferred_hits], preference)
    answer = _current(a, newest, subject, you, old_values[0] if old_values else None)
    return Resolution(answer, preferred_hits, preference)


def _label(a: Asked, claim: Claim, you: bool, subject: str) -> str:
    if a.slot == THING:
        return f"your {claim.thing}" if a.owner else f"the {claim.thing}"
    who = "you" if you else subject.replace("Your ", "your ")
    return SLOTS[a.slot].label.format(who, s="" if you else "s")


def _current(a: Asked, claim: Claim, subject: str, you: bool, old: str | None) -> str:
    if a.slot == THING:
        thing = f"Your {claim.thing}" if a.owner else f"The {claim.thing}"
        verb = "are" if claim.thing.endswith("s") and not claim.thing.endswith("ss") else "is"
        if claim.value is None:
            whose = "your" if a.owner else "the"
            return (f"As far as I recall, {whose} {claim.thing} is no longer {_swap(claim.gone or old or 'that')}, "
                    "and you haven't told me what it is now.")
        value = _swap(claim.value)
        named = "called " if re.search(r"\b(called|named)\b", claim.said.text, re.I) and not re.search(
            r"\b(name)\b", claim.thing, re.I) else ""
        note = (f" (earlier you said {_swap(old)})" if a.owner else f" (earlier: {old})") if old else ""
        return f"{thing} {verb} {named}{value}{note}."
    slot = SLOTS[a.slot]
    verb = slot.you if you else slot.third
    if claim.value is None:
        gone = claim.gone or old or ""
        who = "you" if you else subject.replace("Your ", "your ")
        return f"As far as I recall, {who} no longer {verb} {gone}, and I don't know where now.".replace("  ", " ")
    if a.slot == WORK and claim.prep and claim.prep != "at":
        verb = verb.split()[0] + " " + claim.prep
    note = f" (before that: {old})" if old else ""
    return f"{subject} {verb} {_swap(claim.value)} now{note}."


def _same(a: str, b: str) -> bool:
    x, y = _norm(a), _norm(b)
    return bool(x and y) and (x in y or y in x)


def _still(a: Asked, claim: Claim, subject: str, you: bool) -> str:
    """"Do I still live in Porto?": yes or no, from the newest claim."""
    slot = SLOTS[a.slot]
    verb = slot.you if you else slot.third
    who = "you" if you else subject.replace("Your ", "your ")
    if claim.value is not None and _same(claim.value, a.check):
        return f"Yes — as far as I recall, {who} {verb} {_swap(claim.value)}."
    if claim.value is None:
        return f"No — as far as I recall, {who} no longer {verb} {_swap(claim.gone or a.check)}."
    return f"No — as far as I recall, {who} {verb} {_swap(claim.value)} now."


def _before(a: Asked, claim: Claim, subject: str, you: bool, old: str) -> str:
    low = subject if not you else "you"
    if a.slot == THING:
        return f"Before {claim.value or 'that'}, {'your' if a.owner else 'the'} {claim.thing} was {_swap(old)}."
    slot = SLOTS[a.slot]
    return f"Before {_swap(claim.value) if claim.value else 'that'}, {low} {slot.past} {_swap(old)}."


# A change said as what was given up, then what holds now: "I gave up piano and now I play the cello.", "I quit
# football, now I play rugby.", "I stopped drinking tea and started drinking coffee.", "I don't eat meat any more,
# these days I'm vegan." The clause after the turn is the current fact.
_GIVEN_UP = (r"\b(?:gave up|give up|given up|quit|stopped|dropped|ditched|left|no longer|used to|"
             r"(?:don't|do not|doesn't|does not)(?:\s+\w+){1,3}\s+any ?more)\b")
_NOW_INSTEAD = re.compile(
    r"^(?P<who>I|we|my \w+|[A-Z][a-z]+)?\b.*?" + _GIVEN_UP + r"[^.;!?]*?(?:,\s*|;\s*|\s+)(?:and\s+|but\s+)?"
    r"(?:(?:now|these days|nowadays|instead)\s*,?\s+(?P<rest>(?:I|we|he|she|they|my \w+)\b.+)|"
    r"(?:now\s+)?(?P<verb>(?:started|took up|picked up|switched to|moved on to|joined|began)\b.+))$", re.I)
# "I switched from Android to an iPhone.": what it is now, without what it was ("from Android" said first put the
# old value before the new one).
_FROM_TO = re.compile(r"\b(switched|changed|moved|went|upgraded|converted|swapped)\s+from\s+[^,;.!?]+?\s+(to)\b",
                      re.I)
# What a change gives up ("gave up piano", "switched from the Ford"): an older memory naming it is what it changes.
_DROPS = re.compile(r"\b(?:gave up|give up|quit|stopped|dropped|ditched|sold|got rid of|traded in|"
                    r"(?:switched|changed|moved|upgraded|swapped) from|"
                    r"no longer (?:play|drink|eat|use|drive|do|go to|attend|take))\s+"
                    r"(?P<what>[^,;.!?]+?)(?=\s+(?:and|to|for|but|now|in|last|this)\b|[,;.!?]|$)", re.I)


def now_holds(text: str) -> str:
    """A change said as what was given up and what holds now, cut to what holds now: "I gave up piano and now I play
    the cello." → "I play the cello."; "I switched from tea to coffee." → "I switched to coffee."; anything else
    as it is. (SmolLM2-135M, and a reply saying it back, gave the given-up value first.)"""
    said = _FROM_TO.sub(r"\1 \2", text)
    m = _NOW_INSTEAD.match(said.strip())
    if m is None:
        return said
    who = m["who"] or ""
    if not (who.lower() in ("i", "we") or who.lower().startswith("my ") or (who[:1].isupper()
                                                                            and who not in _NOT_A_NAME)):
        who = ""  # "Last month I quit…": no holder named first
    if m["rest"]:
        rest = m["rest"]
        if who and who.lower() not in ("i", "we"):  # "My sister left Oslo and now she lives…": "My sister lives…"
            rest = re.sub(r"^(?i:he|she|they)\b", who, rest)
    else:
        rest = f"{who or 'I'} {m['verb']}"
    return rest[:1].upper() + rest[1:]


# What a correction says was wrong: "Not Nonna's Kitchen but Casa Blu", "… on the 24th, not the 14th".
_NOT_X = re.compile(r"(?:^|[:;,.]\s*|\b(?:it's|it is|that's|that is|is|was|are|were)\s+)not\s+(?P<what>[^,;.!?]+?)"
                    r"\s+but\s+(?P<new>[^,;.!?]+)|,\s*not\s+(?P<after>[^,;.!?]+)", re.I)


def drops(text: str) -> set[str]:
    """The content words of what a change gives up ("I gave up piano and…" → {"piano"}, "not Rex but Max" →
    {"rex"}), empty for none."""
    said = CORRECTION_LEAD.sub("", text.translate(_APOSTROPHE))
    given_up = [m["what"] for m in _DROPS.finditer(said)]
    given_up += [m["what"] or m["after"] for m in _NOT_X.finditer(said)]
    return {w for what in given_up for w in content_words(what)}


# "Actually it's 121": a correction that names no subject; it corrects what its speaker said just before.
_ANAPHORIC = re.compile(r"^(?:it|that|this)(?:'s|\s+is|\s+was|\s+should be)\s+(?:actually\s+)?(?:(?:at|on|in)\s+)?"
                        r"(?P<value>[^,;.!?]+)", re.I)
_KINDS = (re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:am|pm)\b", re.I),  # a time
          re.compile(r"\b\d+(?:st|nd|rd|th)?\b"),  # a number, a day of the month
          re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I))


def anaphoric(text: str) -> str | None:
    """The value of a correction that names no subject ("Actually it's 121, I swap those digits." → "121")."""
    said = _INTERJECTION.sub("", CORRECTION_LEAD.sub("", text.translate(_APOSTROPHE)))
    m = _ANAPHORIC.match(_INTERJECTION.sub("", CORRECTION_LEAD.sub("", said)).strip())
    return m["value"].strip() if m and CORRECTION.search(text) else None


def restated(correction: str, earlier: Sequence[str]) -> str | None:
    """The earlier statement with the correction's value in place of the wrong one: "Our dinner is at Nonna's on
    Friday." corrected by "Not Nonna's but Casa Blu." → "Our dinner is at Casa Blu on Friday."; "My space is number
    112." by "Actually it's 121." → "My space is number 121." (a time, a number or a weekday replaces the one of its
    kind). None when the correction says no value to put in, or no earlier statement holds what it replaces."""
    said = _INTERJECTION.sub("", CORRECTION_LEAD.sub("", correction.translate(_APOSTROPHE)))
    pairs: list[tuple[re.Pattern[str], str]] = []
    for m in _NOT_X.finditer(said):
        if m["what"] and m["new"]:
            pairs.append((re.compile(rf"(?<!\w){re.escape(m['what'].strip())}(?!\w)", re.I), m["new"].strip()))
    value = anaphoric(correction)
    if value is not None:
        pairs += [(kind, value) for kind in _KINDS if kind.fullmatch(value)]
    for text in earlier:
        text = text.translate(_APOSTROPHE).strip()
        for pattern, new in pairs:
            if len(pattern.findall(text)) == 1:
                out = pattern.sub(new.replace("\\", "\\\\"), text)
                return out if out.endswith((".", "!", "?")) else out + "."
    return None


def as_current(text: str) -> str:
    """A correction as the model is shown it: the fact, without the apology around it ("Oops, my flight leaves at
    9:15, not 7:40." → "My flight leaves at 9:15."), or what was given up (`now_holds`). SmolLM2-135M answered the
    whole sentence with "I'm sorry for the confusion."; the citation still quotes the message as it was said."""
    said = _INTERJECTION.sub("", CORRECTION_LEAD.sub("", text.translate(_APOSTROPHE)))
    said = _INTERJECTION.sub("", CORRECTION_LEAD.sub("", said))
    said = re.sub(r",\s+not\s+[^,.;!?]+(?=[,.;!?]|$)", "", said)
    said = now_holds(_NOT_THAT.sub("", said).strip()).strip()
    said = _SIGH.sub(".", said)  # "…to 42 euros, ugh.": the fact, without the sigh
    return said[:1].upper() + said[1:] if said else text


_SIGH = re.compile(r"[,;]?\s+(?:ugh|argh|sigh|lol|haha|yay|sadly|finally|actually)[.!]*$", re.I)


# Values many facts share (a weekday, a month, a number): giving one up says nothing of a memory that merely holds
# it ("Yoga is not on Tuesday but Thursday" does not move "My dentist appointment is on Tuesday").
_GENERIC = re.compile(r"^(?:\d.*|(?:mon|tue|wed|thu|fri|sat|sun)\w*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                      r"\w*|morn\w*|after\w*|even\w*|night\w*|today|tomor\w*|week\w*)$")


# The words a correction is said with, not what it is about ("Sorry, I meant…", "Wait… actually").
_SAYING_SO = {"sorry", "meant", "mean", "wait", "actua", "oop", "oops", "mistak", "wrong", "typo", "correc", "scratc",
              "sorri", "mixed", "mix", "said", "got", "no", "not"}


def _specific(words: set[str]) -> set[str]:
    return {w for w in words if not _GENERIC.match(w)}


def _key(hit: Hit) -> tuple[int, int, str]:
    return hit.message.chat_id, hit.message.message_id, hit.message.text


def _corrected(hit: Hit, recalled: Sequence[Hit]) -> Hit | None:
    """What a correction that names no subject ("Actually it's 121.") corrects: the memory its speaker said last
    before it, within the hour; None for any other memory."""
    if anaphoric(hit.message.text) is None:
        return None
    said = hit.message
    earlier = [h for h in recalled if same_speaker(h.message, said) and h.message.chat_id == said.chat_id
               and (h.message.created_at, h.message.message_id) < (said.created_at, said.message_id)]
    last = max(earlier, key=lambda h: (h.message.created_at, h.message.message_id), default=None)
    if last is None or said.created_at - last.message.created_at > 3600:
        return None
    # Only the message right before it (message ids count a chat's messages): one recalled among others of the
    # same speaker in between ("My locker is 38." "We booked for 6 people." "Actually it's 8.") is not it.
    return last if said.message_id - last.message.message_id <= 2 else None


def _is_change(hit: Hit) -> bool:
    return bool(CORRECTION.search(hit.message.text) or _CHANGE_VERBS.search(hit.message.text))


def supersede(question: str, memories: Sequence[Hit], recalled: Sequence[Hit] = ()
              ) -> tuple[list[Hit], Preference | None]:
    """Among the memories shown to the model (all about the question's subject), a newer one that corrects or
    changes (CORRECTION, "now", "switched", "these days"…) leaves the older ones of the same person out:
    (kept, preference); unchanged when none does, or when the question asks what was before. A change among the
    rest of what was `recalled` counts too when it speaks of the question's subject or gives up what a memory
    shown names: asked "What do I drink in the morning?", "I drink tea every morning." shares more words with it
    than "I stopped drinking tea and now I drink coffee." and was the only one shown."""
    if not memories:
        return list(memories), None
    asks_before = bool(_Q_BEFORE.search(question))
    subject = content_words(question)
    shown_words = set().union(*(content_words(h.message.text) for h in memories))
    shown = {_key(h) for h in memories}
    everything = [*memories, *(h for h in recalled if _key(h) not in shown)]
    pool = list(memories) + [h for h in everything[len(memories):] if _is_change(h) and (
        subject & content_words(h.message.text) or drops(h.message.text) & shown_words
        or _corrected(h, everything) in memories)]
    # A change shown ("I mixed it up: Arlo's birthday is on the 24th") competes with what it changes, recalled
    # but not shown as it shares fewer words with the question ("My nephew Arlo turns 5 on the 14th").
    changes = set().union(*(content_words(h.message.text) for h in memories if _is_change(h)))
    dropped = set().union(*(drops(h.message.text) for h in memories))  # "Sold the Skoda…": "I drove a Skoda…"
    taken = {_key(h) for h in pool}
    pool += [h for h in everything if _key(h) not in taken and (subject & changes & content_words(h.message.text)
                                                              or dropped & content_words(h.message.text))]
    if len(pool) < 2:
        return list(memories), None
    newest = max(pool, key=lambda h: (h.message.created_at, h.message.message_id))
    if not _is_change(newest):
        return list(memories), None
    given_up = drops(newest.message.text)  # "I switched from the Ford to a Tesla": what an older memory names
    before = _corrected(newest, everything)  # "Actually it's 121": what its speaker said just before

    def changed_by_newest(h: Hit) -> bool:
        said = content_words(h.message.text)
        told = content_words(newest.message.text)
        # what it gives up names this memory's thing ("the Ford"), or a weekday/number with its subject shared too
        # — or said with no subject of its own ("Sorry, I meant Wednesdays, not Mondays")
        own = _specific(told) - given_up - _SAYING_SO
        gives_up = bool(_specific(given_up) & said) or bool(given_up & said and (not own or own & said))
        return bool(subject & said & told) or bool(subject & said and gives_up) or h is before

    older = [h for h in pool if h is not newest and h.message.created_at <= newest.message.created_at
             and h.message.chat_id == newest.message.chat_id and same_speaker(h.message, newest.message)
             and (changed_by_newest(h) or (asks_before and bool(given_up & content_words(h.message.text))))]
    if not older:
        return list(memories), None
    if asks_before:  # "What car did I have before the Tesla?": what the change replaced answers, the change after it
        was = max(older, key=lambda h: (h.message.created_at, h.message.message_id))
        reason = (f"asked what was before: the memory a later change (said {format_day(newest.message.created_at)}) "
                  "replaced")
        return [was, newest, *(h for h in memories if h is not was and h is not newest)], Preference(
            was, [newest], reason)
    reason = (f"a later correction (said {format_day(newest.message.created_at)}) of {len(older)} earlier "
              f"{'memory' if len(older) == 1 else 'memories'} on the same subject")
    kept = [newest, *(h for h in memories if h is not newest and h not in older)]
    return kept, Preference(newest, older, reason)
