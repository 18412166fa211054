"""`./engram import` as a real process with the real embedding model, killed with SIGKILL half-way through and
run again: the second run completes the import, with no message twice and every message with its vector."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import telegram_export

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
CHAT = -1001234567890


def stored(db: Path) -> int:
    """Messages committed so far, read from another connection (the messages table needs no extension)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def run_import(config: Path, export: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGRAM_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_WAIT_POLICY="PASSIVE", TOKENIZERS_PARALLELISM="false")
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "import", str(export)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_an_import_killed_half_way_completes_on_the_next_run_without_duplicates(tmp_path):
    export = telegram_export.write(tmp_path / "result.json", 1500)
    db = tmp_path / "engram.db"
    config = tmp_path / "config.yaml"
    # all-MiniLM-L6-v2, not the default multilingual-e5-small: this is about resuming an import, not the model, and
    # MiniLM embeds the 1,500 messages ~2x faster (157 s for the test with e5 at load ~5)
    config.write_text(f"storage:\n  path: {db}\nembedding:\n  model: all-MiniLM-L6-v2\n", encoding="utf-8")
    first = run_import(config, export)
    deadline = time.monotonic() + 240
    while stored(db) < 400 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.poll() is None, f"the import ended before it could be killed: {first.communicate()}"
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    half = stored(db)
    assert 400 <= half < 1400
    second = run_import(config, export)
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    assert f"{half:,} already present" in out
    third = run_import(config, export)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0 and "0 messages imported" in out, (out, err)
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT message_id) FROM messages").fetchone()
        vectors = conn.execute("SELECT count(*) FROM message_vectors").fetchone()[0]
        chats = conn.execute("SELECT DISTINCT chat_id FROM messages").fetchall()
    expected = sum(1 for _ in telegram_export.generate(1500)["messages"])
    assert total == distinct == vectors and chats == [(CHAT,)]
    assert half < total <= expected
