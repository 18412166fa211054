"""`eval-time`: time-scoped recall on a fixture chat with known answers ("what did I say last week about the
flat", "mum's birthday in May", "the plumber this morning").

Ana talks with Engram over two years, in Europe/Lisbon; "now" is Wednesday 2 December 2026, 18:00 local. Topics
come back at different times (the flat, trips, the dentist, the bike, mum's birthday, work, concerts, the
plumber), so the window a query names is what tells the answers apart; filler turns fill every day used. Each
query names the messages that answer it (one of them first is success@1). Kinds: "window" (the window decides),
"exact" (the words name a message outside the window: it must not be hidden), "nowords" (only a window).
The queries are read as the bot reads them (bot/when/phrases), with the real embedding model; `--no-window` asks
the same store without windows, as recall did before it understood time.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.when.phrases import parse_time_phrase
from memory import Message, SentenceTransformerEmbedder, Store

TZ = "Europe/Lisbon"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 12, 2, 18, 0, tzinfo=ZONE)


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0) -> float:
    return datetime(y, m, d, h, mi, tzinfo=ZONE).timestamp()


# (message_id, when, sender, text)
MESSAGES = [
    (1, at(2024, 3, 10, 20), "Ana", "I'm planning a trip to Madeira for the autumn, hiking the levadas"),
    (2, at(2024, 3, 10, 20, 1), "Engram", "Madeira sounds lovely. The levada walks are famous."),
    (3, at(2025, 1, 6, 9), "Ana", "Started the new job at the design studio today"),
    (4, at(2025, 1, 6, 9, 2), "Engram", "Congratulations on the first day!"),
    (5, at(2025, 3, 18, 17), "Ana", "The dentist said no cavities, just floss more"),
    (6, at(2025, 5, 14, 21), "Ana", "For mum's birthday we went to Sintra and had lunch by the palace"),
    (7, at(2025, 11, 20, 23), "Ana", "The concert at Coliseu was loud, great band though"),
    (8, at(2026, 2, 9, 10), "Ana", "The plumber fixed the kitchen sink, finally no leak"),
    (9, at(2026, 5, 4, 19), "Ana", "Booked the trip to Porto for June, train tickets done"),
    (10, at(2026, 5, 14, 22), "Ana", "Mum's birthday dinner at Taberna da Rua was perfect"),
    (11, at(2026, 6, 20, 23), "Ana", "The trip to Porto was great, the bridge at night was beautiful"),
    (12, at(2026, 7, 12, 11), "Ana", "Bought a new bike, a blue gravel bike"),
    (13, at(2026, 9, 15, 8), "Ana", "The bike got a flat tyre on the way to work"),
    (14, at(2026, 10, 3, 16), "Ana", "Viewed a flat in Alfama, small but with a view of the river"),
    (15, at(2026, 11, 10, 18), "Ana", "My manager approved the promotion!"),
    (16, at(2026, 11, 18, 20), "Ana", "Bo recommended the ramen place near Rato"),
    (17, at(2026, 11, 18, 23), "Ana", "The concert tonight at the Aula Magna was quiet and beautiful"),
    (18, at(2026, 11, 25, 19), "Ana", "The landlord of the flat wants 1200 a month"),
    (19, at(2026, 11, 30, 9), "Ana", "Dentist appointment moved to Friday"),
    (20, at(2026, 12, 1, 19), "Ana", "The flat inspection went fine, no damp"),
    (21, at(2026, 12, 1, 19, 5), "Engram", "Good news about the inspection."),
    (22, at(2026, 12, 2, 9), "Ana", "The plumber is coming at 3 today"),
]
# Filler: a few turns on many days (including the answer days), so windows are never trivially small.
_FILLER = ["Good morning!", "Running late today", "Lunch was soup again", "It's raining in Lisbon",
           "Watching a film tonight", "Need to buy groceries", "Coffee with Bo later", "Long day at work",
           "The tram was packed", "Trying to sleep earlier this week"]
_DAYS = [(2024, 3, 10), (2025, 1, 6), (2025, 3, 18), (2025, 5, 14), (2025, 11, 20), (2026, 2, 9), (2026, 5, 4),
         (2026, 5, 14), (2026, 6, 20), (2026, 7, 12), (2026, 9, 15), (2026, 10, 3), (2026, 11, 10),
         (2026, 11, 18), (2026, 11, 24), (2026, 11, 25), (2026, 11, 27), (2026, 11, 30), (2026, 12, 1),
         (2026, 12, 2)]
for _n, (_y, _m, _d) in enumerate(_DAYS):
    for _k in range(3):
        MESSAGES.append((100 + 3 * _n + _k, at(_y, _m, _d, 7 + _k), "Ana", _FILLER[(_n + _k) % len(_FILLER)]))
MESSAGES.sort(key=lambda m: m[1])

# (query, answer ids, kind): kind "window" = the window decides; "exact" = exact words outside the window
# (must not be hidden); "nowords" = only a window ("what did we talk about yesterday").
QUERIES = [
    ("what did I say last week about the flat", {18}, "window"),
    ("the flat yesterday", {20}, "window"),
    ("what did I say about the flat in October", {14}, "window"),
    ("the trip in May", {9}, "window"),
    ("what trip was I planning two years ago", {1}, "window"),
    ("dentist on Monday", {19}, "window"),
    ("what did the dentist say in March 2025", {5}, "window"),
    ("the bike last summer", {12}, "window"),
    ("what happened to the bike in September", {13}, "window"),
    ("mum's birthday last year", {6}, "window"),
    ("mum's birthday in May", {10}, "window"),
    ("what about the promotion last month", {15}, "window"),
    ("what did I start in January 2025", {3}, "window"),
    ("the week before last, what did Bo recommend", {16}, "window"),
    ("since September anything about the bike", {13}, "window"),
    ("before 2025, what trip", {1}, "window"),
    ("the plumber this morning", {22}, "window"),
    ("the concert a couple of weeks ago", {17}, "window"),
    ("what did we talk about yesterday", {i for i, t, _, _ in MESSAGES if at(2026, 12, 1, 0) <= t < at(2026, 12, 2, 0)},
     "nowords"),
    ("landlord wants 1200 a month yesterday", {18}, "exact"),
    ("Porto bridge at night in May", {11}, "exact"),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-window", action="store_true", help="ask without the windows the queries name")
    parser.add_argument("--model", default="all-MiniLM-L6-v2", help="embedding model (default: %(default)s)")


def evaluate(store: Store, use_window: bool = True) -> dict:
    rows = []
    for query, answers, kind in QUERIES:
        found = parse_time_phrase(query, NOW, TZ) if use_window else None
        started = time.perf_counter()
        hits = store.search.recall(1, query, 5, now=NOW.timestamp(),
                                   window=(found.start_ts, found.end_ts) if found else None,
                                   keyword_query=found.query if found else None)
        got = [h.message.message_id for h in hits]
        rows.append({"query": query, "kind": kind, "window": found.label if found else None,
                     "at1": bool(got[:1] and got[0] in answers), "at3": bool(set(got[:3]) & answers),
                     "top3": got[:3], "ms": round(1000 * (time.perf_counter() - started), 1)})
    return {"at1": sum(r["at1"] for r in rows), "at3": sum(r["at3"] for r in rows), "queries": len(rows),
            "rows": rows}


def build(store: Store) -> None:
    store.messages.add_many([Message(chat_id=1, message_id=i, text=t, sender_name=s,
                                     role="user" if s == "Ana" else "assistant", created_at=w)
                             for i, w, s, t in MESSAGES])


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="engram-time-") as tmp:
        store = Store.open(Path(tmp) / "time.db", SentenceTransformerEmbedder(args.model))
        try:
            build(store)
            result = evaluate(store, use_window=not args.no_window)
        finally:
            store.close()
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{'query':<50} {'window':<20} {'@1':>3} {'@3':>3}  top 3")
    for r in result["rows"]:
        print(f"{r['query']:<50} {r['window'] or '-':<20} {'yes' if r['at1'] else 'no':>3} "
              f"{'yes' if r['at3'] else 'no':>3}  {r['top3']}")
    print(f"\nsuccess@1 {result['at1']}/{result['queries']}, success@3 {result['at3']}/{result['queries']}")
    return 0
