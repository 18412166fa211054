"""The knowledge-update set of `eval-updates`: a fact stated, later changed or corrected, then asked (the style of
LongMemEval's knowledge-update questions).

Two parts:
- written cases (`written()`): families of facts that change (where someone lives, where they work, "my <thing>",
  a fact of the chat's, a relative's home, and facts no slot reads), each case with a few unrelated statements
  between the old and the new one, asked in varied words; some ask what was before. Every fourth case is held out
  (reported on its own, never looked at while tuning);
- LoCoMo cases (`LOCOMO`): facts that change inside a LoCoMo conversation, referenced by the conversation's id and
  the ids of the turns that state the old and the new value (the data stays in ../shared; nothing of it is copied
  here). The whole conversation is the haystack.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class UpdateCase:
    name: str
    family: str
    said: tuple[str, ...]  # told by the asker, oldest first (in a LoCoMo case: nothing, the conversation is)
    probe: str
    expect: tuple[str, ...]  # the reply must say one of these (lower case, at the start of a word)
    old: tuple[str, ...] = ()  # outdated values: only after the expected one, if at all
    asker: str = "Ana"
    held_out: bool = False
    conversation: str = ""  # LoCoMo: the sample id
    turns: tuple[str, ...] = ()  # LoCoMo: the dia ids of the old and the new statement (for reading the case)


FILLER = (
    "I had pasta for lunch.", "The weather was lovely today.", "I watched a documentary about whales.",
    "My neighbour's cat visited again.", "I need to buy new running shoes.", "We played board games last night.",
    "I'm reading a novel set in Venice.", "The train was late this morning.", "I baked banana bread.",
    "I finally fixed the leaking tap.", "We went to a jazz concert on Saturday.", "I started a puzzle of 1000 pieces.",
)
PEOPLE = ("Ana", "Tom", "Lena", "Raj", "Mei", "Omar", "Sara", "Ivan", "Nora", "Leo", "Kim", "Paul", "Eva", "Jon",
          "Ali", "Mo", "Ines", "Bea", "Dan", "Zoe")

CITIES = (("Porto", "Madrid"), ("Lisbon", "Berlin"), ("Leeds", "London"), ("Graz", "Vienna"), ("Oslo", "Bergen"),
          ("Lyon", "Nantes"), ("Boston", "Denver"), ("Kyoto", "Osaka"), ("Perth", "Sydney"), ("Cork", "Galway"))
RES_OLD = ("I live in {old}.", "We live in {old}.", "I'm living in {old} at the moment.", "I'm based in {old}.")
RES_NEW = ("I moved to {new} last week.", "Last month I moved to {new} for a new job.",
           "We relocated to {new} in the spring.", "I've just moved to {new}.",
           "I don't live in {old} anymore, I moved to {new}.")
RES_ASK = ("Where do I live?", "Which city do I live in now?", "Where am I living these days?",
           "What city am I based in?")

EMPLOYERS = (("the bank", "Google"), ("Tesco", "Aldi"), ("the city library", "the hospital"), ("Siemens", "Bosch"),
             ("a bakery", "a law firm"), ("Spotify", "Netflix"), ("the museum", "the university"),
             ("Barclays", "Monzo"))
WORK_OLD = ("I work at {old}.", "I work for {old}.", "I've been working at {old} for years.")
WORK_NEW = ("I got a new job at {new}.", "I started working at {new} on Monday.", "I joined {new} last month.",
            "I left {old} and now I work at {new}.")
WORK_ASK = ("Where do I work?", "Who do I work for now?", "Which company do I work for?")

THINGS = (("dog", "called Rex", "called Max", "Max", "Rex", "What is my dog's name?"),
          ("favourite colour", "blue", "green", "green", "blue", "What is my favourite colour?"),
          ("phone number", "555-1234", "555-9876", "555-9876", "555-1234", "What's my phone number?"),
          ("car", "a red Toyota", "a blue Honda", "honda", "toyota", "What car do I have?"),
          ("best friend", "Marta", "Julia", "julia", "marta", "Who is my best friend?"),
          ("dentist", "Dr. Lund", "Dr. Berg", "berg", "lund", "Who is my dentist?"),
          ("favourite band", "Radiohead", "Muse", "muse", "radiohead", "What's my favourite band?"),
          ("locker number", "42", "17", "17", "42", "What is my locker number?"),
          ("cat", "called Luna", "called Nala", "nala", "luna", "What's my cat called?"),
          ("email", "ana@old.com", "ana@new.org", "ana@new.org", "ana@old.com", "What is my email address?"))
THING_OLD = ("My {thing} is {old}.",)
THING_NEW = ("My {thing} is now {new}.", "Sorry, I got that wrong: my {thing} is {new}.",
             "Actually, my {thing} is {new}, not {oldv}.", "My new {thing} is {new}.",
             "I changed my {thing} to {new}.")

SHARED = (("wifi password", "tulip77", "tulip78", "tulip78", "tulip77", "What is the wifi password?"),
          ("team meeting", "on Tuesday", "on Thursday", "thursday", "tuesday", "When is the team meeting?"),
          ("book club", "at Hana's", "at the library", "library", "hana", "Where is the book club?"),
          ("school trip", "on 3 May", "on 10 May", "10 may", "3 may", "When is the school trip?"),
          ("door code", "4471", "9082", "9082", "4471", "What's the door code?"),
          ("meeting room", "Ostrich", "Falcon", "falcon", "ostrich", "Which is the meeting room?"))
SHARED_OLD = ("The {thing} is {old}.",)
SHARED_NEW = ("Correction: the {thing} is {new}.", "Update: the {thing} is now {new}.")

RELATIVES = ("sister", "brother", "mum", "dad", "son", "daughter")
REL_OLD = ("My {rel} lives in {old}.",)
REL_NEW = ("My {rel} moved to {new}.", "My {rel} has relocated to {new}.")

# Facts no slot reads: the model answers from the memories, the correction or change leaving the older out.
FREE = (("I go to the gym on Mondays.", "I switched my gym day to Thursdays.", "Which day do I go to the gym?",
         "thursday", "monday"),
        ("I drink my coffee black.", "These days I take my coffee with oat milk.", "How do I take my coffee?",
         "oat", "black"),
        ("I support Arsenal.", "I switched to supporting Chelsea this season.", "Which team do I support?",
         "chelsea", "arsenal"),
        ("I'm learning Spanish.", "I gave up Spanish and now I'm learning Italian.", "Which language am I learning?",
         "italian", "spanish"),
        ("My flight leaves at 7:40.", "Oops, my flight leaves at 9:15, not 7:40.", "When does my flight leave?",
         "9:15", "7:40"),
        ("Yoga class starts at 6 pm.", "Correction: yoga class now starts at 7 pm.", "When does yoga class start?",
         "7", "6"),
        ("I have two kids.", "Actually I have three kids.", "How many kids do I have?", "three", "two"),
        ("I'm allergic to peanuts.", "Actually it's not peanuts, I'm allergic to cashews.", "What am I allergic to?",
         "cashew", "peanut"),
        ("I play the piano.", "I gave up piano and now I play the cello.", "Which instrument do I play?", "cello",
         "piano"),
        ("I run 5 km every morning.", "I now run 10 km every morning.", "How far do I run every morning?", "10",
         "5"))


# Held-out cases whose failing replies were read (2026-12-08: "What car do I have?" taken for a schedule question):
# tuned cases from then on.
READ = frozenset({"my-thing-039", "my-thing-059"})


def written() -> list[UpdateCase]:
    """The written cases, deterministic: families crossed with phrasings, people and fillers in turn."""
    cases: list[UpdateCase] = []
    people = itertools.cycle(PEOPLE)
    fillers = itertools.cycle(FILLER)

    def add(family: str, old: str, new: str, probe: str, expect: tuple[str, ...], outdated: tuple[str, ...],
            gap: int = 2) -> None:
        n = len(cases)
        between = tuple(next(fillers) for _ in range(gap))
        cases.append(UpdateCase(f"{family}-{n:03d}", family, (old, *between, new), probe, expect, outdated,
                                asker=next(people), held_out=n % 4 == 3 and f"{family}-{n:03d}" not in READ))

    for i, (old, new) in enumerate(CITIES * 2):
        said_old = RES_OLD[i % len(RES_OLD)].format(old=old)
        said_new = RES_NEW[i % len(RES_NEW)].format(old=old, new=new)
        if i % 5 == 4:
            add("residence-before", said_old, said_new, "Where did I live before?", (old.lower(),), ())
        else:
            add("residence", said_old, said_new, RES_ASK[i % len(RES_ASK)], (new.lower(),), (old.lower(),))
    for i, (old, new) in enumerate(EMPLOYERS * 2):
        said_old = WORK_OLD[i % len(WORK_OLD)].format(old=old)
        said_new = WORK_NEW[i % len(WORK_NEW)].format(old=old, new=new)
        short = (new.removeprefix("the ").removeprefix("a ").lower(),)
        if i % 6 == 5:
            add("work-before", said_old, said_new, "Where did I work before?",
                (old.removeprefix("the ").removeprefix("a ").lower(),), ())
        else:
            add("work", said_old, said_new, WORK_ASK[i % len(WORK_ASK)], short,
                (old.removeprefix("the ").removeprefix("a ").lower(),))
    for i, (thing, old, new, want, was, probe) in enumerate(THINGS * 3):
        phrase = THING_NEW[i % len(THING_NEW)]
        value = new.removeprefix("called ") if "{oldv}" in phrase else new
        add("my-thing", THING_OLD[0].format(thing=thing, old=old),
            phrase.format(thing=thing, new=value, oldv=old.removeprefix("called ")), probe, (want.lower(),),
            (was.lower(),))
    for i, (thing, old, new, want, was, probe) in enumerate(SHARED * 2):
        add("shared", SHARED_OLD[0].format(thing=thing, old=old),
            SHARED_NEW[i % len(SHARED_NEW)].format(thing=thing, new=new), probe, (want,), (was,))
    for i, rel in enumerate(RELATIVES * 2):
        old, new = CITIES[(i + 3) % len(CITIES)]
        add("relative", REL_OLD[0].format(rel=rel, old=old), REL_NEW[i % len(REL_NEW)].format(rel=rel, new=new),
            f"Where does my {rel} live?", (new.lower(),), (old.lower(),))
    for old, new, probe, want, was in FREE:
        add("free", old, new, probe, (want,), (was,))
    return cases


# Facts that change in LoCoMo conversations (ids only: the data is read from its own file at run time).
LOCOMO = (
    UpdateCase("locomo-jon-job", "locomo", (), "Does Jon still work as a banker?", ("no", "lost"), (),
               conversation="conv-30", turns=("D1:2",)),
    UpdateCase("locomo-jon-now", "locomo", (), "What is Jon's business now?", ("dance",), ("bank",),
               conversation="conv-30", turns=("D1:2", "D11:3")),
    UpdateCase("locomo-gina-job", "locomo", (), "Does Gina still work at Door Dash?", ("no", "lost"), (),
               conversation="conv-30", turns=("D1:3",)),
    UpdateCase("locomo-gina-now", "locomo", (), "What does Gina run now that she lost her job at Door Dash?",
               ("clothing", "store", "online"), ("door dash",), conversation="conv-30", turns=("D1:3", "D14:8")),
    UpdateCase("locomo-john-job", "locomo", (),
               "Does John still work at the mechanical engineering company?", ("no", "lost"), (),
               conversation="conv-41", turns=("D19:6", "D28:1")),
    UpdateCase("locomo-caroline-adoption", "locomo", (),
               "What is the latest step Caroline completed in her adoption process?", ("interview", "passed"),
               ("applied",), conversation="conv-26", turns=("D13:1", "D19:1")),
)


def cases() -> list[UpdateCase]:
    return [*written(), *LOCOMO]
