"""/import end to end: the real Application against the fake Bot API server (documents, getFile, download)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM
from telegram_helpers import bot_config, bot_running, command

from bench import telegram_export
from handlers import importing
from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

FIXTURE = (Path(__file__).parent / "fixtures" / "telegram_chat.json").read_bytes()
OWNER, FRIEND, STRANGER = 111, 1002, 6666
GROUP = -1001234567890  # the fixture's own supergroup


class SlowEmbedder(HashEmbedder):
    """A hash embedder that takes its time, like a real model: an import lasts long enough to watch."""

    def embed_batch(self, texts):
        time.sleep(0.002 * len(texts))
        return super().embed_batch(texts)


@pytest.fixture
def config(tmp_path, fake):
    return bot_config(tmp_path, fake, allowed_user_ids=[OWNER, FRIEND], allowed_chat_ids=[GROUP])


async def done(fake, chat_id: int, since: int, timeout: float = 60.0) -> dict:
    """The progress message once it shows the summary."""
    call = await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok and c.chat_id == chat_id
                               and any(word in c.params.get("text", "") for word in ("Import done", "Format: JSON",
                                                                                       "chats (")), since, timeout)
    return fake.messages[(chat_id, call.params["message_id"])]


async def test_import_a_document_into_its_group_then_search_finds_it_with_date_and_sender(fake, config):
    async with bot_running(config, ScriptedLLM("OK."), HashEmbedder(64)) as services:
        assert "import" in [c["command"] for c in fake.commands]
        mark = fake.mark()
        await fake.document(GROUP, FIXTURE, caption="/import", user_id=OWNER)
        summary = await done(fake, GROUP, mark)
        assert "13 messages imported, 0 already present, 6 skipped" in summary["text"]
        assert fake.downloads and fake.calls_of("getFile")
        found = await command(fake, GROUP, "/search who brings the map", user_id=OWNER)
        assert "2024-03-02 10:03 · Carla Díaz" in found["text"]
        assert "I'll bring the map and some snacks" in found["text"]
        # Replying /import to the same document again adds nothing.
        document = next(m for m in fake.messages.values() if m.get("document"))
        mark = fake.mark()
        await fake.text(GROUP, "/import", user_id=OWNER, reply_to=document["message_id"])
        assert "0 messages imported, 13 already present" in (await done(fake, GROUP, mark))["text"]
        assert await services.memory.messages.count(GROUP) == 13


async def test_progress_edits_arrive_and_replies_elsewhere_keep_coming(fake, config, monkeypatch):
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 0.2)
    export = json.dumps(telegram_export.generate(3000, chat_id=555)).encode()
    async with bot_running(config, ScriptedLLM("Still here."), SlowEmbedder(64)) as services:
        mark = fake.mark()
        await fake.document(OWNER, export, caption="/import into -1000000000555", user_id=OWNER)
        await fake.wait_for(lambda c: c.method == "editMessageText" and "Importing Generated Group:" in
                            c.params.get("text", ""), mark, 30)
        assert services.importing
        asked = fake.mark()
        await fake.text(FRIEND, "are you still answering?")
        answer = await fake.wait_for_method("sendMessage", FRIEND, asked, 30)
        assert answer.params["text"].startswith("Still")
        assert services.importing, "the reply waited for the whole import"
        summary = await done(fake, OWNER, mark, 90)
        progress = [c for c in fake.calls_of("editMessageText", OWNER, mark) if "msg/s" in c.params["text"]]
        assert len(progress) >= 2 and "of 3,000 messages" in progress[0].params["text"]
        assert "into chat -1000000000555" in fake.calls_of("editMessageText", OWNER, mark)[0].params["text"]
        assert "messages imported" in summary["text"] and not services.importing
        assert await services.memory.messages.count(-1000000000555) > 2500


async def test_strangers_get_nothing_and_big_or_wrong_files_get_a_sentence(fake, config):
    async with bot_running(config, ScriptedLLM("OK."), HashEmbedder(64)) as services:
        mark = fake.mark()
        await fake.document(STRANGER, FIXTURE, caption="/import", user_id=STRANGER)
        await command(fake, OWNER, "/start", user_id=OWNER)  # handled after the stranger's document
        await services.settle(10)
        assert not fake.calls_of("getFile", since=mark) and await services.memory.messages.count() == 0
        assert all("import" not in c.params.get("text", "").lower() for c in fake.calls_of("sendMessage", STRANGER))
        mark = fake.mark()
        await fake.document(OWNER, b"{}", caption="/import", user_id=OWNER, file_size=25 * 1024 * 1024)
        huge = await fake.wait_for(lambda c: c.method == "editMessageText" and "20 MB" in c.params["text"], mark)
        assert "self-hosted Bot API server" in huge.params["text"] and "telegram.base_url" in huge.params["text"]
        await services.settle(10)  # the refusal is shown before its task has ended (on a busy machine, visibly)
        assert not fake.downloads and not services.importing
        mark = fake.mark()
        await fake.document(OWNER, b"<!DOCTYPE html><html>", file_name="messages.html", caption="/import",
                            user_id=OWNER)
        refused = await done(fake, OWNER, mark)
        assert "HTML export" in refused["text"] and await services.memory.messages.count() == 0
        mark = fake.mark()  # an empty file is called empty, as `./engram import` calls it (the same parse)
        await fake.document(OWNER, b"\n", file_name="result.json", caption="/import", user_id=OWNER)
        empty = await done(fake, OWNER, mark)
        assert "result.json is empty" in empty["text"] and "cut short" not in empty["text"]
        usage = await command(fake, OWNER, "/import", user_id=OWNER)
        assert "Usage" in usage["text"]
        member = await command_document(fake, GROUP, FIXTURE, user_id=7777)  # a member of an allowed group
        assert "Only the bot's owners" in member["text"]
        await asyncio.sleep(0.1)
        assert await services.memory.messages.count() == 0


async def command_document(fake, chat_id: int, content: bytes, user_id: int | None = None, **kw) -> dict:
    mark = fake.mark()
    await fake.document(chat_id, content, caption="/import", user_id=user_id or chat_id, **kw)
    call = await fake.wait_for(lambda c: c.method == "sendMessage" and c.ok and c.chat_id == chat_id, mark, 15)
    return fake.messages[(chat_id, call.result["message_id"])]


async def test_a_whole_account_export_needs_the_chat_named(fake, config):
    account = (Path(__file__).parent / "fixtures" / "telegram_account.json").read_bytes()
    async with bot_running(config, ScriptedLLM("OK."), HashEmbedder(64)) as services:
        mark = fake.mark()
        sent = await fake.document(OWNER, account, caption="/import", user_id=OWNER)
        asked = await done(fake, OWNER, mark)
        assert "holds 4 chats (Bob Lee, Book Club, Saved Messages, Old Channel)" in asked["text"]
        assert await services.memory.messages.count() == 0
        mark = fake.mark()
        await fake.text(OWNER, "/import Book Club", user_id=OWNER, reply_to=sent["message_id"])
        imported = await done(fake, OWNER, mark)
        assert "Book Club → chat 111" in imported["text"] and "2 messages imported" in imported["text"]
        assert [m.text for m in await services.memory.messages.recent(OWNER, 5)] == [
            "Next book: The Left Hand of Darkness", "I loved the chapter on the glacier crossing"]
