"""A small OpenAI-compatible chat server on 127.0.0.1 for tests: streams SSE chunks, or fails on request.

    async with FakeOpenAIServer(reply="Hello there") as server:
        llm = OpenAICompatLLM(server.base_url, "fake-model")

`mode` may be changed between requests: "ok" streams the reply word by word, "error500" answers 500,
"hang" sends nothing until the client gives up, "hang_after_first" sends one chunk and then stalls, "cut" sends
one chunk and ends the body cleanly without saying the reply is finished (no finish_reason, no [DONE]).
`fail_first` makes the first N requests answer `fail_status` (500 by default) with `fail_headers` (to test
retries and Retry-After). Requests received are kept in `requests`, with their arrival times in `times`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from aiohttp import web

Reply = str | Callable[[list[dict]], str]


class FakeOpenAIServer:
    def __init__(self, reply: Reply = "Hello from the fake server.", mode: str = "ok", chunk_delay: float = 0.0):
        self.reply = reply
        self.mode = mode
        self.chunk_delay = chunk_delay
        self.fail_first = 0
        self.fail_status = 500
        self.fail_headers: dict[str, str] = {}
        self.requests: list[dict] = []
        self.times: list[float] = []
        self.headers: list[dict] = []
        self._runner: web.AppRunner | None = None
        self._stalled = asyncio.Event()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeOpenAIServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._stalled.set()  # release hanging handlers so the runner can stop
        if self._runner is not None:
            await self._runner.cleanup()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.times.append(time.monotonic())
        self.headers.append(dict(request.headers))
        if self.fail_first > 0:
            self.fail_first -= 1
            return _error(self.fail_status, "temporarily broken", self.fail_headers)
        if self.mode == "error500":
            return _error(500, "the model crashed")
        if self.mode == "hang":
            await self._stalled.wait()
            return _error(500, "released")
        text = self.reply(body["messages"]) if callable(self.reply) else self.reply
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        words = _chunks(text)
        for i, piece in enumerate(words):
            await response.write(_event({"choices": [{"index": 0, "delta": {"content": piece}}]}))
            if self.mode == "hang_after_first" and i == 0:
                await self._stalled.wait()
                return response
            if self.mode == "cut" and i == 0:
                return response
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
        await response.write(_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
        await response.write(b"data: [DONE]\n\n")
        return response


def _chunks(text: str) -> list[str]:
    """Word-sized pieces that keep their spaces, as real servers stream them."""
    pieces, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or text[i] == " ":
            pieces.append(text[start:i])
            start = i
    return pieces


def _event(payload: dict) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "server_error"}}, status=status, headers=headers)
