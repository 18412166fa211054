"""Issue 24, item 3 with the real default models: `./engram chat` driven through a pseudo-terminal, a reminder and a
forget asked in words (tests/test_actions.py: the same in Telegram, with a scripted model)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def test_actions_in_words_with_the_real_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGRAM_") and k != "TELEGRAM_BOT_TOKEN"}
    env.update(ENGRAM_STORAGE__PATH=str(tmp_path / "actions.db"), ENGRAM_LLM__CACHE_DIR=str(REPO / ".cache" / "models"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    child = pexpect.spawn(sys.executable, ["-m", "bot", "chat"], cwd=str(REPO), env=env, encoding="utf-8",
                          timeout=300, dimensions=(40, 300))

    def say(text: str) -> str:
        child.sendline(text)
        child.expect_exact("you> ")
        return child.before

    try:
        child.expect("Engram is ready")
        child.expect_exact("you> ")
        set_ = say("Remind me in 2 minutes to take the bread out of the oven.")
        assert "⏰ OK, I will remind you on " in set_ and ": take the bread out of the oven" in set_
        assert "Noted" not in set_
        assert "Noted: The wifi password at home is tulip77." in say("The wifi password at home is tulip77.")
        before = say("What is the wifi password at home?")
        assert "tulip77" in before  # the model answers from memory before the forget (it is what goes)
        child.sendline("Please forget the wifi password I told you.")
        child.expect_exact("[y/N] ")
        assert "Forget these" in child.before and "tulip77" in child.before and "Noted —" not in child.before
        done = say("y")
        assert "Forgotten: " in done
        after = say("What is the wifi password at home?")
        assert after.strip() and "tulip77" not in after
        listing = say("what reminders do I have?")
        assert "take the bread out of the oven" in listing
        assert "Cancelled #1: take the bread out of the oven" in say("cancel the bread reminder")
        child.sendline("/quit")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
