"""Questions that gather, and requests for a suggestion: two kinds of message that are not a question about one
fact, read from their words before anything is recalled.

- a gathering question ("what's on my schedule this week?", "what do you know about me?", "what did I tell you
  about Anna?", "what did we talk about yesterday?") is answered with a short list from memory, each item with its
  date, built without the model: SmolLM2-135M cannot list (shown two plans, it answered with one or invented a
  third), and a list read from memory is certain. `asked(text)` says which kind; the assistant gathers the items
  (memory: the days messages speak of, what was said in a window, what one person told) and `listing` words them.
- a request for a suggestion ("can you suggest a dinner?", "what should I cook tonight?", "any ideas for a gift
  for Leo?", "recommend a film") is not a question about the asker's life to be answered "you haven't told me":
  the model answers it, shown what the asker told of their preferences, constraints and circumstances
  (`preferences`), and its reply is checked against the constraints (`excluded`, `breaks`): a vegetarian's dinner
  never names meat or fish.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.reply.intent import said_by_a_person, without_mentions
from bot.reply.persons import said_by, second_person
from bot.text import shorten
from memory import Message
from memory.text import content_words

MAX_ITEMS = 8  # of a gathered list (the rest is counted, /search finds it)
ITEM_CHARS = 140


class Gather(enum.Enum):
    SCHEDULE = "schedule"  # what is planned in a window: the days memories speak of
    ABOUT_ME = "about me"  # what the asker told about themself
    ABOUT = "about"  # what was told about a person or thing
    TALKED = "talked"  # what was said in a window


@dataclass(frozen=True)
class Ask:
    kind: Gather
    topic: str = ""  # ABOUT: the person or thing asked about


# "Can you recap what we chatted about yesterday?" asks what "recap what we chatted about yesterday" asks.
_POLITE = re.compile(r"^((hey|so|ok|okay|and)[, ]+)?((can|could|would|will) you( please)?|please)[, ]+")


def _plain(text: str) -> str:
    return _POLITE.sub("", " ".join(without_mentions(text).lower().replace("’", "'").split()))


_SCHEDULE = re.compile(
    r"\b(schedule|agenda|calendar|diary|my plans|plans for|any plans|planned|coming up|upcoming|lined up|"
    r"what('s| is) on\b|what('s| is) happening|am i (busy|free)|\b(what|how) (does|will) my (day|week|weekend|month) "
    r"look|\bmy (day|week|weekend|month) (look|looking))")
_HAVE = re.compile(r"^(what|anything|do i have|have i got|what am i doing)\b(?P<between>.*)\b(do i have|have i got|"
                   r"am i doing|have i (got )?on|i have on|do i need to do|is on)\b(?P<rest>.*)|"
                   r"^do i have (anything|something|plans)")
# "What car do I have?" asks for a fact; "what plans do I have…", "what do I have tomorrow?" ask for the schedule:
# words between "what" and "do I have" make it a schedule question only when they are plans, or a time follows.
_PLANS = re.compile(r"((else|other|plans?|appointments?|meetings?|events?|things?|stuff|on|planned|coming up)\b\s*)*")
_WHEN = re.compile(r"\b(today|tonight|tomorrow|this|next|coming|upcoming|soon|later|on|in|for|at|during|over|"
                   r"before|after|until|by|\w+day|weekend|week|month|year|planned|lined up)\b")
_ABOUT_ME = re.compile(r"\b(know|remember|told you|tell you|said|learned|learnt|recall)\b[^?]{0,25}\babout "
                       r"(me|myself)\b|^(who am i|tell me about (me|myself))\b")
_ABOUT = re.compile(r"^(what|everything|anything|tell me|remind me|summari[sz]e|sum up|recap)\b[^?]{0,40}\b("
                    r"know|remember|told you|tell you|said|say|mentioned|mention|wrote|write|recall|talked|talk|"
                    r"chatted|chat|discussed|discuss)\b[^?]{0,20}?\babout (?P<topic>[^?.!]+)")
_TALKED = re.compile(r"^((remind me|tell me|recap|sum up|summari[sz]e|go over|list) )?what\b[^?]{0,10}\b"
                     r"((did|have|had) )?(we|i)\b[^?]{0,8}\b(talk|talked|chat|chatted|discuss|discussed|say|said|"
                     r"speak|spoke|tell you|told you|write|wrote)\b")
_TIME_WORDS = re.compile(r"\b(yesterday|today|tonight|this (morning|afternoon|evening|week|month|year)|"
                         r"last (night|week|month|year|\w+day)|(on )?\w+day|earlier)\b")


def asked(text: str) -> Ask | None:
    """Which gathering question `text` is, or None for any other message."""
    plain = _plain(text).rstrip("?!. ")
    if not plain:
        return None
    if _ABOUT_ME.search(plain):
        return Ask(Gather.ABOUT_ME)
    about = _ABOUT.search(plain)
    if about is not None:
        topic = _TIME_WORDS.sub(" ", about["topic"]).strip(" ,")
        if topic and topic not in ("it", "that", "this", "them"):
            return Ask(Gather.ABOUT, topic)
        return Ask(Gather.TALKED)
    if _TALKED.search(plain):
        return Ask(Gather.TALKED)
    if _SCHEDULE.search(plain) or _asks_what_is_planned(plain):
        return Ask(Gather.SCHEDULE)
    return None


def _asks_what_is_planned(plain: str) -> bool:
    have = _HAVE.search(plain)
    if have is None or have["between"] is None:
        return have is not None  # "do I have anything / plans…"
    return bool(_PLANS.fullmatch(have["between"].strip()) or _WHEN.search(have["rest"]))


_FIRST_PERSON = re.compile(r"\b(i|i'm|im|i've|i'd|my|me|mine|we|we're|our|us)\b")


def about_me(messages: Iterable[Message]) -> list[Message]:
    """What a person told about themself: their statements in the first person (not questions, not small talk)."""
    return [m for m in messages if said_by_a_person(m) and _FIRST_PERSON.search(_plain(m.text))
            and len(m.text.split()) >= 2]


def distinct(messages: Iterable[Message]) -> list[Message]:
    """Each text once (the newest of repeats is what the list keeps, in the order given)."""
    seen: set[str] = set()
    out = []
    for m in messages:
        key = " ".join(_plain(m.text).split())
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def said_back(text: str) -> str:
    """A memory as an item of a list said to its author: "I have a dentist appointment…" → "you have…"."""
    tokens = shorten(text, ITEM_CHARS).split()
    out = " ".join(second_person(tokens)) if tokens else ""
    return out[:1].upper() + out[1:]


def listing(header: str, items: Sequence[tuple[str, Message]], asker: Message, more: int = 0) -> str:
    """The gathered list: a header line, then one line per (date label, memory): the asker's own words said back
    to them ("You have a dentist appointment…"), anyone else's with their name ("Bo: I'll bring the drinks.")."""
    lines = [header]
    for label, m in items:
        theirs = f"{m.sender_name or 'someone'}: {shorten(m.text, ITEM_CHARS)}"
        text = said_back(m.text) if said_by(m, asker) else theirs
        lines.append(f"- {label}: {text}")
    if more:
        lines.append(f"…and {more} more (/search finds them).")
    return "\n".join(lines)


