"""`python -m bot chat` driven as a person would, through a pseudo-terminal, with the real default models."""

from __future__ import annotations

import os
import re
import subprocess
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


# ----- the README's example conversation is a real transcript (issue 25) ---------------------------------------------
README = REPO / "README.md"
CITED_DAY = re.compile(r"^— \d{4}-\d\d-\d\d, ")  # a citation's date: the day the test runs, not the README's
REMINDER_TIME = re.compile(r"remind you on \w{3} \d\d \w{3} \d{4} \d\d:\d\d ")  # two minutes after the test's now


def readme_transcript() -> list[tuple[str, list[str]]]:
    """The README's example conversation: each `you>` line with the lines Engram answered (reply, citation)."""
    block = re.search(r"\n((?:    (?:you> |engram> |— |\(#).*\n)+)", README.read_text())
    assert block, "the README's example conversation is missing"
    turns: list[tuple[str, list[str]]] = []
    for line in block[1].splitlines():
        line = line[4:]
        if line.startswith("you> "):
            turns.append((line[len("you> "):], []))
        else:
            turns[-1][1].append(line)
    return turns


def normal(lines: list[str]) -> list[str]:
    return [REMINDER_TIME.sub("remind you on TIME ", CITED_DAY.sub("— DAY, ", line.strip()))
            for line in lines if line.strip()]


def test_the_readme_conversation_is_what_the_terminal_chat_answers(tmp_path):
    """Replayed on a fresh database with the default model and settings (greedy: deterministic)."""
    turns = readme_transcript()
    assert len(turns) >= 6 and all(lines and lines[0].startswith("engram> ") for _, lines in turns)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGRAM_") and k != "TELEGRAM_BOT_TOKEN"}
    env.update(ENGRAM_STORAGE__PATH=str(tmp_path / "readme.db"), ENGRAM_LLM__CACHE_DIR=str(REPO / ".cache" / "models"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    child = pexpect.spawn(sys.executable, ["-m", "bot", "chat"], cwd=str(REPO), env=env, encoding="utf-8",
                          timeout=300, dimensions=(40, 400))
    got = []
    try:
        child.expect("Engram is ready")
        child.expect_exact("you> ")
        for said, _ in turns:
            child.sendline(said)
            child.expect_exact("engram> ")
            child.expect_exact("you> ")
            reply, *rest = child.before.splitlines() or [""]
            got.append(["engram> " + reply, *rest])
        child.sendline("/quit")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    for (said, expected), answered in zip(turns, got):
        assert normal(answered) == normal(expected), f"README: you> {said}"


# ----- `run` without a token: the terminal chat, typed or piped (issue 25) -------------------------------------------
def no_token_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGRAM_") and k != "TELEGRAM_BOT_TOKEN"}
    env.update(ENGRAM_STORAGE__PATH=str(tmp_path / "run.db"), ENGRAM_LLM__CACHE_DIR=str(REPO / ".cache" / "models"),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ENGRAM_LLM__MAX_NEW_TOKENS="16")
    return env


def test_run_without_a_token_chats_with_lines_piped_in(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=REPO, env=no_token_env(tmp_path), timeout=300,
                          input="My cat is called Miso.\n/quit\n", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "starting the terminal chat" in done.stdout
    assert "engram> Noted: your cat is called Miso." in done.stdout


def test_run_without_a_token_or_any_input_says_how_to_set_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=REPO, env=no_token_env(tmp_path), timeout=120,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)
    assert done.returncode == 2
    assert "No Telegram bot token" in done.stderr and "no input for the terminal chat" in done.stderr
    assert "Engram is ready" not in done.stdout


def test_what_counts_as_input_for_the_terminal_chat(tmp_path):
    from handlers.app import has_input

    read, write = os.pipe()
    with os.fdopen(read) as pipe, open(os.devnull) as null, open(tmp_path / "lines.txt", "w+") as file:
        os.close(write)
        assert has_input(pipe) and has_input(file)
        assert not has_input(null)
    assert not has_input(pipe) and not has_input(None)  # closed
