"""Crashes, bursts and hostile input, end to end through the fake Bot API (hash embedder, scripted LLM).

Received means kept (the inbox), bursts answered together, "typing" only while a reply is written, chats taking
turns, every command and button answered, text that no encoder accepts stored with the damage visible.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram import Update
from telegram_helpers import bot_config, bot_running, command, converse, quiet, until_stored

from bot.reply.assistant import ADDRESSED
from handlers.app import build_application
from handlers.intake import InboxQueue
from memory import HashEmbedder, Memory, Message

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP = -100777


@pytest.fixture
def config(tmp_path, fake):
    return bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB, CAROL])


def update_of(fake, chat_id: int, text: str, update_id: int) -> dict:
    return {"update_id": update_id, "message": fake._new_message(chat_id, fake.user(chat_id), text=text)}


# ----- received means kept ------------------------------------------------------------------------------------------

async def test_an_update_is_on_disk_before_it_is_queued_and_handled_once(config, fake, tmp_path):
    memory = Memory(config.resolve(config.storage.path), HashEmbedder(64))
    await memory.start()
    try:
        application = build_application(config, memory=memory)
        queue = application.update_queue
        assert isinstance(queue, InboxQueue)
        queue.memory = memory
        update = Update.de_json(update_of(fake, ALICE, "my locker code is 4711", 41), application.bot)
        await queue.put(update)
        assert [i for i, _ in await memory.inbox.unhandled()] == [41]  # written before put() returned
        await queue.put(update)  # Telegram sends it again (not confirmed yet): queued once
        assert queue.qsize() == 1
    finally:
        await memory.stop()  # the "crash": the update was received and kept, never handled


async def test_updates_kept_before_a_crash_are_handled_after_the_restart(config, fake):
    """The Updater confirms an update to Telegram only after InboxQueue.put has written it; if the process dies
    before handling it, the next start handles it from the inbox (Telegram will not send it again)."""
    memory = Memory(config.resolve(config.storage.path), HashEmbedder(64))
    await memory.start()
    application = build_application(config, memory=memory)
    application.update_queue.memory = memory
    for n, text in enumerate(["first kept message", "second kept message", "my bike is blue"], start=1):
        await application.update_queue.put(Update.de_json(update_of(fake, ALICE, text, n), application.bot))
    await memory.stop()  # dies here: three updates confirmed and kept, none handled

    fake.updates.clear()  # confirmed: Telegram would never deliver them again
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        for message_id in (1, 2, 3):
            stored = await until_stored(services, ALICE, message_id)
            assert stored.meta and stored.meta.get(ADDRESSED)
        await fake.wait_for_method("sendMessage", ALICE)
        await services.settle(20)
        assert await services.memory.inbox.unhandled() == []
        check = await services.memory.maintenance.check()
    assert check["consistent"] and check["messages"] >= 4
    replies = fake.bot_messages(ALICE)
    assert 1 <= len(replies) <= 2 and "my bike is blue" in replies[-1]["text"]  # not one reply per message


async def test_a_chat_left_unanswered_by_a_restart_is_answered_unless_too_old(config, fake):
    memory = Memory(config.resolve(config.storage.path), HashEmbedder(64))
    await memory.start()
    now = time.time()
    await memory.messages.remember(Message(ALICE, 7, "what was the locker code?", sender_id=ALICE,
                                           created_at=now - 30, meta={ADDRESSED: True}))
    await memory.messages.remember(Message(BOB, 9, "an old question", sender_id=BOB,
                                           created_at=now - 2 * 3600, meta={ADDRESSED: True}))
    await memory.messages.remember(Message(CAROL, 3, "answered already", sender_id=CAROL, created_at=now - 60,
                                           meta={ADDRESSED: True}))
    await memory.messages.remember(Message(CAROL, 4, "the answer", role="assistant", created_at=now - 59))
    await memory.stop()
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await fake.wait_for_method("sendMessage", ALICE)
        await services.settle(20)
    assert "what was the locker code?" in fake.bot_messages(ALICE)[0]["text"]
    assert fake.bot_messages(BOB) == [] and fake.bot_messages(CAROL) == []  # too old; answered before


# ----- bursts -------------------------------------------------------------------------------------------------------

async def test_a_burst_gets_one_reply_and_typing_only_while_a_reply_is_written(config, fake):
    hold = asyncio.Event()
    llm = ScriptedLLM(echo_memories, hold=hold, hold_if=lambda messages: "first" in messages[-1]["content"])
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        mark = fake.mark()
        await fake.text(ALICE, "first")
        await fake.wait_for_method("sendChatAction", ALICE, mark)
        burst = [await fake.text(ALICE, f"and then number {i}") for i in range(5)]
        await fake.text(BOB, "hello from bob")
        for message in burst:
            await until_stored(services, ALICE, message["message_id"])  # stored at once, while a reply is held
        await asyncio.sleep(0.5)
        assert fake.calls_of("sendChatAction", BOB, mark) == []  # Bob's reply waits its turn: no typing yet
        hold.set()
        await fake.wait_for(lambda c: c.method == "sendMessage" and len(fake.calls_of("sendMessage", ALICE)) >= 2,
                            mark, timeout=20)
        await services.settle(20)
        stored = await services.memory.messages.export(ALICE)
    replies = [m for m in stored if m["role"] == "assistant"]
    assert len(replies) == 2  # one for "first", one for the whole burst
    assert replies[1]["reply_to"] == burst[-1]["message_id"]
    burst_prompt = "\n".join(m["content"] for m in llm.prompts[-1])
    assert all(f"and then number {i}" in burst_prompt for i in range(5))
    order = [c.chat_id for c in fake.calls_of("sendMessage", None, mark) if c.ok]
    assert order.index(BOB) < len(order) - 1 or order[-1] == BOB  # Bob answered, in his turn
    actions = [c.at for c in fake.calls_of("sendChatAction", ALICE, mark)]
    assert all(b - a >= 4.0 for a, b in itertools.pairwise(actions))  # at most one "typing" per 4 s


async def test_shutdown_with_a_backlog_is_quick_and_keeps_every_message(config, fake):
    hold = asyncio.Event()  # every generation hangs: a backlog of replies in three chats
    llm = ScriptedLLM(echo_memories, hold=hold)
    users = [ALICE, BOB, CAROL]
    config.telegram.allowed_user_ids = users
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        sent = [await fake.text(user, f"message {n} of {user}") for n in range(4) for user in users]
        for message in sent:
            await until_stored(services, message["chat"]["id"], message["message_id"])
        started = time.monotonic()
    assert time.monotonic() - started < 8
    memory = Memory(config.resolve(config.storage.path), HashEmbedder(64))
    await memory.start()
    try:
        assert sum([len(await memory.messages.export(user)) for user in users]) == len(sent)
        assert (await memory.maintenance.check())["consistent"]
    finally:
        await memory.stop()


# ----- every input answered ---------------------------------------------------------------------------------------

async def test_broken_text_is_stored_visibly_and_searchable(config, fake):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        reply = await converse(fake, services, ALICE, "half an emoji \ud83d here and \udfff there")
        assert reply.startswith("You said: half an emoji \ufffd here")
        stored = await services.memory.messages.get(ALICE, 1)
        assert stored.text == "half an emoji \ufffd here and \ufffd there"
        found = await command(fake, ALICE, "/search emoji \ud800")
        assert "half an emoji \ufffd here" in found["text"]
        await services.settle(10)
    assert not fake.errors()


async def test_odd_commands_and_buttons_get_clear_answers(config, fake, caplog):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        assert "Usage: /cancel" in (await command(fake, ALICE, "/cancel 99999999999999999999999"))["text"]
        long_text = "x" * 3500
        with caplog.at_level(logging.ERROR):
            answer = await command(fake, ALICE, f"/remind in 1 minute {long_text}")
        assert "too long" in answer["text"] and not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert "not a time of day" in (await command(fake, ALICE, "/remind tomorrow at 25:99 x"))["text"]
        refused = await command(fake, ALICE, "remind me to xyzzy at 99:99 on the 45th")
        assert "Usage: /remind" in refused["text"]
        assert await services.memory.reminders.pending(ALICE) == []
        assert "Unknown command /frobnicate" in (await command(fake, ALICE, "/frobnicate now"))["text"]
        for data in ("unknown:data", "rem:cancel:99999999999999999999999"):
            mark = fake.mark()
            await fake.press(ALICE, answer["message_id"], data)
            await fake.wait_for_method("answerCallbackQuery", None, mark)
        await quiet(fake, services, ALICE)
    assert not fake.errors()


async def test_an_owners_stats_in_a_group_keep_other_chats_private(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE], allowed_chat_ids=[GROUP])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "something private")
        in_group = await command(fake, GROUP, "/stats", user_id=ALICE)
        private = await command(fake, ALICE, "/stats")
    assert "All chats" not in in_group["text"] and "All chats" in private["text"]
