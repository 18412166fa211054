"""The language-model interface every backend implements.

A chat message is {"role": "system" | "user" | "assistant", "content": str}. `stream` yields text chunks as
the model produces them; setting `cancel` stops generation within a token or two and the stream then raises
GenerationCancelled. Backends translate their library's errors into bot.errors.LLMError / LLMUnavailable.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

ChatMessage = dict[str, str]


@dataclass
class GenerationSettings:
    max_new_tokens: int = 256
    temperature: float = 0.0  # 0 = greedy
    stop: list[str] = field(default_factory=list)
    repetition_penalty: float = 1.0  # > 1 discourages repeating tokens (small models loop without it)


class LLM(Protocol):
    name: str
    context_window: int  # tokens the prompt and the reply may use together

    async def start(self) -> None:
        """Load the model / open the HTTP client. Idempotent."""

    async def stop(self) -> None:
        """Release what start() took. Idempotent."""

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Tokens the messages take once rendered with the chat template (exact where the backend can)."""

    def stream(
        self,
        messages: list[ChatMessage],
        settings: GenerationSettings | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[str]:
        """Generate a reply, yielding text chunks as they come."""
