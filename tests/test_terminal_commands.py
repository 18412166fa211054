"""The terminal chat's commands beyond conversation: reminders that really fire while it is open (the same
ReminderService as Telegram's, on asyncio timers, printing "⏰ …"), /export, /timezone; and `./engram export`.
A hash embedder and no language model: these commands need neither."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import datetime, timezone

import pytest

from bot.cli.chat import Terminal
from bot.config import Config
from memory import HashEmbedder, Memory, Message

pytestmark = pytest.mark.timeout(60)

CHAT = 0


@pytest.fixture
async def terminal(tmp_path, memory):
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=out)
    await terminal.start_reminders(memory, sweep_seconds=0)
    yield terminal
    await terminal.stop_reminders()


def printed(terminal: Terminal) -> str:
    out = terminal.out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


async def until_printed(terminal: Terminal, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in printed(terminal):
        assert time.monotonic() < deadline, f"{text!r} was not printed:\n{printed(terminal)}"
        await asyncio.sleep(0.05)


async def test_a_reminder_is_set_listed_and_printed_when_due(terminal, memory):
    started = time.monotonic()
    await terminal.command("/remind in 2 seconds take the cake out")
    assert "⏰ OK, I will remind you on " in printed(terminal) and "(UTC): take the cake out" in printed(terminal)
    await terminal.command("/reminders")
    assert "Pending reminders:\n#1 · " in printed(terminal) and "· take the cake out" in printed(terminal)
    terminal.prompt = "you> "  # waiting for a line: the reminder is printed, then the prompt again
    await until_printed(terminal, "⏰ take the cake out\n")
    assert time.monotonic() - started >= 1.5
    assert printed(terminal).endswith("\r⏰ take the cake out\nyou> ")
    stored = [(m.role, m.text) for m in await memory.messages.recent(CHAT, 10)]
    assert ("assistant", "Reminder: take the cake out") in stored  # as on Telegram: the memory knows
    assert any(text.startswith("⏰ OK, I will remind you") for _, text in stored)
    await terminal.command("/reminders")
    assert printed(terminal).rstrip().endswith("No pending reminders. Set one with /remind <when> <what>.")


async def test_cancel_removes_a_reminder(terminal):
    await terminal.command("/remind in 1 hour call the bank")
    await terminal.command("/cancel 1")
    assert "Cancelled #1: call the bank" in printed(terminal)
    await terminal.command("/reminders")
    assert printed(terminal).rstrip().endswith("No pending reminders. Set one with /remind <when> <what>.")
    await terminal.command("/cancel 1")
    assert printed(terminal).rstrip().endswith("There is no pending reminder #1 in this chat.")
    await terminal.command("/cancel")
    assert printed(terminal).rstrip().endswith("Usage: /cancel <id> (the ids are in /reminders)")
    await terminal.command("/remind whenever")
    assert "Usage: /remind <when> <what>" in printed(terminal)


async def test_timezone_is_shown_set_and_used(terminal):
    await terminal.command("/timezone")
    assert "This chat's time zone is UTC." in printed(terminal)
    await terminal.command("/timezone Europe/Lisbon")
    assert "Time zone set to Europe/Lisbon." in printed(terminal)
    await terminal.command("/timezone Mars/Olympus")
    assert "Unknown time zone 'Mars/Olympus'" in printed(terminal)
    await terminal.command("/remind tomorrow at 9 call Ana")
    assert "09:00 (Europe/Lisbon): call Ana" in printed(terminal)


async def test_a_natural_request_is_stored_and_confirmed(terminal, memory):
    assert await terminal.action("please remind me to water the plants in 10 minutes")
    assert "⏰ OK, I will remind you on " in printed(terminal) and ": water the plants" in printed(terminal)
    assert not await terminal.action("what did you remind me about?")  # a question: the assistant's
    texts = [m.text for m in await memory.messages.recent(CHAT, 10)]
    assert "please remind me to water the plants in 10 minutes" in texts


async def test_a_reminder_due_while_the_chat_was_closed_comes_at_the_next_start(tmp_path, memory):
    past = datetime.now(timezone.utc).timestamp() - 600
    await memory.reminders.add(chat_id=CHAT, created_by=None, text="stretch", due_at=past, recurrence=None,
                              timezone="UTC", now=past - 60)
    await memory.reminders.add(chat_id=-100123, created_by=None, text="a Telegram group's", due_at=past,
                              recurrence=None, timezone="UTC", now=past - 60)
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=io.StringIO())
    await terminal.start_reminders(memory, sweep_seconds=0)
    try:
        await until_printed(terminal, "⏰ (late) stretch")
        await asyncio.sleep(0.2)
        assert "Telegram group" not in printed(terminal)  # other chats' reminders are not the terminal's
        assert [r.text for r in await memory.reminders.pending()] == ["a Telegram group's"]
    finally:
        await terminal.stop_reminders()


async def test_export_writes_the_chats_memory(terminal, memory, tmp_path):
    await memory.messages.remember(Message(CHAT, 1, "My dog is called Rex.", sender_name="you"))
    await memory.messages.remember(Message(7, 1, "another chat's secret"))
    path = tmp_path / "out" / "mine.json"
    path.parent.mkdir()
    await terminal.command(f"/export {path}")
    assert f"1 message from this chat's memory. Written to {path}" in printed(terminal)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "engram-export" and data["chat_id"] == CHAT
    assert [m["text"] for m in data["messages"]] == ["My dog is called Rex."]


def test_the_command_line_exports_a_chat(tmp_path, monkeypatch, capsys):
    from bot.__main__ import main

    db = tmp_path / "engram.db"

    async def fill() -> None:
        memory = Memory(db, HashEmbedder(64))
        await memory.start()
        await memory.messages.remember(Message(5, 1, "The flat has two bedrooms.", sender_name="Ana"))
        await memory.stop()

    asyncio.run(fill())
    monkeypatch.setattr("bot.cli.tools.build_memory", lambda config, embedder=None: Memory(db, HashEmbedder(64)))
    monkeypatch.chdir(tmp_path)
    assert main(["export", "5"]) == 0
    assert "1 message from this chat's memory. Written to engram-chat-5.json" in capsys.readouterr().out
    data = json.loads((tmp_path / "engram-chat-5.json").read_text(encoding="utf-8"))
    assert [m["text"] for m in data["messages"]] == ["The flat has two bedrooms."]
