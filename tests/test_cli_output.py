"""What the command line prints, for people and for scripts: `stats` in dates, counts and words (and --json),
`search` without words as a usage error of its own, `import --dry-run` saying what it would import. A hash
embedder and no language model: none of these needs either."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.__main__ import main
from memory import HashEmbedder, Memory, Message

FIXTURES = Path(__file__).parent / "fixtures"


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    """A database the commands open (with a hash embedder), in a folder without a config.yaml."""
    path = tmp_path / "engram.db"
    for module in ("bot.cli.tools", "bot.importing.cli"):
        monkeypatch.setattr(f"{module}.build_memory", lambda config, embedder=None: Memory(path, HashEmbedder(64)))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENGRAM_CONFIG", raising=False)
    return path


def fill(path: Path, messages: list[Message]) -> None:
    async def run() -> None:
        async with Memory(path, HashEmbedder(64)) as memory:
            for message in messages:
                await memory.messages.remember(message)

    asyncio.run(run())


def out(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_stats_reads_in_dates_counts_and_words(db, capsys):
    fill(db, [Message(5, 1, "Where is the map?", sender_name="Ana", created_at=ts("2024-03-02T10:01:00")),
              Message(5, 2, "In the car.", role="assistant", created_at=ts("2024-03-02T10:20:00")),
              Message(6, 1, "Hello", sender_name="Bo", created_at=ts("2024-03-05T08:00:00"))])
    everything = out(capsys, "stats")
    assert everything.startswith("All chats: 3 messages stored in 2 chats (2 from people, 1 from Engram)\n")
    assert "Sent: 2024-03-02 10:01 – 2024-03-05 08:00 (UTC)" in everything
    assert "Embedding model: hash-embedder" in everything and "(64 dimensions)" in everything
    one = out(capsys, "stats", "--chat-id", "6")
    assert one.startswith("Chat 6: 1 message stored (1 from people)\nSent: 2024-03-05 08:00 (UTC)\n")
    assert "All chats: 3 messages in 2 chats" in one
    empty = out(capsys, "stats", "--chat-id", "999")
    assert empty.startswith("Chat 999: no messages stored yet\n") and "Sent:" not in empty
    for text in (everything, one, empty):  # no Python dict, no Unix seconds, no None
        assert "{" not in text and "None" not in text and "by_role" not in text and "1709" not in text
        assert "Language model" not in text  # no model runs here: no latencies to speak of


def test_stats_as_json_for_scripts(db, capsys):
    fill(db, [Message(5, 1, "Where is the map?", created_at=ts("2024-03-02T10:01:00")),
              Message(5, 2, "In the car.", role="assistant", created_at=ts("2024-03-02T10:20:00"))])
    chat = json.loads(out(capsys, "stats", "--chat-id", "5", "--json"))
    assert chat["first"] == "2024-03-02T10:01:00+00:00" and chat["last"] == "2024-03-02T10:20:00+00:00"
    assert (chat["chat_id"], chat["messages"], chat["by_role"]) == (5, 2, {"user": 1, "assistant": 1})
    assert (chat["total_messages"], chat["chats"], chat["embedding_dim"]) == (2, 1, 64)
    assert isinstance(chat["database_bytes"], int)
    empty = json.loads(out(capsys, "stats", "--chat-id", "999", "--json"))
    assert (empty["messages"], empty["first"], empty["last"], empty["by_role"]) == (0, None, None, {})


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_search_without_words_is_the_command_lines_usage_error(db, capsys, query):
    with pytest.raises(SystemExit) as exited:
        main(["search", "555", query])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: engram search" in err and "CHAT_ID QUERY" in err and "give something to search for" in err
    assert "/search" not in err  # not the chat's usage line


def test_a_dry_run_says_what_it_would_import_and_stores_nothing(db, capsys, caplog):
    caplog.set_level(logging.INFO, logger="bot.importing.run")
    printed = out(capsys, "import", str(FIXTURES / "telegram_chat.json"), "--dry-run")
    assert printed.startswith("Dry run, nothing stored: Hiking Club → chat -1001234567890\n")
    assert "Would import 13 messages; 0 already present, 6 skipped, 0 errors" in printed
    assert "imported" not in printed
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.importing.run"]
    assert "dry run, nothing stored" in line and "would import 13 messages" in line and "imported" not in line

    async def count() -> int:
        async with Memory(db, HashEmbedder(64)) as memory:
            return await memory.messages.count()

    assert asyncio.run(count()) == 0


def test_an_import_of_one_message_says_one_message(db, tmp_path, capsys):
    one = {"name": "Bo", "type": "personal_chat", "id": 5, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1700000000", "from": "Bo", "from_id": "user5", "text": "hi"}]}
    (tmp_path / "result.json").write_text(json.dumps(one), encoding="utf-8")
    assert "1 message imported, 0 already present, 0 skipped, 0 errors" in out(capsys, "import", "result.json")


def test_an_empty_file_is_called_empty(db, tmp_path, capsys):
    (tmp_path / "result.json").write_bytes(b"")
    assert main(["import", "result.json"]) == 2
    err = capsys.readouterr().err
    assert "result.json is empty (0 bytes): nothing to import" in err and "cut short" not in err
