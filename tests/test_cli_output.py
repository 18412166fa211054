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
