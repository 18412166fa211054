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
