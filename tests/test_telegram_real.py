"""End to end with the real models: MiniLM embeddings for search by meaning, the default LLM for one reply.

Slow (the models load once per session for MiniLM; the LLM once in its test), so only what the acceptance needs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, command, converse, until_stored

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[1]
ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP = -100777

UNRELATED = [
    "The weather is lovely today, sunny and warm", "I started learning the guitar last month",
    "Our team meeting moved to Thursday afternoon", "Has anyone read the new mystery novel?",
    "The train was twenty minutes late again", "I tried a new pasta recipe with mushrooms",
    "The football match ended in a draw", "My phone battery dies so quickly these days",
    "We should repaint the kitchen walls", "The museum has a new dinosaur exhibit",
    "I need to renew my passport soon", "The coffee machine at work is broken",
    "Let's plan a hike for next weekend", "The printer is out of toner again",
    "I watched a documentary about volcanoes", "The bakery on the corner sells great croissants",
    "My laptop needs a software update", "The garden tomatoes are finally ripe",
    "Traffic on the highway was terrible this morning", "I'm thinking about taking a pottery class",
    "The concert tickets sold out in minutes", "We ran out of milk and eggs",
    "The library extended its opening hours", "I finished the crossword puzzle in ten minutes",
    "The new bridge opens to traffic in May",
]


async def test_search_finds_by_meaning_without_a_shared_word(fake, tmp_path, minilm):
    config = bot_config(tmp_path, fake, allowed_chat_ids=[GROUP])
    async with bot_running(config, ScriptedLLM(echo_memories), minilm) as bot:
        last = None
        for text in ["I bought a new car", *UNRELATED[:10]]:
            last = await fake.text(GROUP, text, user_id=ALICE, name="Alice")
        await until_stored(bot, GROUP, last["message_id"], timeout=60)
        found = await command(fake, GROUP, "/search automobile", user_id=ALICE)
    results = found["text"].split("\n\n")[1:]
    assert "I bought a new car" in results[0], found["text"]


def real_llm(config):
    try:
        from bot.llm import build_llm
    except ImportError:  # the backend factory is not in this build yet: use the local backend directly
        from bot.llm.local import TransformersLLM

        llm = config.llm
        return TransformersLLM(llm.model, device=llm.device, dtype=llm.dtype, threads=llm.threads,
                               cache_dir=llm.cache_dir, context_window=llm.context_window)
    return build_llm(config)


FILLER_REPLIES = ["That sounds nice.", "Oh, really? Tell me more.", "Thanks for sharing that.", "Interesting!",
                  "Good to know.", "I hope it goes well.", "Noted, thank you."]


class FakeUntilAsked:
    """The real model for the reply under test; a scripted one for the 50 filler replies before it (50 real
    generations would take minutes on 2 cores). Token counts and the context window are the real model's."""

    def __init__(self, real):
        self.real = real
        self.filler = ScriptedLLM(lambda messages: FILLER_REPLIES[len(self.filler.prompts) % len(FILLER_REPLIES)])
        self.use_real = False
        self.name = real.name
        self.context_window = real.context_window

    async def start(self):
        await self.real.start()

    async def stop(self):
        await self.real.stop()

    def count_tokens(self, messages):
        return self.real.count_tokens(messages)

    def stream(self, messages, settings=None, cancel=None):
        self.last_prompt = messages
        return (self.real if self.use_real else self.filler).stream(messages, settings, cancel)


async def test_a_fact_from_fifty_messages_ago_reaches_the_real_models_reply(fake, tmp_path, minilm):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.llm.cache_dir = str(REPO / ".cache" / "models")  # the converted default model, shared between runs
    config.llm.max_new_tokens = 30
    llm = FakeUntilAsked(real_llm(config))
    async with bot_running(config, llm, minilm) as bot:
        await converse(fake, bot, ALICE, "My dog is called Biscuit.", timeout=60)
        for i in range(50):
            await converse(fake, bot, ALICE, UNRELATED[i % len(UNRELATED)] + f" ({i})", timeout=60)
        llm.use_real = True
        reply = await converse(fake, bot, ALICE, "What is my dog called?", timeout=400)
        why = await command(fake, ALICE, "/why")
    assert "biscuit" in reply.lower(), (reply, llm.last_prompt)
    assert "My dog is called Biscuit." in why["text"]
