"""Importing history: Telegram Desktop's JSON (fixtures written as its writer writes them), Engram's own export,
idempotence, ids that never collide with live messages, and files that are refused."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.commands import actions
from bot.importing import ImportFileError, import_chats, load, parse
from bot.importing.run import Summary, to_messages
from memory import Memory, Message
from memory.imports import FOREIGN_IDS

FIXTURES = Path(__file__).parent / "fixtures"
HIKING = -1001234567890  # Bot API id of the fixture's supergroup 1234567890
BOT_ID = 999000111


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_every_kind_of_message_reads_as_the_live_bot_would_store_it():
    exported = load(FIXTURES / "telegram_chat.json")
    assert exported.kind == "telegram-chat"
    (chat,) = exported.chats
    assert (chat.name, chat.chat_id, chat.shares_ids_with(HIKING)) == ("Hiking Club", HIKING, True)
    summary = Summary()
    messages = {m.message_id: m for m in to_messages(chat, HIKING, summary, bot_user_id=BOT_ID)}
    assert messages[2].text == "Olá! Vamos caminhar no sábado? 🥾"
    assert (messages[2].sender_name, messages[2].sender_id) == ("Ana Souza", 111)
    assert messages[2].created_at == ts("2024-03-02T10:01:00")
    assert messages[3].text == "Route is on https://example.org/trail — 12 km and @carla knows the way"
    assert messages[3].reply_to == 2
    assert messages[4].edited_at == ts("2024-03-02T10:05:00")
    assert (messages[5].text, messages[5].meta["kind"]) == ("View from the summit ⛰️", "photo")
    assert messages[9].meta["forwarded_from"] == {"name": "Weather Bot"}
    assert messages[10].text == "Poll: Start time?\n- 8:00 (2 votes)\n- 9:30 (1 vote)"
    assert messages[11].text == "Contact: Diego Park Ranger, +351 912 345 678"
    assert messages[12].text == "Location: Trailhead parking, Estrada da Serra 1, Sintra (38.787, -9.39)"
    assert (messages[13].sender_name, messages[13].sender_id) == ("Hiking Club", HIKING)
    assert messages[13].meta["author"] == "Ana"
    assert messages[15].sender_name == "Deleted Account"
    assert messages[17].text == "Привет всем! 日本語もOK 👍"
    assert messages[18].role == "assistant" and messages[2].role == "user"
    assert messages[19].text == "Tip: bring water (checklist)" and messages[19].reply_to is None
    assert messages[19].meta["kind"] == "animation"
    assert all(m.meta["import"] == {"source": f"telegram:{HIKING}", "id": i} for i, m in messages.items())
    assert dict(summary.skipped) == {"service": 2, "photo without text": 1, "sticker without text": 1,
                                     "voice without text": 1, "empty": 1}
    assert len(messages) == 13 and not summary.errors


async def test_import_stores_then_a_second_import_adds_nothing(memory: Memory):
    chats = load(FIXTURES / "telegram_chat.json").chats
    first = await import_chats(memory, chats, bot_user_id=BOT_ID)
    assert (first.imported, first.present, sum(first.skipped.values())) == (13, 0, 6)
    stored = await memory.messages.get(HIKING, 3)
    assert stored is not None and stored.reply_to == 2 and stored.sender_name == "Bob Lee"
    assert stored.meta["import"] == {"source": f"telegram:{HIKING}", "id": 3}
    hits = await memory.messages.search(HIKING, "who brings the map and snacks")
    assert hits[0].message.message_id == 4
    again = await import_chats(memory, chats, bot_user_id=BOT_ID)
    assert (again.imported, again.present) == (0, 13)
    assert await memory.messages.count(HIKING) == 13
    assert (await memory.maintenance.check())["consistent"]


async def test_a_newer_export_adds_only_what_is_new(memory: Memory, tmp_path):
    data = json.loads((FIXTURES / "telegram_chat.json").read_text(encoding="utf-8"))
    older = {**data, "messages": data["messages"][:8]}
    (tmp_path / "older.json").write_text(json.dumps(older), encoding="utf-8")
    first = await import_chats(memory, load(tmp_path / "older.json").chats)
    newer = await import_chats(memory, load(FIXTURES / "telegram_chat.json").chats)
    assert newer.present == first.imported and first.imported + newer.imported == 13


async def test_live_messages_of_the_same_supergroup_are_never_overwritten(memory: Memory):
    live = await memory.messages.remember(Message(chat_id=HIKING, message_id=4, text="live text of message 4"))
    summary = await import_chats(memory, load(FIXTURES / "telegram_chat.json").chats)
    assert (summary.imported, summary.present) == (12, 1)
    kept = await memory.messages.get(HIKING, 4)
    assert kept is not None and kept.text == live.text and kept.rowid == live.rowid


async def test_whole_account_export_with_chat_picks_and_ids_of_their_own(memory: Memory):
    exported = load(FIXTURES / "telegram_account.json")
    assert exported.kind == "telegram-account"
    assert [c.name for c in exported.chats] == ["Bob Lee", "Book Club", "Saved Messages", "Old Channel"]
    # A live message of the private chat with Bob has the same id as one of the export: different messages.
    await memory.messages.remember(Message(chat_id=222, message_id=502, text="a live message with a clashing id"))
    picked = exported.pick(["book club", "222"])
    summary = await import_chats(memory, picked)
    assert summary.chats == [("Book Club", -4455), ("Bob Lee", 222)]
    assert (summary.imported, summary.skipped["service"]) == (5, 1)
    assert (await memory.messages.get(222, 502)).text == "a live message with a clashing id"
    imported = [m for m in await memory.messages.recent(222, 10) if m.meta and "import" in m.meta]
    assert [m.text for m in imported] == ["Did you book the cabin for the trip?",
                                          "Yes, the cabin near the lake, three nights", "Great, I will bring the kayak"]
    assert all(m.message_id < FOREIGN_IDS for m in imported)
    assert imported[1].reply_to == imported[0].message_id  # the reply points at the id its target got
    club = await memory.messages.recent(-4455, 10)
    assert club[1].reply_to == club[0].message_id
    assert (await import_chats(memory, picked)).imported == 0
    with pytest.raises(ImportFileError, match="no chat 'Nope'"):
        exported.pick(["Nope"])
    everything = await import_chats(memory, exported.chats)
    assert everything.imported == 2  # the saved messages and the left channel
    assert (await memory.messages.get(-1000000000777, 11)).text == "Farewell post: this channel is archived"


async def test_into_another_chat_and_into_takes_one_chat(memory: Memory):
    chats = load(FIXTURES / "telegram_chat.json").chats
    await memory.messages.remember(Message(chat_id=42, message_id=2, text="mine"))
    summary = await import_chats(memory, chats, into=42)
    assert summary.imported == 13 and (await memory.messages.get(42, 2)).text == "mine"
    with pytest.raises(ImportFileError, match="--into takes one"):
        await import_chats(memory, load(FIXTURES / "telegram_account.json").chats, into=42)


async def test_engram_export_round_trips(tmp_path, embedder):
    async with Memory(tmp_path / "a.db", embedder) as source:
        await source.messages.remember(Message(chat_id=7, message_id=1, text="My dog is called Rex", sender_name="Ana",
                                               sender_id=7, created_at=1_700_000_000.0))
        await source.messages.remember(Message(chat_id=7, message_id=2, text="Rex is a good name", role="assistant",
                                               sender_name="Engram", reply_to=1, created_at=1_700_000_005.0,
                                               meta={"forwarded_from": {"name": "Bo"}}))
        document = await actions.export(source, 7)
    path = tmp_path / "engram-chat-7.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    async with Memory(tmp_path / "b.db", embedder) as target:
        summary = await import_chats(target, load(path).chats)
        assert summary.imported == 2
        moved = await target.messages.recent(7, 10)
        assert [(m.message_id, m.text, m.role, m.sender_name, m.created_at, m.reply_to) for m in moved] == [
            (1, "My dog is called Rex", "user", "Ana", 1_700_000_000.0, None),
            (2, "Rex is a good name", "assistant", "Engram", 1_700_000_005.0, 1)]
        assert moved[1].meta["forwarded_from"] == {"name": "Bo"}
        assert (await import_chats(target, load(path).chats)).imported == 0


@pytest.mark.parametrize(("content", "problem"), [
    (b'{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "type": "mess', "cut short"),
    (b"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"/><title>Exported Data</title>", "HTML export"),
    (b'{"users": [1, 2, 3]}', "not a Telegram or Engram chat export"),
    (b'[1, 2, 3]', "not a chat export"),
    (b'{"name": "x", "type": "personal_chat", "id": 1, "messages": []}', "holds no messages"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"", r"is empty \(0 bytes\): nothing to import"),
    (b" \r\n\t", r"is empty \(only blanks\)"),
    (b"hello", "not valid JSON: Expecting value"),
    (b"x", "not valid JSON: Expecting value"),
])
async def test_broken_or_wrong_files_get_one_line_and_change_nothing(memory: Memory, tmp_path, content, problem):
    path = tmp_path / "result.json"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=problem) as caught:
        load(path)
    message = str(caught.value)
    assert ("cut short" in message) == (problem == "cut short")  # only JSON that stops half-way is "cut short"
    assert "\n" not in message and ("Format: JSON" in message or "no messages" in message)
    assert await memory.messages.count() == 0


def test_html_folder_and_control_characters_as_telegram_writes_them(tmp_path):
    (tmp_path / "messages.html").write_text("<!DOCTYPE html>", encoding="utf-8")
    with pytest.raises(ImportFileError, match="HTML export"):
        load(tmp_path)
    # Telegram Desktop writes a control character as \xNN (not JSON); an escaped backslash stays one.
    raw = (b'{"name": "x", "type": "personal_chat", "id": 5, "messages": [{"id": 1, "type": "message", '
           b'"date_unixtime": "1700000000", "from": "A", "from_id": "user5", "text": "bell\\x07 and \\\\x41"}]}')
    (chat,) = parse(raw).chats
    (message,) = to_messages(chat, 5, Summary())
    assert message.text == "bell\x07 and \\x41"


def test_messages_that_cannot_be_read_are_counted_as_errors():
    raw = json.dumps({"name": "x", "type": "personal_chat", "id": 5, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "soon", "text": "bad date"},
        {"id": 2, "type": "message", "date_unixtime": "1700000000", "text": "fine"},
        "not an object"]}).encode()
    summary = Summary()
    (message,) = to_messages(parse(raw).chats[0], 5, summary)
    assert message.text == "fine" and summary.error_count == 1 and summary.skipped["malformed"] == 1


def test_what_import_in_a_chat_takes_and_refuses():
    from bot.commands.actions import UsageError
    from bot.importing import live

    assert live.request("", 5, owner_private=False) == live.ImportRequest(5, "")
    assert live.request("into -100123 Book Club", 5, owner_private=True) == live.ImportRequest(-100123, "Book Club")
    with pytest.raises(UsageError, match="Only the bot's owner"):
        live.request("into -100123", 5, owner_private=False)
    account = load(FIXTURES / "telegram_account.json")
    with pytest.raises(UsageError, match="holds 4 chats"):
        live.choose(account, "")
    assert [c.name for c in live.choose(account, "Book Club")] == ["Book Club"]
    assert live.too_big(25 * 2**20, self_hosted=False).startswith("This file is 25 MB")
    assert live.too_big(25 * 2**20, self_hosted=True) is None and live.too_big(1000, self_hosted=False) is None
