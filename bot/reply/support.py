"""Whether a recalled memory can answer a question at all, before anyone reads it as the answer.

A memory is shown to the model because it shares words with the question; sharing words is not answering. Asked
"Where does my sister work?" with only "My brother Tom works as a nurse in Leeds." recalled, SmolLM2-135M
answered "Your brother Tom works as a nurse in Leeds."; asked "What's my favourite film?" with "My favourite band
is Radiohead.", it answered "Radiohead.". Two checks, both on the memory's words:

- **one of a kind is not another**: the question names one member of a set whose members exclude each other (a
  sister is not a brother, a film is not a band, a cat is not a dog) and the memory names another member of that
  set but not the one asked about (nor a word for it). A memory naming neither ("Ana works at the bank") may still
  answer with another memory's help ("My sister is Ana"), so it stays;
- **the kind of value asked for**: "how old…" wants an age, "when is…", "what time…" a time to come or a
  present one; a memory holding none cannot give one. ("When did…" may be answered by the day a memory was
  said, which the model is shown, and "how many…" by counting what a memory lists: neither is checked.)

English words: questions in other languages pass unchecked (their memories are quoted, bot/reply/plan.py).
"""

from __future__ import annotations

import re

from memory.lang import language_of

# Sets whose members exclude each other; each member is its words (the first names it). Plurals are read as their
# singular.
_EXCLUSIVE: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("sister", "sis"), ("brother", "bro"), ("mother", "mom", "mum", "mommy", "mummy", "mama"),
     ("father", "dad", "daddy", "papa"), ("son",), ("daughter",), ("wife",), ("husband",),
     ("grandmother", "grandma", "granny", "gran", "nan", "nana"), ("grandfather", "grandpa", "granddad", "grandad"),
     ("aunt", "auntie"), ("uncle",), ("cousin",), ("niece",), ("nephew",), ("girlfriend",), ("boyfriend",),
     ("boss", "manager"), ("neighbour", "neighbor"), ("landlord", "landlady")),
    (("dog", "puppy", "pup"), ("cat", "kitten", "kitty"), ("rabbit", "bunny"), ("hamster",), ("parrot",),
     ("horse", "pony"), ("tortoise", "turtle"), ("guinea pig",)),
    (("film", "movie"), ("band",), ("song",), ("book", "novel"), ("series",), ("podcast",), ("album",)),
    (("author", "writer"), ("singer",), ("actor", "actress")),
    (("car",), ("bike", "bicycle"), ("motorbike", "motorcycle", "scooter"), ("boat",)),
    (("breakfast",), ("lunch",), ("dinner", "supper")),
    (("monday",), ("tuesday",), ("wednesday",), ("thursday",), ("friday",), ("saturday",), ("sunday",)),
)
_MEMBER: dict[str, tuple[int, int]] = {word: (s, m) for s, members in enumerate(_EXCLUSIVE)
                                       for m, words in enumerate(members) for word in words}
_WORD = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")  # "brother-in-law" is one word, not a brother
# Relations through another ("my sister's son" is "my nephew", "my mother's mother" "my grandmother"): a memory
# or a question naming one of these, or two relatives, is not checked for kin.
_RELATION_OF_RELATION = re.compile(r"\b(?:aunt|auntie|uncle|niece|nephew|cousin|grand\w*|\w+-in-law|step\w+|"
                                   r"half-\w+)s?\b", re.I)
# "Monday to Friday", "weekdays", "every day but Sunday": days said as a range hold the one asked about.
_DAY_RANGE = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)\w*\s*(?:to|through|till|until|-|–)\s*"
                        r"(?:mon|tue|wed|thu|fri|sat|sun)\w*|\bweekdays?\b|\bweekends?\b|\bevery ?day\b|\bdaily\b|"
                        r"\bexcept\b|\bbut\b", re.I)
_KIN, _DAYS = 0, len(_EXCLUSIVE) - 1

_AGE = re.compile(r"^\s*(?:and\s+)?how old\b|\bwhat(?:'s| is) (?:\w+'s |my |his |her |their )?age\b", re.I)
_TIME = re.compile(r"^\s*(?:and\s+)?(?:when(?:'s| is| are| does| do| will| am)|what time|what day|what date|which day|"
                   r"which date)\b", re.I)
_NUMBER = (r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
           r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
           r"thousand|million|a couple|a few|several|dozen|no|none|single|twins?|both|half|once|twice)\b")
_HAS_AGE = re.compile(rf"{_NUMBER}|\b(?:born|birthday|age|aged|old|teen|teenager|toddler|baby|newborn|retired)\b", re.I)
_HAS_TIME = re.compile(
    rf"{_NUMBER}|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\w+teenth|twentieth|thirtieth|"
    r"\w+-(?:first|second|third|\w+th))\b|"
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|"
    r"jun|jul|aug|sep|sept|oct|nov|dec|(?:mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun)(?:day)?s?|weekends?|"
    r"weekdays?|today|tonight|tomorrow|yesterday|mornings?|afternoons?|evenings?|nights?|noon|midday|midnight|days?|"
    r"weeks?|fortnight|months?|years?|hours?|minutes?|half past|quarter|spring|summer|autumn|fall|winter|christmas|"
    r"xmas|easter|boxing day|new year'?s?|eve|holidays?|birthday|soon|later|now|daily|weekly|monthly|yearly|ago|since|"
    r"until|till|before|after|next|last|every|o'clock|am|pm|early|late|moved|postponed|rescheduled|cancelled)\b",
    re.I)


def _members(text: str) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    plain = text.replace("’", "'")
    # A capitalised relative after the first word is a name ("Gran Canaria", "Papa John's"), not a relative.
    said = [t for i, t in enumerate(_WORD.findall(plain))
            if i == 0 or not t[:1].isupper() or t.isupper() or _MEMBER.get(t.lower(), (-1, 0))[0] != _KIN]
    tokens = [t.lower().removesuffix("'s") for t in said]
    plain = plain.lower()
    for token in tokens:
        for word in (token, token[:-1] if token.endswith("s") else token, token[:-2] if token.endswith("es") else ""):
            if word in _MEMBER:
                found.add(_MEMBER[word])
                break
    if "guinea pig" in plain:
        found.add(_MEMBER["guinea pig"])
    return found


def answers(question: str, memory: str) -> bool:
    """False when `memory` cannot answer `question`: it names another member of a set the question names one of
    (and none it names), or the question asks for an age or a time the memory does not hold."""
    if language_of(question) != "en":
        return True
    asked = _members(question)
    held = _members(memory) if asked else set()
    for kind in {s for s, _ in asked}:
        wanted = {m for s, m in asked if s == kind}
        if kind == _KIN and (len(wanted) > 1 or _RELATION_OF_RELATION.search(f"{question} {memory}")):
            continue
        if kind == _DAYS and _DAY_RANGE.search(memory):
            continue
        named = {m for s, m in held if s == kind}
        if named and not named & wanted:
            return False
    if _AGE.search(question):
        return bool(_HAS_AGE.search(memory))
    if _TIME.search(question):
        return bool(_HAS_TIME.search(memory))
    return True
