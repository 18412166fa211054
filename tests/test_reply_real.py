"""The reply engine end to end with the real default models: MiniLM for memory, SmolLM2-135M for the reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.llm import build_llm
from bot.services import build_assistant
from memory import Memory, Message

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
async def assistant(tmp_path, minilm):
    config = load_config(REPO / "config.yaml", env={})
    config.llm.cache_dir = str(REPO / ".cache" / "models")  # the converted default model, shared between runs
    config.llm.max_new_tokens = 24
    memory = Memory(tmp_path / "reply.db", minilm)
    llm = build_llm(config)
    await memory.start()
    await llm.start()
    yield build_assistant(config, memory, llm)
    await llm.stop()
    await memory.stop()


async def test_a_remembered_fact_reaches_the_reply_and_stays_in_its_chat(assistant):
    await assistant.remember(Message(1, 1, "My dog is called Rex", sender_id=7, sender_name="Ana"))
    chunks = []
    reply = await assistant.answer(Message(1, 2, "What is my dog's name?", sender_id=7, sender_name="Ana"))
    async for chunk in reply:
        chunks.append(chunk)
    assert len(chunks) > 1  # streamed, not delivered in one piece
    assert "rex" in reply.text.lower(), reply.prompt.messages
    assert (await assistant.memory.get(1, 3)).text == reply.text  # the reply is stored

    other = await assistant.reply_text(Message(2, 1, "What is my dog's name?", sender_id=8, sender_name="Bo"))
    assert other.recalled == []
    assert all("Rex" not in m["content"] for m in other.prompt.messages)
    assert "rex" not in other.text.lower()
