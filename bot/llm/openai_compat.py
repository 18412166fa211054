"""The `openai` backend: any server speaking OpenAI's /v1/chat/completions with streaming (server-sent events).

Ollama, vLLM, llama.cpp's server and LM Studio all do. Connection failures, timeouts and 5xx answers are retried
with backoff, but only before the first token: once text has been shown to the user, a retry would repeat it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm.base import ChatMessage, GenerationSettings
from bot.llm.stops import StopScanner

if TYPE_CHECKING:  # imported lazily at start(): importing bot.llm stays cheap
    import httpx

log = logging.getLogger(__name__)

_RETRY_BASE_SECONDS = 0.5
_RETRY_MAX_SECONDS = 8.0


class _Retryable(Exception):
    """A failure worth another attempt (server down, timeout, 5xx); carries the user-facing error."""

    def __init__(self, error: LLMError):
        super().__init__(str(error))
        self.error = error


class OpenAICompatLLM:
    """Streams chat completions from an OpenAI-compatible server. Nothing is sent until the first stream()."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        retries: int = 2,
        context_window: int = 2048,
    ):
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.context_window = context_window
        self.timeout = timeout
        self.retries = max(0, retries)
        self._api_key = api_key or os.environ.get(api_key_env, "")
        self._api_key_env = api_key_env
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        import httpx

        if self._client is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            # Connecting should be quick; reading may legitimately wait (a busy server queues requests).
            timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0))
            self._client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=timeout)

    async def stop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """An ESTIMATE (the server's tokenizer is not available here): one token per 3 characters, plus a few
        tokens of chat-template overhead per message. English runs nearer 4 characters a token, so this errs high
        and a prompt trimmed with it still fits."""
        return sum(len(m.get("content", "")) // 3 + 6 for m in messages) + 3

    async def stream(
        self,
        messages: list[ChatMessage],
        settings: GenerationSettings | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[str]:
        settings = settings or GenerationSettings()
        if self._client is None:
            await self.start()
        body = {
            "model": self.name,
            "messages": messages,
            "stream": True,
            "max_tokens": settings.max_new_tokens,
            "temperature": settings.temperature,
        }
        if settings.stop:
            body["stop"] = settings.stop[:4]  # OpenAI's limit; the scanner below applies all of them anyway
        stops = StopScanner(settings.stop)
        attempt = 0
        while True:
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled("the reply was cancelled")
            emitted = False
            try:
                async for delta in self._deltas(body, cancel):
                    text = stops.feed(delta)
                    if text:
                        emitted = True
                        yield text
                    if stops.hit:
                        return
                tail = stops.flush()
                if tail:
                    yield tail
                return
            except _Retryable as failure:
                if emitted or attempt >= self.retries:
                    raise failure.error from failure.__cause__
                delay = min(_RETRY_BASE_SECONDS * 2**attempt, _RETRY_MAX_SECONDS)
                attempt += 1
                log.warning("LLM server: %s; retry %d/%d in %.1f s", failure.error, attempt, self.retries, delay)
                await _sleep_or_cancel(delay, cancel)

    async def _deltas(self, body: dict, cancel: asyncio.Event | None) -> AsyncIterator[str]:
        """Text deltas of one request; library errors become _Retryable / LLMError here and nowhere else."""
        import httpx

        if self._client is None:
            raise LLMUnavailable("the LLM client is not started")
        try:
            async with self._client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._http_error(response.status_code, response.text)
                lines = response.aiter_lines()
                while True:
                    line = await _next_or_cancel(lines, cancel)
                    if line is None:
                        return
                    data = _sse_data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        return
                    delta = _delta_text(data)
                    if delta:
                        yield delta
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(
                LLMUnavailable(
                    f"cannot reach the LLM server at {self.base_url} (is it running? check llm.openai.base_url)"
                )
            ) from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(LLMUnavailable(f"the LLM server at {self.base_url} did not answer in time")) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retryable(LLMUnavailable(f"the LLM server at {self.base_url} closed the connection")) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"talking to the LLM server failed: {type(exc).__name__}") from exc

    def _http_error(self, status: int, text: str) -> Exception:
        detail = _error_detail(text)
        log.warning("LLM server answered %d: %s", status, detail)
        if status >= 500:
            return _Retryable(LLMUnavailable(f"the LLM server answered {status} (server error): {detail}"))
        if status in (401, 403):
            return LLMUnavailable(
                f"the LLM server refused the API key ({status}): set the environment variable {self._api_key_env}"
            )
        if status == 404:
            return LLMUnavailable(
                f"the LLM server has no model {self.name!r} or no /chat/completions at {self.base_url} (404): "
                "check llm.openai.model and llm.openai.base_url (it usually ends in /v1)"
            )
        return LLMError(f"the LLM server rejected the request ({status}): {detail}")


async def _next_or_cancel(lines: AsyncIterator[str], cancel: asyncio.Event | None) -> str | None:
    """The next line, None at the end of the body; GenerationCancelled as soon as `cancel` is set."""
    if cancel is None:
        return await anext(lines, None)
    if cancel.is_set():
        raise GenerationCancelled("the reply was cancelled")
    reader = asyncio.ensure_future(anext(lines, None))
    waiter = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not reader.done():
            reader.cancel()
    if not reader.done() or reader.cancelled():
        raise GenerationCancelled("the reply was cancelled")
    return reader.result()


async def _sleep_or_cancel(seconds: float, cancel: asyncio.Event | None) -> None:
    if cancel is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(cancel.wait(), seconds)
    except TimeoutError:
        return
    raise GenerationCancelled("the reply was cancelled")


def _sse_data(line: str) -> str | None:
    """The payload of a `data:` line; None for comments, blank lines and other fields."""
    if not line.startswith("data:"):
        return None
    return line[5:].strip()


def _delta_text(data: str) -> str:
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise LLMError("the LLM server sent a malformed stream event") from exc
    if isinstance(event, dict) and "error" in event:
        raise LLMError(f"the LLM server reported an error: {_error_detail(json.dumps(event))}")
    try:
        choice = event["choices"][0] if event.get("choices") else {}
        return (choice.get("delta") or {}).get("content") or ""
    except (AttributeError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("the LLM server sent a stream event in an unexpected shape") from exc


def _error_detail(text: str) -> str:
    """The message of an OpenAI-style error body, else the start of the body."""
    try:
        error = json.loads(text).get("error")
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return str(message)[:200]
    except (ValueError, AttributeError):
        pass
    return text.strip()[:200] or "no details"
