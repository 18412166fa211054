"""Build the long-lived services from the config. The one place that picks implementations."""

from __future__ import annotations

from bot.config import Config
from bot.llm import LLM, settings_from_config
from bot.reply.assistant import Assistant
from bot.topics.service import TopicService
from memory import Embedder, Memory
from memory.embedder import load_embedder


def build_embedder(config: Config) -> Embedder:
    """The configured embedding model; its ONNX export is cached beside the LLM's converted files."""
    e = config.embedding
    return load_embedder(e.model, device=e.device, batch_size=e.batch_size, runtime=e.runtime,
                         cache_dir=config.resolve(config.llm.cache_dir), openai=e.openai.arguments())


def build_memory(config: Config, embedder: Embedder | None = None) -> Memory:
    """A Memory on the configured database (not started: `await memory.start()`)."""
    return Memory(
        config.resolve(config.storage.path),
        embedder or build_embedder(config),
        on_model_change=config.embedding.on_model_change,
    )


def build_assistant(config: Config, memory: Memory, llm: LLM) -> Assistant:
    """The Assistant over a memory and an LLM, with the configured prompt, recall and generation settings."""
    return Assistant(memory, llm, recall=config.recall, assistant=config.assistant,
                     settings=settings_from_config(config), timezone=config.reminders.timezone,
                     model_languages=config.llm.languages)


def topics_cache_dir(config: Config) -> str:
    """Where numba's compiled clustering code is kept (`numba/` in it): beside the models' cache."""
    return str(config.resolve(config.llm.cache_dir).parent)


def build_topics(config: Config, memory: Memory) -> TopicService:
    """Topics, maps and timelines of the memory."""
    return TopicService(memory, cache_dir=topics_cache_dir(config))
