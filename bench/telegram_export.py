"""Generated Telegram Desktop exports for import benchmarks and tests: a supergroup of a few people chatting.

Message texts are made of sentences of a LoCoMo-format file's turns, each as long as a real turn
(`locomo_like`: ~150 characters on average), or built from 1-3 template sentences: they vary in length and
wording like chat turns, never one sentence repeated. Replies, edits, captioned photos, stickers and service
entries are mixed in as Telegram Desktop writes them (see bot/importing/telegram.py).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

PEOPLE = [("Ana Souza", 111), ("Bob Lee", 222), ("Carla Díaz", 333), ("Dmitri Volkov", 444), ("Emi Tanaka", 555)]
START = 1_600_000_000  # Sep 2020
_SUBJECTS = ["I", "We", "My sister", "The landlord", "Our team", "My neighbour", "The doctor", "Grandma", "Tom",
             "The new manager", "My cousin from Porto", "The kids", "Everyone at the club"]
_VERBS = ["finally fixed", "keeps talking about", "booked", "forgot", "painted", "cancelled", "recommended",
          "tried", "found", "lost", "sold", "ordered", "visited", "started learning", "complained about"]
_THINGS = ["the old bicycle", "a cabin near the lake", "the quarterly report", "a sourdough starter",
           "the leaking kitchen tap", "tickets for the jazz festival", "a second-hand piano", "the garden shed",
           "a Japanese cooking class", "the car insurance", "a trip to Lisbon", "the broken washing machine",
           "a puppy from the shelter", "the marathon training plan", "her thesis draft", "a vintage camera"]
_WHEN = ["yesterday", "last weekend", "this morning", "two weeks ago", "on Friday", "after work", "in May",
         "over the holidays", "at the last minute", "before the storm"]
_TAILS = ["and it cost {n} euros", "which took {n} hours", "so we need to talk about it", "and honestly it went well",
          "but the shop closes at {n}", "and I still can't believe it", "because the old one broke",
          "— remind me to send you photos", "and {name} was there too", "so maybe next month?"]
_QUESTIONS = ["Did you ever hear back about {thing}?", "Should we invite {name} next time?",
              "What time does the {thing} thing start?", "Any idea who has the keys?", "How was {thing}?"]


def template_sentences(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        if rng.random() < 0.25:
            s = rng.choice(_QUESTIONS)
        else:
            s = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {{thing}} {rng.choice(_WHEN)}, {rng.choice(_TAILS)}."
        out.append(s.format(thing=rng.choice(_THINGS).removeprefix("the "), n=rng.randint(2, 300),
                            name=rng.choice(PEOPLE)[0].split()[0]))
    return out


def turns_from_locomo(path: str | Path) -> list[str]:
    """The text of every turn of a LoCoMo-format file."""
    turns = []
    for sample in json.loads(Path(path).read_text(encoding="utf-8")):
        for key, session in sample["conversation"].items():
            if key.startswith("session_") and isinstance(session, list):
                turns += [turn["text"] for turn in session if turn.get("text")]
    return turns


def locomo_like(turns: list[str], n: int, seed: int = 7) -> list[str]:
    """`n` texts as long as LoCoMo's turns (each takes the length of a random turn) made of sentences of random
    turns: the length and wording of real chat, without whole turns coming back again and again."""
    rng = random.Random(seed)
    sentences = [s for t in turns for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 3]
    texts = []
    for _ in range(n):
        target, parts = len(rng.choice(turns)), [rng.choice(sentences)]
        while sum(len(p) + 1 for p in parts) < target * 0.9:
            parts.append(rng.choice(sentences))
        texts.append(" ".join(parts))
    return texts


def generate(n: int, seed: int = 7, texts: list[str] | None = None, chat_id: int = 1234567890) -> dict:
    """A one-chat export (a private supergroup) of `n` entries, oldest first. Message texts are drawn from `texts`
    (one each; e.g. locomo_like()), else made of 1-3 template sentences."""
    rng = random.Random(seed)
    pool = template_sentences(rng, 5000)
    messages: list[dict] = []
    ts = START
    for i in range(1, n + 1):
        ts += rng.choice((5, 20, 60, 300, 3600, 20000))
        name, user = rng.choice(PEOPLE)
        entry: dict = {"id": i, "type": "message", "date": _local(ts), "date_unixtime": str(ts)}
        roll = rng.random()
        if roll < 0.01:
            messages.append({**entry, "type": "service", "actor": name, "actor_id": f"user{user}",
                             "action": "pin_message", "message_id": max(1, i - 3), "text": "", "text_entities": []})
            continue
        if texts:
            text = texts[(i - 1) % len(texts)]
        else:
            text = " ".join(rng.choice(pool) for _ in range(rng.choice((1, 1, 2, 2, 3))))
        entry.update({"from": name, "from_id": f"user{user}"})
        if roll < 0.03:
            entry.update({"file": "(File not included. Change data exporting settings to download.)",
                          "media_type": "sticker", "sticker_emoji": "👍", "mime_type": "image/webp"})
            text = ""
        elif roll < 0.08:
            entry.update({"photo": f"photos/photo_{i}.jpg", "photo_file_size": 100000, "width": 1280, "height": 960})
        if rng.random() < 0.15 and i > 1:
            entry["reply_to_message_id"] = rng.randint(max(1, i - 30), i - 1)
        if rng.random() < 0.03:
            entry.update({"edited": _local(ts + 60), "edited_unixtime": str(ts + 60)})
        entry["text"] = text
        entry["text_entities"] = [{"type": "plain", "text": text}] if text else []
        messages.append(entry)
    return {"name": "Generated Group", "type": "private_supergroup", "id": chat_id, "messages": messages}


def _local(ts: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts).strftime("%Y-%m-%dT%H:%M:%S")


def write(path: str | Path, n: int, seed: int = 7, texts: list[str] | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps(generate(n, seed, texts), ensure_ascii=False, indent=1), encoding="utf-8")
    return path
