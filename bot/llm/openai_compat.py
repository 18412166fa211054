"""The `openai` backend: any server speaking OpenAI's /v1/chat/completions with streaming (server-sent events).

Ollama, vLLM, llama.cpp's server, LM Studio and `transformers serve` all do. Connection failures, timeouts, 5xx
and 429 answers are retried with backoff (or after the server's Retry-After, when it asks for a short wait), but
only before the first token: once text has been shown to the user, a retry would repeat it. A stream that ends
before the server said it was finished (no finish_reason, no [DONE]) is a failure, not a short reply: the server
went away mid-answer, and half a reply must not be stored as if it were whole.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import time
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
# The longest Retry-After (429 / 503) waited out before answering; past it the user is told to try again later.
RETRY_AFTER_MAX_SECONDS = 10.0


class _Retryable(Exception):
    """A failure worth another attempt (server down, timeout, 5xx, 429); carries the user-facing error and, when
    the server said how long to wait (Retry-After), that delay."""

    def __init__(self, error: LLMError, wait: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.wait = wait


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
                backoff = min(_RETRY_BASE_SECONDS * 2**attempt, _RETRY_MAX_SECONDS)
                delay = failure.wait if failure.wait is not None else backoff  # the server's wait is already short
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
                    raise self._http_error(response.status_code, response.text, response.headers.get("retry-after"))
                lines = response.aiter_lines()
                finished = False
                while True:
                    line = await _next_or_cancel(lines, cancel)
                    if line is None:
                        break
                    data = _sse_data(line)
                    if data is None:
                        continue
                    if data == "[DONE]":
                        return
                    delta, finished = _event_parts(data, finished)
                    if delta:
                        yield delta
                if not finished:
                    raise _Retryable(
                        LLMUnavailable(
                            f"the LLM server at {self.base_url} stopped sending before the reply was finished "
                            "(did it crash or restart? see its log)"
                        )
                    )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(
                LLMUnavailable(
                    f"cannot reach the LLM server at {self.base_url} (is it running? check llm.openai.base_url)"
                )
            ) from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(
                LLMUnavailable(
                    f"the LLM server at {self.base_url} did not answer in time (nothing for {self.timeout:g} s, "
                    "llm.openai.timeout): is it overloaded, or is the model too slow for this machine?"
                )
            ) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise _Retryable(
                LLMUnavailable(
                    f"the LLM server at {self.base_url} closed the connection before the reply was finished "
                    "(did it crash or restart? see its log)"
                )
            ) from exc
        except httpx.HTTPError as exc:
            raise LLMError(f"talking to the LLM server failed: {type(exc).__name__}") from exc

    def _http_error(self, status: int, text: str, retry_after: str | None = None) -> Exception:
        detail = _error_detail(text)
        sentence = detail.rstrip(".")  # the detail, to be followed by more words
        log.warning("LLM server answered %d: %s", status, detail)
        wait = _retry_after_seconds(retry_after)
        if status == 429 or (status == 503 and wait is not None):
            what = "busy (429 Too Many Requests)" if status == 429 else "unavailable (503)"
            if wait is not None and wait > RETRY_AFTER_MAX_SECONDS:
                return LLMUnavailable(
                    f"the LLM server at {self.base_url} is {what} and asks to wait {_duration(wait)}: "
                    "try again then"
                )
            return _Retryable(
                LLMUnavailable(
                    f"the LLM server at {self.base_url} is {what}: {sentence}. Try again in a moment; if this keeps "
                    "happening, check the server's rate limits or load"
                ),
                wait,
            )
        if status >= 500:
            return _Retryable(
                LLMUnavailable(
                    f"the LLM server at {self.base_url} answered {status} (server error): {sentence}. See the "
                    "server's log"
                )
            )
        if status in (401, 403):
            return LLMUnavailable(
                f"the LLM server refused the API key ({status}): set the environment variable {self._api_key_env}"
            )
        if status == 404:
            return LLMUnavailable(
                f"the LLM server has no model {self.name!r} or no /chat/completions at {self.base_url} (404): "
                "check llm.openai.model and llm.openai.base_url (it usually ends in /v1)"
            )
        hint = " (check llm.openai.model)" if self.name and self.name in detail else ""
        return LLMError(f"the LLM server rejected the request ({status}): {detail}{hint}")


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
    """The text of one stream event."""
    return _event_parts(data, False)[0]


def _event_parts(data: str, finished: bool) -> tuple[str, bool]:
    """(text, finished) of one stream event: `finished` turns true at a finish_reason and stays so."""
    try:
        event = json.loads(data)
    except json.JSONDecodeError as exc:
        raise LLMError("the LLM server sent a malformed stream event") from exc
    if isinstance(event, dict) and "error" in event:
        detail = _error_detail(json.dumps(event)).rstrip(".")
        raise LLMError(f"the LLM server reported an error: {detail}. See the server's log")
    try:
        choice = event["choices"][0] if event.get("choices") else {}
        text = (choice.get("delta") or {}).get("content") or ""
        return text, finished or bool(choice.get("finish_reason"))
    except (AttributeError, KeyError, IndexError, TypeError) as exc:
        raise LLMError("the LLM server sent a stream event in an unexpected shape") from exc


def _error_detail(text: str) -> str:
    """A one-line message from an error body: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}, else the body's
    first line. Never a traceback: that belongs in the server's log, not in front of the user."""
    message: object = None
    try:
        body = json.loads(text)
        if isinstance(body, dict):
            error = body.get("error")
            message = error.get("message") if isinstance(error, dict) else error
            if not message and isinstance(body.get("detail"), str):
                message = body["detail"]
    except ValueError:
        pass
    line = next((s.strip() for s in str(message or text).splitlines() if s.strip()), "")
    if not line or line.startswith("Traceback") or line.lstrip("<").lower().startswith(("!doctype", "html")):
        return "no details"
    return line[:200]


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked for by a Retry-After header (a number of seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"
