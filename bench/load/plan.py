"""What the simulated users send: plans of bursts or a steady rate, and their texts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FIRST_USER = 1001  # private chats: the chat id is the user's id
GROUP_ID = -1001700
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Greta", "Hugo", "Iris", "Jonas", "Kemi", "Luca"]

# Short chat lines written for this benchmark (LoCoMo turns with --data instead).
CHAT_LINES = [
    "hey, are you around?", "I just got back from the dentist", "my sister is visiting next week",
    "remind me what we said about the budget", "the bus was late again this morning", "lol that's so true",
    "I'm thinking of getting a bike for commuting", "what do you think about Lisbon in May?",
    "we adopted a cat, her name is Pickle", "work was exhausting today", "can you keep a note of this?",
    "the meeting moved to Thursday at 3", "I finally finished that book", "ok", "thanks!",
    "my phone screen cracked", "we're out of coffee beans", "I started running again, 5k today",
    "my flight to Oslo is on the 14th", "the landlord says the heating gets fixed on Monday",
    "do you remember my brother's name?", "it's Tom, by the way", "I need a gift idea for my mum",
    "she likes gardening and crime novels", "my password manager locked me out", "never mind, fixed it",
    "what's a good name for a goldfish?", "pizza tonight or curry?", "I think I'll do curry",
    "the kids have a school play on Friday", "my knee hurts after football", "I have a job interview tomorrow",
    "it's for a data analyst role", "wish me luck", "the internet is down at home",
    "I'm allergic to peanuts, just so you know", "we booked a cabin for the long weekend",
    "my car needs new tyres", "the neighbours are painting their fence blue", "good morning!",
    "any tips for sleeping better?", "I moved the dentist to the 22nd", "my favourite band is touring",
    "tickets were 60 euros each", "I lent my drill to Sam", "remind me to ask Sam for it back",
    "what did I say about the cabin?", "sorry, typo", "the plants on the balcony are thriving",
    "how many messages have I sent you today?",
]




@dataclass
class Planned:
    at: float  # seconds after the start of sending
    chat_id: int
    user_id: int
    text: str
    burst: int  # bursts are numbered per chat; the reply to a burst is expected after its last message
    mention: bool = False  # a group message addressed to the bot


@dataclass
class Plan:
    scenario: str
    chats: list[int]  # private chats
    group: int | None
    messages: list[Planned]

    @property
    def users(self) -> list[int]:
        return list(self.chats)

    @property
    def all_chats(self) -> list[int]:
        return self.chats + ([self.group] if self.group is not None else [])


def chat_ids(n: int) -> list[int]:
    return [FIRST_USER + i for i in range(n)]


def _line(texts: Sequence[str], chat_index: int, k: int) -> str:
    return texts[(chat_index * 37 + k) % len(texts)]


def burst_plan(chats: int, messages: int, texts: Sequence[str], seconds: float = 1.0, group: bool = False) -> Plan:
    """Every chat sends `messages` messages, interleaved, all within `seconds`: one burst per chat."""
    ids = chat_ids(chats)
    targets: list[tuple[int, int, int]] = [(i, chat, chat) for i, chat in enumerate(ids)]
    if group:
        targets.append((chats, GROUP_ID, 0))
    total = len(targets) * messages
    planned: list[Planned] = []
    for k in range(messages):
        for i, chat, user in targets:
            n = len(planned)
            sender = user or ids[k % len(ids)]
            planned.append(Planned(seconds * n / max(total - 1, 1), chat, sender, _line(texts, i, k), 0,
                                   mention=chat == GROUP_ID and k == messages - 1))
    return Plan("burst", ids, GROUP_ID if group else None, planned)


def steady_plan(chats: int, rate: float, duration: float, texts: Sequence[str], group: bool = False) -> Plan:
    """`rate` messages a second, round-robin over the chats, for `duration` seconds: each private message is a
    burst of its own; in the group every third message mentions the bot and ends a burst."""
    ids = chat_ids(chats)
    targets = ids + ([GROUP_ID] if group else [])
    planned = []
    seen: Counter[int] = Counter()
    for n in range(max(1, int(duration * rate))):
        chat = targets[n % len(targets)]
        k = seen[chat]
        seen[chat] += 1
        index = targets.index(chat)
        if chat == GROUP_ID:
            planned.append(Planned(n / rate, chat, ids[k % len(ids)], _line(texts, index, k), k // 3,
                                   mention=k % 3 == 2))
        else:
            planned.append(Planned(n / rate, chat, chat, _line(texts, index, k), k))
    if group:  # the group's last burst ends with a mention too, so that every burst expects a reply
        last = [p for p in planned if p.chat_id == GROUP_ID][-1]
        last.mention = True
    return Plan("steady", ids, GROUP_ID if group else None, planned)


def load_texts(path: str | None) -> list[str]:
    if not path:
        return list(CHAT_LINES)
    from bench.locomo import load as load_locomo

    texts = [t.text for conv in load_locomo(Path(path)) for t in conv.turns if 0 < len(t.text.strip()) <= 300]
    return texts or list(CHAT_LINES)
