"""`python -m bot chat` driven as a person would, through a pseudo-terminal, with the real default models."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_terminal_chat_remembers_and_streams(tmp_path):
    env = dict(os.environ, ENGRAM_STORAGE__PATH=str(tmp_path / "chat.db"),
               ENGRAM_LLM__CACHE_DIR=str(REPO / ".cache" / "models"), ENGRAM_LLM__MAX_NEW_TOKENS="24",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    child = pexpect.spawn(sys.executable, ["-m", "bot", "chat"], cwd=str(REPO), env=env, encoding="utf-8",
                          timeout=300, dimensions=(40, 200))
    try:
        child.expect("Engram is ready")
        child.expect_exact("you> ")
        child.sendline("My dog is called Rex.")
        child.expect_exact("engram> ")
        child.expect_exact("you> ")
        child.sendline("What is my dog's name?")
        child.expect_exact("engram> ")
        child.expect_exact("you> ")
        answer = child.before
        assert "rex" in answer.lower(), answer
        child.sendline("/why")
        child.expect_exact("you> ")
        assert "My dog is called Rex." in child.before
        child.sendline("/search puppy")
        child.expect_exact("you> ")
        entries = re.split(r"\r?\n\r?\n", child.before)  # "Search: puppy", then the hits, best first
        # every message of this chat is about the dog and matches "puppy" by meaning alone: in any order
        assert any("My dog is called Rex." in entry for entry in entries[1:])
        child.sendline("/compare car | truck")
        child.expect_exact("you> ")
        assert "Cosine similarity" in child.before and "Euclidean distance" in child.before
        child.sendline("/quit")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0

    # The chat id is persistent: a second session remembers the first.
    again = pexpect.spawn(sys.executable, ["-m", "bot", "chat"], cwd=str(REPO), env=env, encoding="utf-8",
                          timeout=300)
    try:
        again.expect(r"Engram is ready \(.*; (\d+) messages? remembered")
        assert int(again.match.group(1)) == 4
        again.sendline("/quit")
        again.expect(pexpect.EOF, timeout=60)
    finally:
        again.close(force=True)
