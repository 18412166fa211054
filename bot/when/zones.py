"""Time zones by IANA name ("Europe/Lisbon"): one check for the config, /timezone and reminder parsing; a chat's
zone; the time window a query names, read in it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    return (await memory.chat_settings(chat_id)).get("timezone") or default


async def query_window(memory: Memory, chat_id: int, text: str, at: float, default_tz: str) -> TimeWindow | None:
    """The time window `text` names ("last week", "in May"), read in the chat's zone as of `at` (Unix time).

    dateparser is CPU work (its first call loads tables for ~0.5 s): it runs off the event loop."""
    tz = await chat_timezone(memory, chat_id, default_tz)
    now = datetime.fromtimestamp(at, tz=timezone.utc)
    return await asyncio.to_thread(parse_time_phrase, text, now, tz)