# ----- requests for a suggestion ------------------------------------------------------------------------------------
_REQUEST = re.compile(
    r"\b(suggest|suggestions?|recommend|recommendations?|propose)\b|\bany (good )?(ideas?|tips)\b|"
    r"\b(ideas?|tips) (for|on|about)\b|\bgive me (some |an |a )?(ideas?|tips)\b|"
    r"\bwhat (should|shall|could|can) (i|we) (cook|eat|make|bake|buy|get|gift|give|do|watch|read|order|wear|visit|"
    r"try|have|plan|listen|play|see|bring|pack|drink)\b|\bwhere should (i|we) (go|eat|travel|stay|take)\b|"
    r"\b(what|which) (?!time\b)\w+( \w+)? (should|could|shall) (i|we) (cook|eat|make|bake|buy|get|give|do|watch|"
    r"read|order|wear|visit|try|take|bring|pack|drink|play|see|listen to|go to)\b|"
    r"\bhelp me (choose|pick|decide|plan|find)\b|\bwhat('s| is| would be) a good\b|\bwhat would you (suggest|"
    r"recommend|cook|pick)\b|\bwhat to (cook|eat|make|buy|get|give|do|watch|read|wear)\b")


def is_request(text: str) -> bool:
    """True for a request for advice or a suggestion (answered by the model, never "you haven't told me"); not a
    question about one made before ("What did the doctor recommend?" asks for a fact)."""
    plain = _plain(text)
    return bool(_REQUEST.search(plain)) and not re.search(r"\b(did|was|were|had)\b", plain)


