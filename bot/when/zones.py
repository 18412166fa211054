"""Time zones by IANA name ("Europe/Lisbon"): one check for the config, /timezone and reminder parsing; a chat's
zone; the time window a query names, read in it; the days stored messages speak of, read in it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.when.mentions import days_spoken_of
from bot.when.phrases import TimeWindow, parse_time_phrase

if TYPE_CHECKING:  # only named in annotations: bot/config.py imports zone() without loading the database
    from memory import Memory


def zone(name: str) -> ZoneInfo | None:
    """The zone named `name` (surrounding spaces ignored), or None if there is no such zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone name at all ("../x", "")
        return None


async def chat_timezone(memory: Memory, chat_id: int, default: str) -> str:
    """The zone a chat set with /timezone, else the configured default (reminders.timezone)."""
    return (await memory.messages.chat_settings(chat_id)).get("timezone") or default


async def query_window(memory: Memory, chat_id: int, text: str, at: float, default_tz: str) -> TimeWindow | None:
    """The time window `text` names ("last week", "in May"), read in the chat's zone as of `at` (Unix time).

    dateparser is CPU work (its first call loads tables for ~0.5 s): it runs off the event loop."""
    tz = await chat_timezone(memory, chat_id, default_tz)
    now = datetime.fromtimestamp(at, tz=timezone.utc)
    return await asyncio.to_thread(parse_time_phrase, text, now, tz)


DATING_BATCH = 500  # messages whose days are read at a time: one transaction each


async def date_messages(memory: Memory, default_tz: str, after_id: int = 0, limit: int | None = None
                        ) -> tuple[int, int]:
    """Read the days people's messages stored after row `after_id` speak of (bot/when/mentions.py), in each chat's
    zone as of when it was said, and store them with the messages, `DATING_BATCH` a transaction; at most `limit`
    messages. Returns (messages read, the last row id read)."""
    done, last = 0, after_id
    zones: dict[int, str] = {}
    while limit is None or done < limit:
        rows = await memory.messages.undated(last, DATING_BATCH)
        if not rows:
            break
        for chat_id in {r[1] for r in rows} - set(zones):
            zones[chat_id] = await chat_timezone(memory, chat_id, default_tz)
        await memory.messages.set_days([(row_id, days_spoken_of(text, at, zones[chat_id]))
                                        for row_id, chat_id, text, at in rows])
        last = rows[-1][0]
        done += len(rows)
        await asyncio.sleep(0)  # a reply waiting for the loop goes first
    return done, last
