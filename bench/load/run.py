"""Running a scenario: start the bot, send the plan, kill and restart it on cue, wait until it settles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import load_average, say
from bench.load.bots import BOT_ACTIVITY, BotFailed, DatabaseReader, RunningBot, check_database
from bench.load.plan import FIRST_USER, NAMES, Plan
from bot.text import plural


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
    handed = plural(len(kill.handed_over), "update")
    say(f"SIGKILLed the bot at {count} stored ({kill.fraction:.0%} target); {handed} handed over, those below "
        f"{kill.confirmed_below} confirmed; restarting ...")
    kill.restart_seconds = await launch(bot, fake, config_path, env, options.startup_timeout)
    kill.done = True
    say(f"the bot polls again after {kill.restart_seconds:.1f} s")
    return kill.restart_seconds


def progress_line(fake, run: Run, stored: int, now: float) -> str:
    replies = sum(1 for (chat, _) in fake.sent_at if chat in run.plan.all_chats)
    return (f"  {now - run.started:5.0f} s: sent {len(run.sent)}/{len(run.plan.messages)}, stored {stored}, "
            f"replies {replies}, sendChatAction {fake.count('sendChatAction')}, 429s {sum(fake.too_many.values())}, "
            f"load {load_average()}")