# What a person tells about their tastes, limits and circumstances: what a suggestion has to fit.
_PREFERENCE = re.compile(
    r"\b(vegetarian|vegan|pescatarian|allerg\w*|intoleran\w*|coeliac|celiac|gluten|lactose|dairy|halal|kosher|"
    r"diet\w*|(don't|do not|can't|cannot|never) (eat|drink)|no (meat|fish|pork|beef|dairy|sugar|alcohol|nuts?|eggs?)|"
    r"hate|dislike|can't stand|love|like|enjoy|favou?rite|prefer|into|fan of|live in|living in|moved to|"
    r"kids?|children|son|daughter|wife|husband|partner|girlfriend|boyfriend|budget|afford|"
    r"\w+sick|no-go|avoid\w*|afraid of|scared of|terrified of|obsessed|crazy about|mad about|off limits|"
    r"out of the question|not an option)\b")


def preferences(messages: Iterable[Message]) -> list[Message]:
    """The messages that tell a preference, a constraint or a circumstance, as given (not questions)."""
    return [m for m in messages if said_by_a_person(m) and _PREFERENCE.search(_plain(m.text))]


_MEAT = ("meat", "beef", "steak", "pork", "bacon", "ham", "chicken", "turkey", "lamb", "sausage", "sausages",
         "veal", "duck", "burger", "mince", "meatballs", "salami", "chorizo", "pepperoni", "prosciutto", "ribs")
_FISH = ("fish", "salmon", "tuna", "cod", "shrimp", "shrimps", "prawn", "prawns", "seafood", "anchovies",
         "anchovy", "sardines", "crab", "lobster", "mussels", "oysters", "clams", "squid", "trout", "mackerel")
_ANIMAL = ("cheese", "milk", "butter", "egg", "eggs", "cream", "yogurt", "yoghurt", "honey", "mozzarella",
           "parmesan", "feta")
_BOATS = ("boat", "boats", "cruise", "cruises", "ferry", "ferries", "sailing", "sail", "yacht", "ship", "ships",
          "kayak", "kayaking", "catamaran", "island hopping")
_FLYING = ("flight", "flights", "fly", "flying", "plane", "airport", "long-haul")
_HEIGHTS = ("climbing", "climb", "skydiving", "bungee", "zip line", "zipline", "cliff", "tower", "rooftop")
_FAMILIES = {
    "nut": ("nut", "nuts", "peanut", "peanuts", "almond", "almonds", "walnut", "walnuts", "cashew", "cashews",
            "hazelnut", "hazelnuts", "pecan", "pecans", "pistachio", "pistachios", "peanut butter"),
    "peanut": ("peanut", "peanuts", "peanut butter", "satay"),
    "shellfish": ("shellfish", "seafood", "shrimp", "shrimps", "prawn", "prawns", "crab", "lobster", "mussels",
                  "oysters", "clams", "scallops"),
    "dairy": ("dairy", "milk", "cheese", "butter", "cream", "yogurt", "yoghurt", "mozzarella", "parmesan"),
    "lactose": ("milk", "cheese", "butter", "cream", "yogurt", "yoghurt", "mozzarella", "parmesan"),
    "gluten": ("gluten", "bread", "pasta", "wheat", "flour", "noodles", "pizza", "couscous", "barley"),
    "egg": ("egg", "eggs", "omelette", "omelet", "mayonnaise"),
    "meat": _MEAT, "fish": _FISH, "pork": ("pork", "bacon", "ham", "sausage", "sausages", "salami", "chorizo"),
    "beef": ("beef", "steak", "burger", "veal"), "seafood": _FISH,
    "boat": _BOATS, "seasick": _BOATS, "sea": _BOATS, "sailing": _BOATS,
    "flying": _FLYING, "plane": _FLYING, "airsick": _FLYING, "height": _HEIGHTS, "heights": _HEIGHTS,
}
_AVERSION = re.compile(r"\b(allergic to|allergy to|intolerant to|(don't|do not|can't|cannot|never) eat|"
                       r"hate|dislike|can't stand|no)\s+(?P<what>[a-z][a-z -]{1,30}?)(?=\s+(or|and|for|because|"
                       r"anymore|any more)\b|[.,;!]|$)")
