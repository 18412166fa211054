"""`bench-load`: the real bot under load, driven through the fake Telegram Bot API server.

The fake server (tests/fake_telegram.py, loaded by path: one copy for the tests and this benchmark, and bench/
needs a source checkout anyway) runs in this process on 127.0.0.1. The bot runs as users run it, in a child
process (`python -m bot --config FILE telegram`) with the configured models, its own database in a fresh folder
and `telegram.base_url` pointing at the fake. Simulated users (allowed private chats, optionally one group where
the last message of each burst mentions the bot) then send:

  --scenario burst    N chats x M messages as fast as possible (default 3 x 100 within --burst-seconds 1)
  --scenario steady   R messages a second spread over N chats for T seconds (default 1/s, 10 chats, 300 s)

With --kill-at 0.1,0.5,0.9 the bot is SIGKILLed when that fraction of the messages is stored (read from the
database with a connection of this benchmark's own), restarted, and the run goes on. With --enforce-limits the
fake answers calls over Telegram's flood limits with 429 + retry_after (fake_telegram.Limits).

The run ends when the bot has settled (everything sent, nothing left for it to fetch, no stored message and no
bot call for --settle seconds) or --max-wait seconds after the last message; the bot is then stopped (SIGTERM,
SIGKILL after --stop-grace seconds) and the database checked on a copy (integrity, messages = vectors = keyword
rows). Printed: messages sent / stored (distinct, duplicates) / replies (bot messages per chat) / sendChatAction
calls (and the most in one chat in any 4 s) / 429s / p50 and p95 from a burst's last message to the first reply
(the bot's first sendMessage in that chat after it; and, with each reply matched to one burst in order, to a
reply of its own) / time until every chat was answered / database check / for
each kill, the updates handed over before it and whether they were all stored.

`python -m bench --config FILE bench-load …` starts the bot from that config's settings (models, recall, …);
the benchmark still sets the database, the Bot API URL, the allowed users and turns housekeeping off.
ENGRAM_* variables for other sections (e.g. ENGRAM_LLM__MODEL) reach the bot too.

The driver and the metrics take any "running bot" (SubprocessBot, or InProcessBot for a bot built in this
process, as tests/test_bench_load.py does with a scripted model).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import yaml

from bench.common import load_average, markdown_table, say
from bot.views import percentile

REPO = Path(__file__).resolve().parents[1]
FAKE_SERVER = REPO / "tests" / "fake_telegram.py"
FIRST_USER = 1001  # private chats: the chat id is the user's id
GROUP_ID = -1001700
NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Greta", "Hugo", "Iris", "Jonas", "Kemi", "Luca"]
TYPING_WINDOW = 4.0  # seconds: the target is at most one sendChatAction per chat in this window
BOT_ACTIVITY = frozenset({"sendMessage", "editMessageText", "sendChatAction", "sendDocument"})

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


def fake_telegram() -> ModuleType:
    """tests/fake_telegram.py as the module `fake_telegram` (the one the tests import, if already loaded)."""
    if "fake_telegram" in sys.modules:
        return sys.modules["fake_telegram"]
    spec = importlib.util.spec_from_file_location("fake_telegram", FAKE_SERVER)
    if spec is None or spec.loader is None or not FAKE_SERVER.exists():
        raise SystemExit(f"bench-load needs the fake Bot API server {FAKE_SERVER} (a source checkout)")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_telegram"] = module
    spec.loader.exec_module(module)
    return module


# ----- what is sent ------------------------------------------------------------------------------------------
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
    planned = []
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


# ----- the bot under test ------------------------------------------------------------------------------------
class RunningBot(Protocol):
    """A bot the driver can start, stop and (perhaps) kill. Starting returns once it is launched; the driver
    waits for its first getUpdates itself."""

    async def start(self, config_path: Path, env: dict[str, str]) -> None: ...
    async def stop(self, grace: float) -> str: ...
    async def kill(self) -> None: ...
    def alive(self) -> bool: ...
    def describe_exit(self) -> str: ...


class SubprocessBot:
    """The bot as users run it, in a child process: by default `python -m bot --config FILE telegram`.

    `command` may name another launcher; "{config}" in it is replaced by the config file's path. Its output
    goes to `log_path` (appended over restarts).
    """

    def __init__(self, log_path: Path, command: Sequence[str] | None = None, cwd: Path = REPO):
        self.command = list(command or [sys.executable, "-m", "bot", "--config", "{config}", "telegram"])
        self.log_path = log_path
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, config_path: Path, env: dict[str, str]) -> None:
        self.starts += 1
        args = [part.replace("{config}", str(config_path)) for part in self.command]
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== bench-load: start {self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
                env=env, cwd=self.cwd)

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.kill()
            await self.process.wait()

    async def stop(self, grace: float) -> str:
        """SIGTERM (the bot stops gracefully), SIGKILL if it is still there after `grace` seconds."""
        process = self.process
        if process is None:
            return "not started"
        if process.returncode is not None:
            return f"had exited ({process.returncode})"
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
            return "stopped (SIGTERM)" if process.returncode == 0 else f"stopped (SIGTERM, exit {process.returncode})"
        except TimeoutError:
            process.kill()
            await process.wait()
            return f"SIGKILLed after {grace:.0f} s (SIGTERM was not enough)"

    def describe_exit(self) -> str:
        code = self.process.returncode if self.process else None
        tail = ""
        if self.log_path.exists():
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-25:])
        return f"the bot exited (code {code}); last lines of {self.log_path}:\n{tail}"


class InProcessBot:
    """A bot run in this process: `factory(config)` is an async context manager that runs it (for tests, the real
    Application with a scripted model and the hash embedder). It cannot be killed."""

    def __init__(self, factory: Callable[[Any], Any]):
        self.factory = factory
        self._running: Any = None

    async def start(self, config_path: Path, env: dict[str, str]) -> None:
        from bot.config import load_config

        self._running = self.factory(load_config(config_path, env=env))
        await self._running.__aenter__()

    def alive(self) -> bool:
        return self._running is not None

    async def kill(self) -> None:
        raise NotImplementedError("an in-process bot cannot be killed: use SubprocessBot for --kill-at")

    async def stop(self, grace: float) -> str:
        if self._running is None:
            return "not started"
        running, self._running = self._running, None
        await asyncio.wait_for(running.__aexit__(None, None, None), max(grace, 30.0))
        return "stopped"

    def describe_exit(self) -> str:
        return "the in-process bot stopped"


class BotFailed(Exception):
    pass


# ----- the database --------------------------------------------------------------------------------------------
class DatabaseReader:
    """Counts in the bot's database while it runs, on a connection of this benchmark's own (WAL: it never
    blocks the bot). Only reads."""

    def __init__(self, path: Path):
        self.path = path
        self._db: Any = None

    def _open(self):
        if self._db is None:
            if not self.path.exists():
                return None
            from memory import db

            self._db = db.connect(self.path)
        return self._db

    def stored_users(self) -> int:
        """User messages stored so far (the benchmark's database holds nothing else from users)."""
        found = self._open()
        if found is None:
            return 0
        return found.execute("SELECT count(*) FROM messages WHERE role = 'user'").fetchone()[0]

    def user_keys(self) -> Counter[tuple[int, int]]:
        """(chat_id, message_id) of every stored user message, with how many rows each has."""
        found = self._open()
        if found is None:
            return Counter()
        rows = found.execute("SELECT chat_id, message_id, count(*) FROM messages WHERE role = 'user' "
                             "GROUP BY chat_id, message_id")
        return Counter({(chat, message): n for chat, message, n in rows})

    def model(self) -> tuple[str, int] | None:
        found = self._open()
        row = found.execute("SELECT name, dim FROM embedding_model WHERE id = 1").fetchone() if found else None
        return (row[0], row[1]) if row else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class _RecordedModel:
    """Stands in for the embedder when opening the finished database: its name and size as recorded."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim


def check_database(path: Path) -> dict:
    """memory.Store.check() on a copy of the stopped bot's database (the original stays as the bot left it)."""
    from memory import Store

    if not path.exists():
        return {"integrity": "no database", "consistent": False}
    reader = DatabaseReader(path)
    model = reader.model()
    reader.close()
    with tempfile.TemporaryDirectory(prefix="engram-load-check-") as folder:
        copy = Path(folder) / path.name
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        store = Store.open(copy, _RecordedModel(*(model or ("unknown", 0))))
        try:
            return store.check()
        finally:
            store.close()


# ----- running a scenario ------------------------------------------------------------------------------------
@dataclass
class Sent:
    chat_id: int
    message_id: int
    update_id: int
    at: float  # time.monotonic() when the fake had it for the bot
    burst: int
    mention: bool


@dataclass
class Kill:
    fraction: float
    target: int  # stored messages that trigger it
    at: float = 0.0
    stored: int = 0  # when the bot was killed
    handed_over: set[int] = field(default_factory=set)  # update ids handed to the bot before the kill
    confirmed_below: int = 0
    restart_seconds: float | None = None
    done: bool = False


@dataclass
class Options:
    kill_at: Sequence[float] = ()
    max_wait: float = 180.0  # after the last message (plus the time restarts took)
    settle: float = 6.0
    startup_timeout: float = 600.0
    stop_grace: float = 10.0
    progress_every: float = 15.0


@dataclass
class Run:
    """What happened, for `report`."""

    plan: Plan
    sent: list[Sent] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    started: float = 0.0  # the first message
    sending_ended: float = 0.0
    settled_at: float | None = None
    ended: float = 0.0
    stop: str = ""
    failure: str = ""
    stored: Counter[tuple[int, int]] = field(default_factory=Counter)
    database: dict = field(default_factory=dict)
    startup_seconds: float = 0.0


async def launch(bot: RunningBot, fake, config_path: Path, env: dict[str, str], timeout: float) -> float:
    """Start the bot and wait for its first getUpdates; the seconds that took."""
    started = time.monotonic()
    before = fake.polls
    await bot.start(config_path, env)
    while fake.polls == before:
        if not bot.alive():
            raise BotFailed(bot.describe_exit())
        if time.monotonic() - started > timeout:
            raise BotFailed(f"the bot did not poll within {timeout:.0f} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def send_all(fake, plan: Plan, run: Run) -> None:
    start = time.monotonic()
    run.started = start
    username = fake.bot["username"]
    for planned in plan.messages:
        delay = start + planned.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        text = f"@{username} {planned.text}" if planned.mention else planned.text
        name = NAMES[(planned.user_id - FIRST_USER) % len(NAMES)]
        message = await fake.text(planned.chat_id, text, user_id=planned.user_id, name=name)
        run.sent.append(Sent(planned.chat_id, message["message_id"], fake.next_update_id() - 1, time.monotonic(),
                             planned.burst, planned.mention))
    run.sending_ended = time.monotonic()


async def run_load(fake, bot: RunningBot, plan: Plan, config_path: Path, env: dict[str, str], db_path: Path,
                   options: Options | None = None) -> Run:
    """Start the bot, send the plan, kill and restart it on cue, wait until it settles (or max_wait), stop it,
    check the database. The bot is always stopped, whatever happens."""
    options = options or Options()
    run = Run(plan, kills=[Kill(f, max(1, math.ceil(f * len(plan.messages)))) for f in sorted(options.kill_at)])
    reader = DatabaseReader(db_path)
    sender: asyncio.Task | None = None
    try:
        say(f"starting the bot (log: {getattr(bot, 'log_path', 'in process')}) ...")
        run.startup_seconds = await launch(bot, fake, config_path, env, options.startup_timeout)
        say(f"the bot polls after {run.startup_seconds:.1f} s; sending {len(plan.messages)} messages "
            f"({plan.scenario}) ...")
        sender = asyncio.create_task(send_all(fake, plan, run))
        await watch(fake, bot, run, reader, sender, config_path, env, options)
    except BotFailed as exc:
        run.failure = str(exc)
        say(f"bench-load: {exc}")
    finally:
        if sender is not None and not sender.done():
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        run.ended = time.monotonic()
        run.stop = await bot.stop(options.stop_grace)
        say(f"bot: {run.stop}")
        run.stored = await asyncio.to_thread(reader.user_keys)
        reader.close()
    run.database = await asyncio.to_thread(check_database, db_path)
    return run


async def watch(fake, bot: RunningBot, run: Run, reader: DatabaseReader, sender: asyncio.Task,
                config_path: Path, env: dict[str, str], options: Options) -> None:
    """Until the bot settles or time is up: kill and restart it at the stored fractions, print progress."""
    last_count, last_change, last_activity, seen_calls = -1, time.monotonic(), time.monotonic(), 0
    extra_wait = 0.0  # time spent restarting, added to max_wait
    next_progress = time.monotonic() + options.progress_every
    while True:
        await asyncio.sleep(0.05)
        now = time.monotonic()
        if sender.done() and (error := sender.exception()) is not None:
            raise error
        if not bot.alive():
            raise BotFailed(bot.describe_exit())
        count = await asyncio.to_thread(reader.stored_users)
        if count != last_count:
            last_count, last_change = count, now
        for call in fake.calls[seen_calls:]:
            if call.method in BOT_ACTIVITY:
                last_activity = max(last_activity, call.at)
        seen_calls = len(fake.calls)
        pending = [k for k in run.kills if not k.done]
        if pending and count >= pending[0].target:
            extra_wait += await kill_and_restart(fake, bot, pending[0], count, config_path, env, options)
            last_change = last_activity = time.monotonic()
            continue
        if now >= next_progress:
            next_progress = now + options.progress_every
            say(progress_line(fake, run, count, now))
        if not sender.done():
            continue
        quiet_since = max(last_change, last_activity, run.sending_ended)
        if not fake.updates and now - quiet_since >= options.settle:
            run.settled_at = quiet_since
            say(f"settled {quiet_since - run.sending_ended:.1f} s after the last message")
            return
        if now >= run.sending_ended + options.max_wait + extra_wait:
            say(f"not settled {options.max_wait + extra_wait:.0f} s after the last message: stopping the bot")
            return


async def kill_and_restart(fake, bot: RunningBot, kill: Kill, count: int, config_path: Path, env: dict[str, str],
                           options: Options) -> float:
    kill.at, kill.stored = time.monotonic(), count
    kill.handed_over = set(fake.handed_over)
    kill.confirmed_below = fake.confirmed_below
    await bot.kill()
    say(f"SIGKILLed the bot at {count} stored ({kill.fraction:.0%} target); {len(kill.handed_over)} updates handed "
        f"over, those below {kill.confirmed_below} confirmed; restarting ...")
    kill.restart_seconds = await launch(bot, fake, config_path, env, options.startup_timeout)
    kill.done = True
    say(f"the bot polls again after {kill.restart_seconds:.1f} s")
    return kill.restart_seconds


def progress_line(fake, run: Run, stored: int, now: float) -> str:
    replies = sum(1 for (chat, _) in fake.sent_at if chat in run.plan.all_chats)
    return (f"  {now - run.started:5.0f} s: sent {len(run.sent)}/{len(run.plan.messages)}, stored {stored}, "
            f"replies {replies}, sendChatAction {fake.count('sendChatAction')}, 429s {sum(fake.too_many.values())}, "
            f"load {load_average()}")


# ----- metrics -------------------------------------------------------------------------------------------------
def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events in any half-open window (t - window, t]."""
    ordered, first, best = sorted(times), 0, 0
    for i, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        best = max(best, i - first + 1)
    return best


def report(fake, run: Run) -> dict:
    """The figures of a run (plain data: printed as a table or JSON)."""
    plan, sent = run.plan, run.sent
    keys = {(s.chat_id, s.message_id) for s in sent}
    stored_keys = {k for k in run.stored if k in keys}
    replies = {chat: len(fake.sent_times(chat)) for chat in plan.all_chats}
    actions = {chat: [c.at for c in fake.calls_of("sendChatAction", chat)] for chat in plan.all_chats}

    # (chat, burst) -> when its last message was sent; in the group only bursts that mention the bot count
    addressed = {(s.chat_id, s.burst) for s in sent if s.chat_id != plan.group or s.mention}
    bursts: dict[tuple[int, int], float] = {}
    for s in sent:
        if (s.chat_id, s.burst) in addressed:
            bursts[(s.chat_id, s.burst)] = max(bursts.get((s.chat_id, s.burst), 0.0), s.at)
    latencies, unanswered = [], 0
    for (chat, _), last in bursts.items():
        after = [t for t in fake.sent_times(chat) if t > last]
        if after:
            latencies.append(after[0] - last)
        else:
            unanswered += 1
    # The same, with each reply answering at most one burst (in order): a bot that answers message by message
    # and falls behind has its backlog show here, where "the first reply after" would take an older reply.
    own, without_own = [], 0
    for chat in plan.all_chats:
        replies_in_chat, j = fake.sent_times(chat), 0
        for last in sorted(t for (c, _), t in bursts.items() if c == chat):
            while j < len(replies_in_chat) and replies_in_chat[j] <= last:
                j += 1
            if j < len(replies_in_chat):
                own.append(replies_in_chat[j] - last)
                j += 1
            else:
                without_own += 1
    answered_at = []
    for chat in plan.all_chats:
        ends = [last for (c, _), last in bursts.items() if c == chat]
        after = [t for t in fake.sent_times(chat) if ends and t > max(ends)]
        answered_at.append(after[0] if after else None)
    all_answered = None
    if answered_at and run.sending_ended and all(t is not None for t in answered_at):
        all_answered = max(t for t in answered_at if t is not None) - run.sending_ended
    bot_calls = [c.at for c in fake.calls if c.method in BOT_ACTIVITY]

    kills = []
    for kill in run.kills:
        if not kill.at:
            kills.append({"fraction": kill.fraction, "reached": False})
            continue
        before = {s.update_id: (s.chat_id, s.message_id) for s in sent if s.update_id in kill.handed_over}
        kills.append({
            "fraction": kill.fraction, "reached": True, "stored_at_kill": kill.stored,
            "handed_over_before": len(before),
            "confirmed_before": sum(1 for u in before if u < kill.confirmed_below),
            "of_those_stored_at_end": sum(1 for k in before.values() if k in stored_keys),
            "of_those_lost": sum(1 for k in before.values() if k not in stored_keys),
            "restart_seconds": round(kill.restart_seconds or 0.0, 1),
        })
    too_many: Counter[str] = Counter()
    for (method, _), n in fake.too_many.items():
        too_many[method] += n
    database = run.database
    return {
        "scenario": plan.scenario,
        "private_chats": len(plan.chats),
        "group": plan.group is not None,
        "messages_planned": len(plan.messages),
        "messages_sent": len(sent),
        "stored_distinct": len(stored_keys),
        "stored_duplicates": sum(n - 1 for k, n in run.stored.items() if k in keys),
        "lost": len(keys - stored_keys),
        "bursts": len(bursts),
        "replies": sum(replies.values()),
        "replies_per_chat_min": min(replies.values(), default=0),
        "replies_per_chat_max": max(replies.values(), default=0),
        "replies_per_chat": {str(c): n for c, n in replies.items()},
        "chat_actions": sum(len(v) for v in actions.values()),
        "chat_actions_max_per_chat_4s": max((max_in_window(v, TYPING_WINDOW) for v in actions.values() if v),
                                            default=0),
        "edits": fake.count("editMessageText"),
        "too_many_requests": sum(too_many.values()),
        "too_many_requests_by_method": dict(too_many),
        "limits_enforced": fake.limits is not None,
        "first_reply_p50_s": _round(percentile(latencies, 50)),
        "first_reply_p95_s": _round(percentile(latencies, 95)),
        "first_reply_max_s": _round(max(latencies, default=None)),
        "unanswered_bursts": unanswered,
        "own_reply_p50_s": _round(percentile(own, 50)),
        "own_reply_p95_s": _round(percentile(own, 95)),
        "bursts_without_own_reply": without_own,
        "all_chats_answered_after_s": _round(all_answered),
        "bot_busy_until_s": _round(max(bot_calls) - run.sending_ended if bot_calls and run.sending_ended else None),
        "settled": run.settled_at is not None,
        "sending_seconds": _round(run.sending_ended - run.started if run.sending_ended else None),
        "run_seconds": _round(run.ended - run.started if run.started else None),
        "startup_seconds": _round(run.startup_seconds),
        "redelivered_updates": sum(1 for u, n in fake.deliveries.items() if n > 1),
        "kills": kills,
        "lost_after_kills": sum(k.get("of_those_lost", 0) for k in kills),
        "bot_stop": run.stop,
        "failure": run.failure,
        "database": {key: database.get(key) for key in ("integrity", "keyword_index", "messages", "vectors",
                                                         "keyword_rows", "consistent")},
        "load_average_end": load_average(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def table(figures: dict) -> str:
    def s(value) -> str:
        return "–" if value is None else f"{value:.1f} s" if isinstance(value, float) else str(value)

    db = figures["database"]
    rows = [
        ["messages sent", f"{figures['messages_sent']} of {figures['messages_planned']} "
                          f"({figures['private_chats']} private chats{' + 1 group' if figures['group'] else ''})"],
        ["stored (distinct chat, message_id)", f"{figures['stored_distinct']}, duplicates "
                                               f"{figures['stored_duplicates']}, lost {figures['lost']}"],
        ["replies sent (bot messages)", f"{figures['replies']} for {figures['bursts']} bursts; per chat "
                                        f"{figures['replies_per_chat_min']}-{figures['replies_per_chat_max']}"],
        ["edits (editMessageText)", figures["edits"]],
        ["sendChatAction calls", f"{figures['chat_actions']}; most in one chat in {TYPING_WINDOW:.0f} s: "
                                 f"{figures['chat_actions_max_per_chat_4s']}"],
        ["429s received" + (" (limits enforced)" if figures["limits_enforced"] else ""),
         f"{figures['too_many_requests']} {figures['too_many_requests_by_method'] or ''}".strip()],
        ["burst's last message → first reply", f"p50 {s(figures['first_reply_p50_s'])}, "
                                               f"p95 {s(figures['first_reply_p95_s'])}, "
                                               f"max {s(figures['first_reply_max_s'])}; "
                                               f"unanswered bursts {figures['unanswered_bursts']}"],
        ["… to a reply of its own (replies matched to bursts in order)",
         f"p50 {s(figures['own_reply_p50_s'])}, p95 {s(figures['own_reply_p95_s'])}; "
         f"bursts without one {figures['bursts_without_own_reply']}"],
        ["every chat answered after the last message", s(figures["all_chats_answered_after_s"])],
        ["bot busy until (after the last message)", f"{s(figures['bot_busy_until_s'])}"
                                                    f"{'' if figures['settled'] else ' (not settled: stopped)'}"],
        ["database check", f"integrity {db.get('integrity')}, messages {db.get('messages')} = vectors "
                           f"{db.get('vectors')} = keyword rows {db.get('keyword_rows')}: "
                           f"{'consistent' if db.get('consistent') else 'NOT consistent'}"],
        ["bot start / stop", f"polling after {s(figures['startup_seconds'])}; {figures['bot_stop']}"],
    ]
    for kill in figures["kills"]:
        if not kill["reached"]:
            rows.append([f"SIGKILL at {kill['fraction']:.0%} stored", "never reached"])
            continue
        rows.append([f"SIGKILL at {kill['fraction']:.0%} stored",
                     f"at {kill['stored_at_kill']} stored; {kill['handed_over_before']} handed over before it "
                     f"({kill['confirmed_before']} confirmed): {kill['of_those_stored_at_end']} stored at the end, "
                     f"{kill['of_those_lost']} lost; polling again after {kill['restart_seconds']} s"])
    if figures["kills"]:
        rows.append(["updates handed over more than once", figures["redelivered_updates"]])
    if figures["failure"]:
        rows.append(["failure", figures["failure"].splitlines()[0]])
    return markdown_table(rows, ["", "figure"], f"bench-load: {figures['scenario']}")


# ----- the command -------------------------------------------------------------------------------------------
def add_arguments(parser) -> None:
    parser.add_argument("--scenario", choices=("burst", "steady"), default="burst")
    parser.add_argument("--chats", type=int, help="private chats (default 3 for burst, 10 for steady)")
    parser.add_argument("--messages", type=int, default=100, help="burst: messages per chat (default 100)")
    parser.add_argument("--burst-seconds", type=float, default=1.0, help="burst: sent within this time (1)")
    parser.add_argument("--rate", type=float, default=1.0, help="steady: messages per second over all chats (1)")
    parser.add_argument("--duration", type=float, default=300.0, help="steady: seconds of sending (300)")
    parser.add_argument("--groups", action="store_true", help="add a group where bursts end with a mention")
    parser.add_argument("--kill-at", default="", help="SIGKILL and restart the bot at these stored fractions, "
                                                      "e.g. 0.1,0.5,0.9")
    parser.add_argument("--enforce-limits", action="store_true",
                        help="the fake answers calls over Telegram's flood limits with 429 + retry_after")
    parser.add_argument("--max-wait", type=float, default=180.0,
                        help="stop the bot this many seconds after the last message if it has not settled (180)")
    parser.add_argument("--settle", type=float, default=6.0, help="quiet seconds that mean the bot is done (6)")
    parser.add_argument("--startup-timeout", type=float, default=600.0, help="seconds for the bot to poll (600)")
    parser.add_argument("--stop-grace", type=float, default=10.0, help="seconds after SIGTERM before SIGKILL (10)")
    parser.add_argument("--data", help="a LoCoMo-format file: its turns are the messages (default: built-in lines)")
    parser.add_argument("--data-dir", help="keep the database and bot.log here (a new folder; default: temporary)")
    parser.add_argument("--model-cache", default=str(REPO / ".cache" / "models"),
                        help="llm.cache_dir for the bot, so the converted model is reused (<repo>/.cache/models)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")


def plan_from(args) -> Plan:
    texts = load_texts(args.data)
    if args.scenario == "burst":
        return burst_plan(args.chats or 3, args.messages, texts, args.burst_seconds, args.groups)
    return steady_plan(args.chats or 10, args.rate, args.duration, texts, args.groups)


def parse_fractions(text: str) -> list[float]:
    fractions = [float(f) for f in text.split(",") if f.strip()]
    if any(not 0 < f <= 1 for f in fractions):
        raise SystemExit("--kill-at takes fractions in (0, 1], e.g. 0.1,0.5,0.9")
    return fractions


def write_config(folder: Path, base_url: str, plan: Plan, base: dict | None = None) -> Path:
    """A config for the bot under test: its database in `folder`, the fake server, the simulated users allowed,
    no housekeeping jobs. `base` (the user's config) gives everything else (models, recall, …)."""
    config = dict(base or {})
    telegram = {k: v for k, v in (config.get("telegram") or {}).items() if k not in ("token", "webhook")}
    config["storage"] = {"path": str(folder / "engram.db")}
    config["telegram"] = {**telegram, "base_url": base_url, "mode": "polling", "allowed_user_ids": plan.users,
                          "allowed_chat_ids": [plan.group] if plan.group is not None else []}
    config["housekeeping"] = {**(config.get("housekeeping") or {}), "checkpoint_minutes": 0, "backup_dir": ""}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def bot_environment(token: str, model_cache: str | None) -> dict[str, str]:
    """This process's environment for the bot, minus what would override the benchmark's own config."""
    env = {k: v for k, v in os.environ.items()
           if k != "ENGRAM_CONFIG" and not k.startswith(("ENGRAM_STORAGE__", "ENGRAM_TELEGRAM__",
                                                        "ENGRAM_HOUSEKEEPING__"))}
    env["TELEGRAM_BOT_TOKEN"] = token
    if model_cache:
        env["ENGRAM_LLM__CACHE_DIR"] = str(Path(model_cache).resolve())
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("OMP_WAIT_POLICY", "PASSIVE"),
                        ("TOKENIZERS_PARALLELISM", "false"), ("PYTHONUNBUFFERED", "1")):
        env.setdefault(name, value)
    return env


def main(args) -> int:
    plan = plan_from(args)
    kill_at = parse_fractions(args.kill_at)
    base = None
    if getattr(args, "config", None):
        base = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
    if args.data_dir:
        folder = Path(args.data_dir).resolve()
        if (folder / "engram.db").exists():
            raise SystemExit(f"{folder / 'engram.db'} exists: bench-load needs a fresh database (another --data-dir)")
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="engram-load-"))
    options = Options(kill_at=kill_at, max_wait=args.max_wait, settle=args.settle,
                      startup_timeout=args.startup_timeout, stop_grace=args.stop_grace)
    say(f"engram bench-load — {time.strftime('%Y-%m-%d %H:%M')}, load {load_average()}, {os.cpu_count()} CPUs; "
        f"files in {folder}")
    try:
        figures = asyncio.run(_main(plan, folder, base, args, options))
    except asyncio.CancelledError:  # SIGTERM: the bot was stopped on the way out
        say("bench-load: terminated")
        return 143
    finally:
        if not args.data_dir:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 0 if not figures["failure"] else 1


async def _main(plan: Plan, folder: Path, base: dict | None, args, options: Options) -> dict:
    module = fake_telegram()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per Bot API call otherwise
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)  # a SIGTERMed benchmark still stops its bot
    limits = module.Limits() if args.enforce_limits else None
    async with module.FakeTelegram(limits=limits) as fake:
        config_path = write_config(folder, fake.base_url, plan, base)
        bot = SubprocessBot(folder / "bot.log")
        run = await run_load(fake, bot, plan, config_path, bot_environment(fake.token, args.model_cache),
                             folder / "engram.db", options)
        return report(fake, run)
