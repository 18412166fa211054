"""`./engram` called from another folder: paths on its command line are the caller's, while the repository's
.venv and config.yaml (and the folders the config names, read from its own folder) are still found."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # the import loads the real embedding model (~10 s): one run only

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


def test_import_of_a_relative_path_from_another_folder(tmp_path):
    caller = tmp_path / "elsewhere"
    (caller / "rel").mkdir(parents=True)
    (caller / "rel" / "result.json").write_bytes((FIXTURES / "telegram_chat.json").read_bytes())
    db = tmp_path / "engram.db"
    env = {k: v for k, v in os.environ.items() if k != "ENGRAM_CONFIG"}
    env["ENGRAM_STORAGE__PATH"] = str(db)
    done = subprocess.run([str(REPO / "engram"), "import", "rel/result.json", "--into", "77"], cwd=caller, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "13 messages imported" in done.stdout, done.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages WHERE chat_id = 77").fetchone()[0] == 13
    # The repository's config was used: its model cache (llm.cache_dir, relative to it) is the repository's, so
    # nothing was exported into the caller's folder.
    assert sorted(p.name for p in caller.iterdir()) == ["rel"]