_MORE = re.compile(r"(?:\s*,\s*|\s+(?:and|or)\s+)(?:also\s+)?(?P<what>[a-z][a-z-]{2,20})(?=\s*(?:,|\band\b|\bor\b|"
                   r"\bfor\b|\bbecause\b|\bat all\b|[.;!]|$))")
_ALLERGY_NOUN = re.compile(r"\b(?P<what>[a-z]+) (allergy|intolerance|intolerant)\b")
# "I get seasick, so boats are a no-go", "heights are out of the question", "I'm scared of flying"
_RULED_OUT = re.compile(r"\b(?P<what>[a-z][a-z -]{1,30}?) (is|are) (a no-go|a no go|no-go|off limits|off the table|"
                        r"out of the question|not an option|a nightmare)\b|\b(avoid|afraid of|scared of|terrified of|"
                        r"can't handle|cannot handle|can't do|cannot do) (?P<what2>[a-z][a-z -]{1,30}?)(?=\s+(or|and|"
                        r"for|because|so|at)\b|[.,;!]|$)|\b(?P<sick>sea|air|car)sick\b")
_NOT_A_THING = {"me", "one", "thanks", "problem", "idea", "way", "is", "am", "are", "was", "be", "been", "very",
                "so", "also", "really", "severely", "an", "a", "the", "my", "his", "her", "their", "bad", "mild"}


def excluded(memories: Iterable[Message]) -> dict[str, tuple[str, ...]]:
    """What the asker's constraints rule out: {constraint as they said it: words a suggestion must not name}.
    "I'm vegetarian, no meat or fish for me." → {"vegetarian…": meat and fish words}."""
    out: dict[str, tuple[str, ...]] = {}
    for m in memories:
        if not said_by_a_person(m):
            continue
        plain = _plain(m.text)
        ruled: list[str] = []
        if re.search(r"\b(coeliac|celiac)\b", plain):
            ruled += list(_FAMILIES["gluten"])
        if re.search(r"\bvegan\b", plain):
            ruled += [*_MEAT, *_FISH, *_ANIMAL]
        elif re.search(r"\bvegetarian\b", plain):
            ruled += [*_MEAT, *_FISH]
        elif re.search(r"\bpescatarian\b", plain):
            ruled += list(_MEAT)
        things = [a["what"] for a in _AVERSION.finditer(plain)] + [a["what"] for a in _ALLERGY_NOUN.finditer(plain)]
        things += [(r["what"] or r["what2"] or {"sea": "boat", "air": "flying"}.get(r["sick"] or "", "")).split(
            " so ")[-1] for r in _RULED_OUT.finditer(plain)]
        for a in _AVERSION.finditer(plain):  # "I hate chickpeas, lentils and beans": every one of a list
            at = a.end()
            while (more := _MORE.match(plain, at)) is not None:
                things.append(more["what"])
                at = more.end()
        for thing in things:
            for part in re.split(r"\s+(?:or|and)\s+|,\s*", thing):
                part = part.strip()
                part = re.sub(r"^(any|eating|the|a)\s+", "", part)
                if len(part) < 3 or part in _NOT_A_THING:
                    continue
                single = part[:-1] if part.endswith("s") else part
                last = single.split()[-1]  # "tree nuts", "cow's milk": the family of the thing named last
                ruled += list(_FAMILIES.get(single, _FAMILIES.get(part, _FAMILIES.get(last, (part, single)))))
        if ruled:
            out[m.text] = tuple(dict.fromkeys(ruled))
    return out


_NEGATED = re.compile(r"\b(no|without|not|never|avoid|avoiding|skip|skipping|instead of|free of|free from|"
                      r"replace|swap|hold the)\b((\s+(any|the|a|or|and|\w+,?)){0,3})|\b\w+[- ]free\b")


