"""ScriptedLLM: a predictable stand-in for a language model in prompt, assistant and bot tests.

    llm = ScriptedLLM(["first reply", "second reply"])          # replies in turn (the last one repeats)
    llm = ScriptedLLM(lambda messages: "echo: " + messages[-1]["content"])
    llm = ScriptedLLM(echo_memories, chunk=8, delay=0.02)       # 8 characters at a time, slowly

It streams the reply word by word (or `chunk` characters at a time), `delay` seconds apart, so tests can cancel
mid-reply or check the event loop stays free; honours max_new_tokens (one token per word, in word mode), stop
strings and `cancel`; counts tokens by words; records every call in `calls` (the prompts in `prompts`). With
`hold` (an asyncio.Event), a generation whose prompt passes `hold_if` waits for it first: a long generation on
demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm.base import ChatMessage, GenerationSettings
from bot.llm.stops import StopScanner

Script = list[str] | str | Callable[[list[ChatMessage]], str]


class ScriptedLLM:
    def __init__(
        self,
        reply: Script = "OK.",
        *,
        chunk: int | None = None,
        delay: float = 0.0,
        hold: asyncio.Event | None = None,
        hold_if: Callable[[list[ChatMessage]], bool] | None = None,
        context_window: int = 4096,
        fail_with: LLMError | None = None,
        name: str = "scripted-test-llm",
    ):
        self.name = name
        self.context_window = context_window
        self.reply = [reply] if isinstance(reply, str) else reply  # may be replaced by a test between turns
        self.chunk = chunk
        self.delay = delay
        self.hold = hold
        self.hold_if = hold_if or (lambda messages: True)
        self.fail_with = fail_with  # raised after the first chunk, to test half-finished replies
        self.calls: list[tuple[list[ChatMessage], GenerationSettings]] = []
        self.started = False
        self.active = 0  # generations running right now
        self.max_active = 0
        self._turn = 0

    @property
    def prompts(self) -> list[list[ChatMessage]]:
        return [messages for messages, _ in self.calls]

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Words plus four per message for the template: rough, but monotone and deterministic."""
        return sum(len(m.get("content", "").split()) + 4 for m in messages) + 2

    def _text(self, messages: list[ChatMessage]) -> str:
        if callable(self.reply):
            return self.reply(messages)
        if isinstance(self.reply, str):
            return self.reply
        text = self.reply[min(self._turn, len(self.reply) - 1)]
        self._turn += 1
        return text

    def _pieces(self, text: str, max_tokens: int) -> list[str]:
        if self.chunk is None:
            return _words(text)[:max_tokens]
        return [text[i:i + self.chunk] for i in range(0, len(text), self.chunk)]

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
        if self.hold is not None and self.hold_if(messages):
            await self.hold.wait()
        pieces = self._pieces(self._text(messages), settings.max_new_tokens)
        stops = StopScanner(settings.stop)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            for i, piece in enumerate(pieces):
                if cancel is not None and cancel.is_set():
                    raise GenerationCancelled("the reply was cancelled")
                if self.fail_with is not None and i == 1:
                    raise self.fail_with
                text = stops.feed(piece)
                if text:
                    yield text
                if stops.hit:
                    return
                await asyncio.sleep(self.delay)
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


def echo_memories(messages: list[ChatMessage]) -> str:
    """'You said: …' plus every memory line of the last message: shows exactly what recall put in the prompt."""
    from bot.reply.prompt import ANSWER_CUE

    last = messages[-1]["content"]
    memories = [line[2:] for line in last.splitlines() if line.startswith("- ")]
    said = last.rpartition(ANSWER_CUE)[2] if memories else last
    return f"You said: {said}\n" + ("I recall:\n" + "\n".join(memories) if memories else "No memories.")
