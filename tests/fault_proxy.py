"""A fault-injecting reverse proxy on 127.0.0.1, in front of a real OpenAI-compatible server (tests only).

    async with FaultProxy(server.base_url) as proxy:      # proxy.base_url ends in /v1, like the server's
        proxy.answer_next(429, headers={"Retry-After": "1"})
        llm = OpenAICompatLLM(proxy.base_url, model)

Requests pass through to the upstream server unchanged, and its streamed answer comes back as it is produced,
unless a fault was queued for the next request(s):

- `answer_next(status, times, headers)`: answer with that status and an OpenAI-style error body; the upstream
  server never sees the request.
- `stall_next(times, after_events)`: forward the request, pass `after_events` server-sent events of the answer
  (0: not even the headers), then send nothing more: a server too slow to answer. The stall ends when the client
  gives up (its connection closes, which also closes the upstream request, so the real server stops generating),
  or after `max_stall` seconds at most.

`port` may be given to take over a port nothing listened on before (a server that comes back). Arrival times of
the chat requests are kept in `times`, and how each was handled in `handled` ("passed", "stalled", or the status).
If the upstream server dies mid-answer, the client's connection is cut too, as a real proxy would.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


@dataclass
class _Fault:
    kind: str  # "status" | "stall"
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    after_events: int = 0


class FaultProxy:
    def __init__(self, upstream: str, port: int = 0, max_stall: float = 30.0):
        self.upstream = upstream.rstrip("/")
        self.port = port
        self.max_stall = max_stall
        self.times: list[float] = []
        self.handled: list[str] = []
        self._faults: deque[_Fault] = deque()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._release = asyncio.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        self._faults.extend(_Fault("status", status=status, headers=dict(headers or {})) for _ in range(times))

    def stall_next(self, times: int = 1, after_events: int = 0) -> None:
        self._faults.extend(_Fault("stall", after_events=after_events) for _ in range(times))

    async def __aenter__(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # handler_cancellation: a client that hangs up cancels its handler, so a stall ends with the client.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _stall(self) -> None:
        try:
            await asyncio.wait_for(self._release.wait(), self.max_stall)
        except TimeoutError:
            pass

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        fault = None
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            self.times.append(time.monotonic())
            fault = self._faults.popleft() if self._faults else None
            self.handled.append(str(fault.status) if fault and fault.kind == "status" else
                                "stalled" if fault else "passed")
        if fault is not None and fault.kind == "status":
            return web.json_response(
                {"error": {"message": f"injected {fault.status}", "type": "proxy_fault"}},
                status=fault.status, headers=fault.headers,
            )
        stall_at = fault.after_events if fault is not None else None
        if stall_at == 0:
            await self._stall()
            raise web.HTTPGatewayTimeout()
        assert self._session is not None
        url = self.upstream.removesuffix("/v1") + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(request.method, url, data=body, headers=headers) as upstream:
            out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            if "text/event-stream" not in upstream.headers.get("Content-Type", ""):
                return web.Response(status=upstream.status, body=await upstream.read(), headers=out_headers)
            response = web.StreamResponse(status=upstream.status, headers=out_headers)
            await response.prepare(request)
            events = 0
            try:
                async for line in upstream.content:
                    await response.write(line)
                    if line in (b"\n", b"\r\n"):  # a blank line ends a server-sent event
                        events += 1
                        if stall_at is not None and events >= stall_at:
                            await self._stall()
                            break
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, ConnectionResetError):
                # The upstream server died mid-answer: cut the client off as well, no clean end of the body.
                if request.transport is not None:
                    request.transport.abort()
                raise
            try:
                await response.write_eof()
            except ConnectionResetError:  # the client gave up during a stall: nobody left to tell
                pass
            return response