def breaks(reply: str, ruled: dict[str, tuple[str, ...]]) -> list[str]:
    """The ruled-out things a reply names (not where it says to leave them out: "no meat", "without fish")."""
    plain = _NEGATED.sub(" ", _plain(reply))
    said = set(re.findall(r"[a-z]+(?: butter)?", plain)) | set(re.findall(r"[a-z]+", plain))
    found = []
    for words in ruled.values():
        for w in words:
            if (w in said or (" " in w and w in plain)) and w not in found:
                found.append(w)
    return found


_DECLINE = re.compile(r"\b(not sure|unsure|can't think|i'm afraid|sorry|don't know|do not know|no idea|haven't told|"
                      r"can't (suggest|recommend|help)|"
                      r"cannot (suggest|recommend|help)|unable to)\b")


# Words of suggesting, and words of a diet, that name no idea: "Try a vegan dinner." or "A vegetarian dish." names
# nothing the asker can cook.
_FILLER = frozenset(content_words("try trying how about idea ideas suggest suggestion recommend option options "
                                  "something recipe dish meal make cook good nice great simple quick easy delicious "
                                  "tasty healthy maybe perhaps could would like one thing things fits fit tonight "
                                  "best perfect classic style version take have vegan vegetarian veggie plant based "
                                  "gluten free dairy halal kosher lactose meat fish food breakfast lunch dinner "
                                  "supper snack dessert picnic barbecue bbq party answer question yes"))


def repeats(reply: str) -> bool:
    """True when a suggestion offers the same idea twice ("Try a vegan dinner, or a vegan dinner.")."""
    parts = [frozenset(content_words(p)) - _FILLER for p in re.split(r",|;|\.|\bor\b|\band\b", _plain(reply))]
    parts = [p for p in parts if p]
    return len(parts) != len(set(parts))


def unfit(reply: str, ruled: dict[str, tuple[str, ...]], notes: Sequence[str], request: str = "") -> str | None:
    """What is wrong with a suggestion, or None: empty, a decline instead of an idea, a question back, the request
    or one of the notes said back instead of an idea (no word of its own), or naming what a constraint rules out."""
    plain = _plain(reply)
    if not plain:
        return "empty"
    if _DECLINE.search(plain) and not re.search(r"\b(but|how about|what about|try)\b", plain):
        return "declined"
    if plain.endswith("?") and re.search(r"\b(you|me|i)\b", plain):
        return "asked back"
    if not content_words(reply) - content_words(request) - content_words(" ".join(notes)) - _FILLER:
        return "said the request or a note back"
    if repeats(reply):
        return "repeats itself"
    named = breaks(reply, ruled)
    return f"named what is ruled out ({', '.join(named)})" if named else None


# What a suggestion written again is asked besides the request, try by try: different words, a different (greedy,
# reproducible) reply. (Sampling instead gave another reply each run: an evaluation could not be repeated; naming
# what is ruled out in the request, "Nothing with peanut.", got "A peanut butter and jelly sandwich." again.)
NUDGES = (" Name one thing.", " Name one thing I could try.")


# Ideas for a meal, by what is asked for, when the model gave none that fits: each is checked against what the
# asker's constraints rule out (`breaks`), and the first that fits is offered. Plant-based first: they fit most diets.
_IDEAS = {
    "breakfast": ("a banana and berry smoothie bowl", "porridge with apple and cinnamon",
                  "scrambled eggs with spinach", "yoghurt with honey and fresh fruit"),
    "snack": ("apple slices with hummus", "carrot and cucumber sticks with hummus", "a handful of grapes",
              "roasted chickpeas"),
    "dessert": ("baked apples with cinnamon", "poached pears", "a mango sorbet", "a dark chocolate mousse"),
    "picnic": ("a rice salad with roasted vegetables", "fruit skewers", "hummus with carrot sticks"),
    "workout": ("a mat routine of planks, glute bridges and bird-dogs", "resistance band exercises for the arms "
                "and back", "gentle yoga with a long stretch at the end", "a seated upper-body routine with light "
                "dumbbells"),
    "trip": ("a city break somewhere you can reach by train", "a walking holiday in the mountains",
             "a few days in a lakeside cabin", "a road trip along the coast"),
    "meal": ("a chickpea and spinach curry with rice", "a lentil and sweet potato stew",
             "a black bean chilli with rice", "grilled vegetable skewers with rice", "a mushroom risotto",
             "roast chicken with vegetables"),
}
_OCCASION = (("breakfast", r"\b(breakfast|brunch)\b"), ("snack", r"\b(snacks?|lunchbox|nibbles?)\b"),
             ("dessert", r"\b(dessert|bake|baking|sweet|cake|pudding|treat)\b"), ("picnic", r"\bpicnic\b"),
             ("trip", r"\b(holidays?|vacation|trip|getaway|travel|weekend away|city break)\b"),
             ("workout", r"\b(workouts?|exercises?|exercising|training|fitness|keep fit|stretches|stretching)\b"),
             ("meal", r"\b(dinner|lunch|supper|cook|dish|meal|eat|recipe|barbecue|bbq|food|order|restaurant)\b"))


