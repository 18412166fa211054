"""Formatting for Telegram, checked with the fake server's HTML rules (the ones Telegram applies)."""

from __future__ import annotations

import argparse

import pytest
from fake_telegram import ApiError, visible_html

from bot.commands.views import percentile
from bot.config import ConfigError
from handlers.format import MESSAGE_LIMIT, split_text, to_html

HOSTILE = [
    "a < b and c > d",
    "AT&T &amp; &lt;not an entity&gt; &#60;",
    "<b>bold?</b> <script>alert(1)</script> </i>",
    "*star* _under_ __double__ ~tilde~ [link](http://x) \\ backslash",
    "`inline` and ``` unclosed fence with <tags>",
    "**bold** with `code <b>` inside",
    "```\ncode & <stuff>\n```\nafter",
    "``` ```",
    "`",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_model_output_renders_as_valid_telegram_html_and_keeps_its_characters(text):
    shown = visible_html(to_html(text))
    for word in ("<script>", "a < b", "AT&T", "&amp;", "*star*", "_under_", "<tags>", "<stuff>"):
        if word in text:
            assert word in shown


def test_the_fake_rejects_what_telegram_rejects():
    for bad in ("a < b", "<script>x</script>", "<b>unclosed", "</b>", "AT&T"):
        with pytest.raises(ApiError):
            visible_html(bad)
    assert visible_html("<b>x</b> &lt;y&gt;") == "x <y>"


def test_split_keeps_every_word_and_each_part_fits():
    text = "\n".join(f"line {i} " + "word " * 30 for i in range(200))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(len(visible_html(to_html(p))) <= MESSAGE_LIMIT for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_split_reopens_a_code_block_cut_in_two():
    text = "intro\n```\n" + "\n".join(f"x = {i}  # <comment>" for i in range(600)) + "\n```\nend"
    parts = split_text(text)
    assert len(parts) > 1
    for part in parts:
        assert part.count("```") % 2 == 0  # every part's block is closed …
        html = to_html(part)
        visible_html(html)
    assert parts[1].startswith("```")  # … and the next reopens it
    assert "<pre>" in to_html(parts[1])


def test_split_cuts_a_word_longer_than_a_message():
    parts = split_text("x" * 10000)
    assert [len(p) for p in parts][:2] == [len(parts[0])] * 2 and "".join(parts) == "x" * 10000
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)


def test_percentile_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 101)), 95) == 95


def test_telegram_command_without_a_token_is_a_clear_message(tmp_path, monkeypatch):
    from handlers import app

    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text("telegram:\n  token: ''\n")
    with pytest.raises(ConfigError, match="BotFather"):
        app.main(argparse.Namespace(config=str(config), mode=None))
    config.write_text("telegram:\n  token: 'not-a-token'\n")
    with pytest.raises(ConfigError, match="malformed"):
        app.main(argparse.Namespace(config=str(config), mode=None))


def test_file_url_follows_a_self_hosted_bot_api():
    from handlers.app import _file_url

    assert _file_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert _file_url("http://localhost:8081/bot") == "http://localhost:8081/file/bot"


def test_mention_is_cut_at_utf16_offsets_after_emoji():
    from telegram import Chat, Message, MessageEntity, User

    from handlers.messages import addressed_text

    text = "😀😀 @engram_bot what is my name?"
    entity = MessageEntity(MessageEntity.MENTION, offset=5, length=11)  # UTF-16: each emoji is 2 units
    message = Message(1, None, Chat(-5, "group"), text=text, entities=[entity],
                      from_user=User(7, "Ana", False))
    assert addressed_text(message, bot_id=99, username="engram_bot") == "😀😀 what is my name?"
