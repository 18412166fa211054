"""Build the long-lived services from the config. The one place that picks implementations."""

from __future__ import annotations

from bot.config import Config
from memory import Memory, SentenceTransformerEmbedder


def build_embedder(config: Config) -> SentenceTransformerEmbedder:
    e = config.embedding
    return SentenceTransformerEmbedder(e.model, device=e.device, batch_size=e.batch_size)


def build_memory(config: Config, embedder=None) -> Memory:
    """A Memory on the configured database (not started: `await memory.start()`)."""
    return Memory(
        config.resolve(config.storage.path),
        embedder or build_embedder(config),
        on_model_change=config.embedding.on_model_change,
    )


def build_assistant(config: Config, memory: Memory, llm):
    """The Assistant over a memory and an LLM, with the configured prompt and generation settings."""
    from bot.assistant import Assistant
    from bot.llm import settings_from_config

    return Assistant(
        memory,
        llm,
        system_prompt=config.assistant.system_prompt,
        k=config.recall.k,
        recent_turns=config.recall.recent_turns,
        settings=settings_from_config(config),
        busy_policy=config.assistant.busy_policy,
        min_score=config.recall.min_score,
        min_relative_score=config.recall.min_relative_score,
    )