# What someone is into ("she's obsessed with horses and drawing", "Leo loves dinosaurs"): what a gift can be about.
_INTEREST = re.compile(r"\b(?:loves?|adores?|enjoys?|obsessed with|into|crazy about|mad about|(?:a )?(?:big |huge )?"
                       r"fan of)\s+(?P<what>[a-z][a-z' -]{2,40}?)(?=\s+(?:but|because|so|since|at|these|lately|"
                       r"right now)\b|[.,;!?]|$)")
_GIFT = re.compile(r"\b(gifts?|presents?|birthday|christmas|stocking)\b")


def interests(notes: Iterable[str], request: str = "") -> list[str]:
    """What the notes say someone is into, those of a person the request names first: ["horses", "drawing"]."""
    named = {w for w in re.findall(r"\b[A-Z][a-z]+", request)} - {"I", "Any", "Can", "What", "Could", "Give"}
    ranked = sorted(notes, key=lambda n: not (named & set(re.findall(r"\b[A-Z][a-z]+", n))))
    found: list[str] = []
    for note in ranked:
        for m in _INTEREST.finditer(_plain(note)):
            for part in re.split(r"\s+(?:and|or)\s+|,\s*", m["what"]):
                part = re.sub(r"^(the|all|anything|everything|to|about)\s+", "", part.strip())
                if len(part) > 2 and part not in found:
                    found.append(part)
    return found


def gift_idea(request: str, notes: Sequence[str], ruled: dict[str, tuple[str, ...]]) -> str | None:
    """A gift built from what its receiver is into ("obsessed with horses and drawing" → "a drawing kit, or a book
    about horses"), for when the model offered none that fits; None for another request or no interest told."""
    if not _GIFT.search(_plain(request)):
        return None
    things = [t for t in interests(notes, request) if not breaks(t, ruled)][:2]
    if not things:
        return None
    ideas = [f"a {t} kit" if t.endswith("ing") else f"a book about {t}" for t in things]
    return f"How about {' or '.join(ideas)}? It fits what you told me."


def fallback_idea(request: str, ruled: dict[str, tuple[str, ...]], notes: Sequence[str] = ()) -> str | None:
    """An idea for a meal that fits the asker's constraints, or a gift about what its receiver is into
    (gift_idea), for when the model offered none that does; None for another request (a film, a trip) or when no
    idea fits."""
    plain = _plain(request)
    gift = gift_idea(request, notes, ruled)
    if gift is not None:
        return gift
    kind = next((k for k, pattern in _OCCASION if re.search(pattern, plain)), None)
    if kind is None:
        return None
    fitting = [i for i in _IDEAS[kind] if not breaks(i, ruled)]
    if not fitting:
        return None
    idea = fitting[zlib.crc32(plain.encode()) % len(fitting)]  # the same request, the same idea; another, another
    return f"How about {idea}? It fits what you told me."


def safe_framing(ruled: dict[str, tuple[str, ...]]) -> str:
    """The reply when every try failed: what the idea has to fit, said back, and an offer to help further."""
    if not ruled:
        return "Tell me a little more about what you like, and I'll suggest something that fits."
    told = [said_back(t).rstrip(".!") for t in ruled]
    return (f"Keeping in mind what you told me ({'; '.join(told)}), tell me what you have at hand and I'll "
            "suggest something that fits.")
