"""Language models behind one small interface (bot.llm.base.LLM); build_llm picks the configured backend.

Backends import their heavy libraries (torch, transformers, httpx) lazily, so importing bot.llm stays cheap.
"""

from __future__ import annotations

from bot.config import Config, LLMBackend, LLMRuntime
from bot.llm.base import LLM, ChatMessage, GenerationSettings

__all__ = ["LLM", "ChatMessage", "GenerationSettings", "build_llm", "settings_from_config"]


def build_llm(config: Config) -> LLM:
    """The configured language model, not started yet (`await llm.start()` loads it / opens the client)."""
    llm = config.llm
    if llm.backend is LLMBackend.OPENAI:
        from bot.llm.openai_compat import OpenAICompatLLM

        o = llm.openai
        return OpenAICompatLLM(
            o.base_url,
            o.model,
            api_key_env=o.api_key_env,
            timeout=o.timeout,
            retries=o.retries,
            context_window=llm.context_window,
        )
    if llm.runtime is not LLMRuntime.TRANSFORMERS:
        from bot.llm.onnx_local import OnnxLLM

        return OnnxLLM(
            llm.model,
            runtime=llm.runtime,
            precision=llm.onnx_precision,
            device=llm.device,
            dtype=llm.dtype,
            threads=llm.threads,
            cache_dir=config.resolve(llm.cache_dir),
            context_window=llm.context_window,
        )
    from bot.llm.local import TransformersLLM

    return TransformersLLM(
        llm.model,
        device=llm.device,
        dtype=llm.dtype,
        threads=llm.threads,
        cache_dir=config.resolve(llm.cache_dir),
        context_window=llm.context_window,
    )


def settings_from_config(config: Config) -> GenerationSettings:
    """Generation settings with the configured defaults (max_new_tokens, temperature)."""
    return GenerationSettings(max_new_tokens=config.llm.max_new_tokens, temperature=config.llm.temperature)
