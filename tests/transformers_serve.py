"""`transformers serve` (transformers' own OpenAI-compatible server) as a subprocess on 127.0.0.1, for tests.

    server = TransformersServe(model_folder, log_path)
    server.start()          # returns once GET /health answers; raises with the log's tail if it cannot start
    server.kill()           # SIGKILL, as a crash would
    server.start()          # back on the same port
    server.stop()           # SIGTERM, then SIGKILL if it lingers

The server is pinned to one model (its folder is the positional argument), so it loads the model before it
listens, and answers only requests whose "model" is exactly that folder path (`server.model`). It runs in a
process group of its own, and every stop kills the whole group.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_executable() -> str:
    """The `transformers` command of this Python environment."""
    beside = Path(sys.executable).with_name("transformers")
    return str(beside) if beside.is_file() else (shutil.which("transformers") or "transformers")


class TransformersServe:
    def __init__(self, model: Path, log_path: Path, port: int | None = None, dtype: str = "bfloat16"):
        self.model_folder = model
        self.log_path = log_path
        self.port = port or free_port()
        self.dtype = dtype
        self.process: subprocess.Popen | None = None
        self.starts: list[float] = []  # seconds each start took until /health answered

    @property
    def model(self) -> str:
        """The name requests must use: the pinned folder, exactly as given on the command line."""
        return str(self.model_folder)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [serve_executable(), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                "--device", "cpu", "--dtype", self.dtype]

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 240.0) -> None:
        """Start the server and wait until it answers; the model is loaded by then."""
        if self.running:
            return
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
               "OMP_WAIT_POLICY": "PASSIVE"}
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            log.write(f"\n$ {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.healthy():
                self.starts.append(time.monotonic() - started)
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"transformers serve did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as answer:
                return answer.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def models(self) -> list[str]:
        """The ids GET /v1/models lists."""
        with urllib.request.urlopen(f"{self.base_url}/models", timeout=5) as answer:
            return [m["id"] for m in json.load(answer)["data"]]

    def kill(self) -> None:
        """SIGKILL the server's process group: a crash, with no chance to close connections politely."""
        self._signal(signal.SIGKILL)
        self._reap(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a few seconds; always leaves nothing running."""
        if self.process is None:
            return
        self._signal(signal.SIGTERM)
        if not self._reap(10):
            self._signal(signal.SIGKILL)
            self._reap(10)

    def _signal(self, sig: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return  # gone and reaped: its pid (and group id) may belong to someone else by now
        try:
            os.killpg(self.process.pid, sig)  # the group id is the pid: start_new_session
        except ProcessLookupError:
            pass

    def _reap(self, timeout: float) -> bool:
        assert self.process is not None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
