"""The command line with the real embedding model: import, then `search --json` and `stats --json` for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures"
HIKING = -1001234567890


def run(capsys, config: Path, *argv: str) -> str:
    capsys.readouterr()
    assert main(["--config", str(config), *argv]) == 0
    return capsys.readouterr().out


def test_import_then_search_and_stats_as_json(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  path: {tmp_path / 'engram.db'}\n", encoding="utf-8")
    dry = run(capsys, config, "import", str(FIXTURES / "telegram_chat.json"), "--dry-run")
    assert "Dry run, nothing stored: Hiking Club → chat -1001234567890" in dry and "Would import 13 messages" in dry
    out = run(capsys, config, "import", str(FIXTURES / "telegram_chat.json"))
    assert "13 messages imported, 0 already present, 6 skipped, 0 errors" in out
    assert "Skipped: service 2" in out
    hits = json.loads(run(capsys, config, "search", str(HIKING), "who", "brings", "the", "map?", "--json"))
    best = hits[0]
    assert {"message_id", "sender", "date", "text", "score"} <= set(best)
    assert (best["message_id"], best["sender"], best["date"]) == (4, "Carla Díaz", "2024-03-02T10:03:00+00:00")
    assert best["text"] == "I'll bring the map and some snacks" and best["score"] > 0
    stats = json.loads(run(capsys, config, "stats", "--chat-id", str(HIKING), "--json"))
    assert stats["messages"] == 13 and stats["first"] == "2024-03-02T10:01:00+00:00"
    text = run(capsys, config, "stats", "--chat-id", str(HIKING))
    assert f"Chat {HIKING}: 13 messages stored (13 from people)" in text
    assert main(["--config", str(config), "import", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
