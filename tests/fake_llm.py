"""ScriptedLLM: a predictable stand-in for a language model in prompt, assistant and bot tests.

    llm = ScriptedLLM(["first reply", "second reply"])          # replies in turn (the last one repeats)
    llm = ScriptedLLM(lambda messages: "echo: " + messages[-1]["content"])

It streams the reply word by word (with `chunk_delay` seconds between words, so tests can cancel mid-reply or
check the event loop stays free), honours max_new_tokens (one token per word), stop strings and `cancel`,
counts tokens by words, and records every call in `calls` so tests can inspect the prompt that was sent.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm.base import ChatMessage, GenerationSettings
from bot.llm.stops import StopScanner

Script = list[str] | str | Callable[[list[ChatMessage]], str]


class ScriptedLLM:
    def __init__(
        self,
        script: Script = "OK.",
        *,
        chunk_delay: float = 0.0,
        context_window: int = 2048,
        fail_with: LLMError | None = None,
        name: str = "scripted",
    ):
        self.name = name
        self.context_window = context_window
        self.chunk_delay = chunk_delay
        self.fail_with = fail_with  # raised after the first chunk, to test half-finished replies
        self.calls: list[tuple[list[ChatMessage], GenerationSettings]] = []
        self.started = False
        self.active = 0  # generations running right now
        self.max_active = 0
        self._script = [script] if isinstance(script, str) else script
        self._turn = 0

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Words plus four per message for the template: rough, but monotone and deterministic."""
        return sum(len(m.get("content", "").split()) + 4 for m in messages) + 2

    def _reply(self, messages: list[ChatMessage]) -> str:
        if callable(self._script):
            return self._script(messages)
        reply = self._script[min(self._turn, len(self._script) - 1)]
        self._turn += 1
        return reply

    async def stream(
        self,
        messages: list[ChatMessage],
        settings: GenerationSettings | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[str]:
        if not self.started:
            raise LLMUnavailable("the scripted LLM was not started")
        settings = settings or GenerationSettings()
        self.calls.append(([dict(m) for m in messages], settings))
        words = _words(self._reply(messages))[: settings.max_new_tokens]
        stops = StopScanner(settings.stop)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            for i, word in enumerate(words):
                if cancel is not None and cancel.is_set():
                    raise GenerationCancelled("the reply was cancelled")
                if self.fail_with is not None and i == 1:
                    raise self.fail_with
                text = stops.feed(word)
                if text:
                    yield text
                if stops.hit:
                    return
                await asyncio.sleep(self.chunk_delay)
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled("the reply was cancelled")
            tail = stops.flush()
            if tail:
                yield tail
        finally:
            self.active -= 1


def _words(text: str) -> list[str]:
    """Split into words that keep their leading space, so joining the chunks gives the text back."""
    pieces, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or (text[i] == " " and text[i - 1] != " "):
            pieces.append(text[start:i])
            start = i
    return pieces
