"""Reminders end to end: the real Application (bot/app.py) and PTB's JobQueue against the fake Bot API server,
with short real delays. HashEmbedder + the scripted LLM keep it fast."""

from __future__ import annotations

import asyncio
import time

import pytest
from fake_llm import ScriptedLLM, echo_memories
from fake_telegram import FakeTelegram
from telegram_helpers import bot_config, bot_running, button, command, converse

from memory import HashEmbedder

pytestmark = pytest.mark.timeout(90)

ALICE = 1001


@pytest.fixture
def config(tmp_path, fake):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.reminders.min_interval_seconds = 1
    return config


def delivered(fake: FakeTelegram, text: str) -> list[dict]:
    return [m for m in fake.bot_messages(ALICE) if m.get("text") == text]


async def until_delivered(fake: FakeTelegram, text: str, n: int = 1, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while len(delivered(fake, text)) < n:
        assert time.monotonic() < deadline, f"{text!r} arrived {len(delivered(fake, text))} times, not {n}"
        await asyncio.sleep(0.05)


async def test_a_reminder_in_two_seconds_arrives_once_and_is_remembered(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        started = time.monotonic()
        confirm = await command(fake, ALICE, "/remind in 2 seconds take the cake out")
        assert confirm["text"].startswith("⏰ OK, I will remind you on ") and "(UTC)" in confirm["text"]
        assert button(confirm, "Cancel").startswith("rem:cancel:")
        await until_delivered(fake, "⏰ take the cake out")
        assert time.monotonic() - started >= 1.5
        await asyncio.sleep(1.5)
        assert len(delivered(fake, "⏰ take the cake out")) == 1
        texts = [m["text"] for m in await services.memory.messages.export(ALICE)]
        assert "Reminder: take the cake out" in texts
        listing = await command(fake, ALICE, "/reminders")
        assert listing["text"].startswith("No pending reminders")


async def test_recurring_arrives_repeatedly_until_cancelled_by_button(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        confirm = await command(fake, ALICE, "/remind every 1 second blink")
        assert "then every second" in confirm["text"]
        await until_delivered(fake, "⏰ blink", n=3)
        mark = fake.mark()
        await fake.press(ALICE, confirm["message_id"], button(confirm, "Cancel"))
        await fake.wait_for_method("answerCallbackQuery", since=mark)
        count = len(delivered(fake, "⏰ blink"))
        await asyncio.sleep(2.5)
        assert len(delivered(fake, "⏰ blink")) <= count + 1  # at most one already in flight when pressed
        settled = len(delivered(fake, "⏰ blink"))
        await asyncio.sleep(1.5)
        assert len(delivered(fake, "⏰ blink")) == settled


async def test_cancel_command_and_list(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        await command(fake, ALICE, "/remind in 3 seconds never shown")
        await command(fake, ALICE, "/remind tomorrow at 9 call Ana")
        listing = await command(fake, ALICE, "/reminders")
        assert "never shown" in listing["text"] and "call Ana" in listing["text"]
        first_id = listing["text"].split("#")[1].split()[0]
        done = await command(fake, ALICE, f"/cancel {first_id}")
        assert done["text"] == f"Cancelled #{first_id}: never shown"
        assert (await command(fake, ALICE, "/cancel 999"))["text"].startswith("There is no pending reminder #999")
        bad = await command(fake, ALICE, "/remind yesterday at 9 something")
        assert "already passed" in bad["text"]
        await asyncio.sleep(3.5)
        assert delivered(fake, "⏰ never shown") == []


async def test_timezone_is_per_chat(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        assert "UTC" in (await command(fake, ALICE, "/timezone"))["text"]
        assert "Asia/Tokyo" in (await command(fake, ALICE, "/timezone Asia/Tokyo"))["text"]
        assert "Unknown time zone" in (await command(fake, ALICE, "/timezone Mars/Base"))["text"]
        confirm = await command(fake, ALICE, "/remind tomorrow at 9 call Ana")
        assert " 09:00 (Asia/Tokyo)" in confirm["text"]


async def test_natural_request_is_confirmed_not_answered_by_the_model(fake, config):
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        reply = await converse(fake, services, ALICE, "please remind me in 2 seconds to stretch")
        assert reply.startswith("⏰ OK, I will remind you on ") and reply.endswith("to cancel)")
        assert llm.prompts == []
        await until_delivered(fake, "⏰ stretch")
        other = await converse(fake, services, ALICE, "what did you remind me about?")
        assert other.startswith("You said: what did you remind me about?")  # a question goes to the model
        texts = [m["text"] for m in await services.memory.messages.export(ALICE)]
        assert "please remind me in 2 seconds to stretch" in texts and "Reminder: stretch" in texts


async def test_restart_fires_pending_once_and_missed_once_late(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        await command(fake, ALICE, "/remind in 2 seconds missed while down")
        await command(fake, ALICE, "/remind in 6 seconds after the restart")
        stopped = time.monotonic()
    await asyncio.sleep(max(0.0, 3.0 - (time.monotonic() - stopped)))
    assert delivered(fake, "⏰ missed while down") == []
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await until_delivered(fake, "⏰ (late) missed while down")
        assert delivered(fake, "⏰ after the restart") == []
        await until_delivered(fake, "⏰ after the restart", timeout=10)
        await asyncio.sleep(1.0)
        assert len(delivered(fake, "⏰ (late) missed while down")) == 1
        assert len(delivered(fake, "⏰ after the restart")) == 1
        assert delivered(fake, "⏰ missed while down") == []
        assert await services.reminders.pending(ALICE) == []
