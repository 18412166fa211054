"""Configuration: defaults, overrides, and clear errors for bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

from bot.config import (
    BusyPolicy,
    Device,
    DType,
    EmbeddingRuntime,
    LLMBackend,
    OnModelChange,
    Statements,
    TelegramMode,
    UnknownOutcome,
    load_config,
)
from bot.errors import ConfigError
from memory.models import RecallMethod

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path, text: str):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_shipped_config_loads_with_defaults():
    config = load_config("config.yaml", env={})
    assert config.embedding.model == "multilingual-e5-small"
    assert config.llm.backend is LLMBackend.TRANSFORMERS and config.telegram.mode is TelegramMode.POLLING
    assert config.assistant.citations is True and config.assistant.busy_policy is BusyPolicy.QUEUE
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


# ----- choices: enums and on/off booleans -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("on", True), ("off", False), ("true", True), ("false", False), ("yes", True), ("no", False),
    ('"on"', True), ('"off"', False), ("'Off'", False),  # quoted: a string, read the same
])
def test_citations_is_on_or_off_in_yaml(tmp_path, text, expected):
    config = load_config(write(tmp_path, f"assistant:\n  citations: {text}\n"), env={})
    assert config.assistant.citations is expected


@pytest.mark.parametrize("value, expected", [("on", True), ("off", False), ("true", True), ("false", False),
                                             ("yes", True), ("no", False)])
def test_citations_is_on_or_off_in_the_environment(tmp_path, value, expected):
    config = load_config(write(tmp_path, "{}"), env={"ENGRAM_ASSISTANT__CITATIONS": value})
    assert config.assistant.citations is expected


@pytest.mark.parametrize("text", ["maybe", "1", "[on]"])
def test_citations_rejects_anything_else(tmp_path, text):
    with pytest.raises(ConfigError, match=r"assistant\.citations: expected true or false"):
        load_config(write(tmp_path, f"assistant:\n  citations: {text}\n"), env={})


CHOICES: list[tuple[str, str, type[Enum]]] = [
    ("embedding", "device", Device),
    ("embedding", "runtime", EmbeddingRuntime),
    ("embedding", "on_model_change", OnModelChange),
    ("llm", "backend", LLMBackend),
    ("llm", "device", Device),
    ("llm", "dtype", DType),
    ("assistant", "busy_policy", BusyPolicy),
    ("assistant", "statements", Statements),
    ("telegram", "mode", TelegramMode),
    ("reminders", "unknown_outcome", UnknownOutcome),
]
EACH_VALUE = [(section, key, member) for section, key, enum in CHOICES for member in enum]


def setting(config, section: str, key: str):
    return getattr(getattr(config, section), key)


WEBHOOK_URL = "telegram:\n  webhook:\n    url: https://example.org/hook\n"  # so that mode: webhook is valid


@pytest.mark.parametrize("section, key, member", EACH_VALUE, ids=lambda v: str(v))
def test_each_choice_takes_each_value_from_yaml(tmp_path, section, key, member):
    extra = WEBHOOK_URL if section != "telegram" else "  webhook:\n    url: https://example.org/hook\n"
    text = f"{section}:\n  {key}: {member.value}\n" + extra
    assert setting(load_config(write(tmp_path, text), env={}), section, key) is member


@pytest.mark.parametrize("section, key, member", EACH_VALUE, ids=lambda v: str(v))
def test_each_choice_takes_each_value_from_the_environment(tmp_path, section, key, member):
    env = {f"ENGRAM_{section.upper()}__{key.upper()}": member.value,
           "ENGRAM_TELEGRAM__WEBHOOK__URL": "https://example.org/hook"}
    assert setting(load_config(write(tmp_path, "{}"), env=env), section, key) is member


@pytest.mark.parametrize("section, key, enum", CHOICES, ids=lambda v: str(v))
def test_an_unknown_choice_names_the_key_the_value_and_the_allowed_ones(tmp_path, section, key, enum):
    expected = f"{section}.{key}: 'sometimes' is not one of {', '.join(member.value for member in enum)}"
    for text, env in [(f"{section}:\n  {key}: sometimes\n", {}),
                      ("{}", {f"ENGRAM_{section.upper()}__{key.upper()}": "sometimes"})]:
        with pytest.raises(ConfigError) as err:
            load_config(write(tmp_path, text), env=env)
        assert str(err.value) == expected


def test_a_choice_that_yaml_reads_as_a_boolean_or_number_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"assistant\.busy_policy: True is not one of queue, cancel"):
        load_config(write(tmp_path, "assistant:\n  busy_policy: on\n"), env={})


def test_memory_accepts_its_choices_as_members_or_their_strings():
    assert OnModelChange("reembed") is OnModelChange.REEMBED and UnknownOutcome("drop") is UnknownOutcome.DROP
    assert RecallMethod("keyword") is RecallMethod.KEYWORD
    with pytest.raises(ValueError):
        RecallMethod("fuzzy")


CHOICE_STRING = re.compile(
    r"""(==|!=|\bin\s*\(?)\s*["'](on|off|queue|cancel|note|model|refuse|reembed|resend|drop|polling|webhook|"""
    r"""transformers|openai|auto|cpu|cuda|onnx|torch|float32|bfloat16|float16|hybrid|vector|keyword)["']""")


def test_code_compares_choices_with_members_not_strings():
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for package in ("bot", "handlers", "memory") for path in sorted((ROOT / package).rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if CHOICE_STRING.search(line)]
    assert not found, "\n".join(found)


def test_importing_the_config_loads_neither_the_database_nor_sqlite_vec():
    code = ("import sys, bot.config\n"
            "heavy = ('sqlite_vec', 'sqlite3', 'memory.db', 'memory.service', 'numpy')\n"
            "loaded = [m for m in heavy if m in sys.modules]\n"
            "assert not loaded, loaded")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
