"""A chat whose topics are known, for measuring topics: the English part of `chatterbot-corpus` (PyPI, a dev
dependency), short conversations filed in named categories (food, sports, money, …).

Each category with at least MIN_PER_TOPIC messages is a topic, capped at MAX_PER_TOPIC ("conversations", plain
small talk, is left out: it is no subject). Conversations keep their turns in order (first speaker a person, the
answer the bot) and are shuffled across categories over the given span of days, so every topic is spread over
the whole chat, as real topics are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib import resources

import yaml

MIN_PER_TOPIC = 46
MAX_PER_TOPIC = 250
LEFT_OUT = {"conversations"}


@dataclass
class LabelledMessage:
    text: str
    role: str  # "user" or "assistant"
    topic: str
    created_at: float


def conversations() -> dict[str, list[list[str]]]:
    """Category name -> its conversations (lists of turns), from the installed chatterbot_corpus package."""
    folder = resources.files("chatterbot_corpus") / "data" / "english"
    found: dict[str, list[list[str]]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        name = str(data["categories"][0]).lower()
        found[name] = [[str(turn) for turn in c if str(turn).strip()] for c in data["conversations"]]
    return found


def labelled_chat(*, start: float = 1_735_689_600.0, days: int = 180, seed: int = 0,
                  per_topic: int = MAX_PER_TOPIC) -> list[LabelledMessage]:
    """The composed chat, oldest first (start: 2025-01-01 UTC)."""
    rng = random.Random(seed)
    chunks: list[tuple[str, list[str]]] = []
    for topic, convs in conversations().items():
        if topic in LEFT_OUT or sum(map(len, convs)) < MIN_PER_TOPIC:
            continue
        convs = convs[:]
        rng.shuffle(convs)
        taken = 0
        for conv in convs:
            if taken >= per_topic:
                break
            chunks.append((topic, conv))
            taken += len(conv)
    rng.shuffle(chunks)
    total = sum(len(c) for _, c in chunks)
    step = days * 86400 / max(total, 1)
    out: list[LabelledMessage] = []
    for topic, conv in chunks:
        for i, text in enumerate(conv):
            out.append(LabelledMessage(text, "user" if i % 2 == 0 else "assistant", topic, start + len(out) * step))
    return out
