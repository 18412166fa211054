"""Configuration: defaults, overrides, and clear errors for bad input."""

from __future__ import annotations

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_shipped_config_loads_with_defaults():
    config = load_config("config.yaml", env={})
    assert config.embedding.model == "all-MiniLM-L6-v2"
    assert config.llm.backend == "transformers" and config.telegram.mode == "polling"
    assert config.resolve(config.storage.path).name == "engram.db"


def test_missing_default_file_means_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).recall.k == 6


def test_environment_overrides_and_token(tmp_path):
    path = write(tmp_path, "recall:\n  k: 3\n")
    env = {"ENGRAM_RECALL__K": "9", "ENGRAM_TELEGRAM__ALLOWED_USER_IDS": "[1, 2]",
           "TELEGRAM_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"}
    config = load_config(path, env=env)
    assert config.recall.k == 9 and config.telegram.allowed_user_ids == [1, 2]
    assert config.telegram.checked_token().startswith("123456:")
    assert config.base_dir == tmp_path


@pytest.mark.parametrize(
    "text, message",
    [
        ("recall: [1, 2]", "recall: expected a mapping"),
        ("recall:\n  k: lots", "recall.k: expected a number"),
        ("recall:\n  k: 2.5", "whole number"),
        ("recal:\n  k: 2", "unknown key(s) recal"),
        ("llm:\n  backend: gpt", "llm.backend: 'gpt' is not one of"),
        ("embedding:\n  device: gpu", "embedding.device"),
        ("reminders:\n  timezone: Mars/Base", "unknown time zone"),
        ("telegram:\n  mode: webhook", "webhook.url is empty"),
        ("storage: {path: [", "not valid YAML"),
        ("- a\n- b", "top level must be a mapping"),
        ("telegram:\n  allowed_user_ids: [abc]", "allowed_user_ids[0]: expected a number"),
    ],
)
def test_malformed_config_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    assert message in str(err.value)


def test_named_config_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", env={})


@pytest.mark.parametrize("token, message", [("", "No Telegram bot token"), ("not-a-token", "malformed"),
                                            ("123:short", "malformed")])
def test_token_errors_say_what_to_do(tmp_path, token, message):
    config = load_config(write(tmp_path, "{}"), env={"TELEGRAM_BOT_TOKEN": token} if token else {})
    with pytest.raises(ConfigError, match=message):
        config.telegram.checked_token()
