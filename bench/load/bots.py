"""The bot under test (a child process, or one built in this process) and its database, read while it runs and
checked when it has stopped."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

REPO = Path(__file__).resolve().parents[2]
FAKE_SERVER = REPO / "tests" / "fake_telegram.py"
BOT_ACTIVITY = frozenset({"sendMessage", "editMessageText", "sendChatAction", "sendDocument"})  # the bot at work


def fake_telegram() -> ModuleType:
    """tests/fake_telegram.py as the module `fake_telegram` (the one the tests import, if already loaded)."""
    if "fake_telegram" in sys.modules:
        return sys.modules["fake_telegram"]
    spec = importlib.util.spec_from_file_location("fake_telegram", FAKE_SERVER)
    if spec is None or spec.loader is None or not FAKE_SERVER.exists():
        raise SystemExit(f"bench-load needs the fake Bot API server {FAKE_SERVER} (a source checkout)")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_telegram"] = module
    spec.loader.exec_module(module)
    return module


class RunningBot(Protocol):
    """A bot the driver can start, stop and (perhaps) kill. Starting returns once it is launched; the driver
    waits for its first getUpdates itself."""

    async def start(self, config_path: Path, env: dict[str, str]) -> None: ...
    async def stop(self, grace: float) -> str: ...
    async def kill(self) -> None: ...
    def alive(self) -> bool: ...
    def describe_exit(self) -> str: ...


class SubprocessBot:
    """The bot as users run it, in a child process: by default `python -m bot --config FILE telegram`.

    `command` may name another launcher; "{config}" in it is replaced by the config file's path. Its output
    goes to `log_path` (appended over restarts).
    """

    def __init__(self, log_path: Path, command: Sequence[str] | None = None, cwd: Path = REPO):
        self.command = list(command or [sys.executable, "-m", "bot", "--config", "{config}", "telegram"])
        self.log_path = log_path
        self.cwd = cwd
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, config_path: Path, env: dict[str, str]) -> None:
        self.starts += 1
        args = [part.replace("{config}", str(config_path)) for part in self.command]
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== bench-load: start {self.starts} at {time.strftime('%H:%M:%S')} =====\n".encode())
            log.flush()
            self.process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
                env=env, cwd=self.cwd)

    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.kill()
            await self.process.wait()

    async def stop(self, grace: float) -> str:
        """SIGTERM (the bot stops gracefully), SIGKILL if it is still there after `grace` seconds."""
        process = self.process
        if process is None:
            return "not started"
        if process.returncode is not None:
            return f"had exited ({process.returncode})"
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), grace)
            return "stopped (SIGTERM)" if process.returncode == 0 else f"stopped (SIGTERM, exit {process.returncode})"
        except TimeoutError:
            process.kill()
            await process.wait()
            return f"SIGKILLed after {grace:.0f} s (SIGTERM was not enough)"

    def describe_exit(self) -> str:
        code = self.process.returncode if self.process else None
        tail = ""
        if self.log_path.exists():
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-25:])
        return f"the bot exited (code {code}); last lines of {self.log_path}:\n{tail}"


class InProcessBot:
    """A bot run in this process: `factory(config)` is an async context manager that runs it (for tests, the real
    Application with a scripted model and the hash embedder). It cannot be killed."""

    def __init__(self, factory: Callable[[Any], Any]):
        self.factory = factory
        self._running: Any = None

    async def start(self, config_path: Path, env: dict[str, str]) -> None:
        from bot.config import load_config

        self._running = self.factory(load_config(config_path, env=env))
        await self._running.__aenter__()

    def alive(self) -> bool:
        return self._running is not None

    async def kill(self) -> None:
        raise NotImplementedError("an in-process bot cannot be killed: use SubprocessBot for --kill-at")

    async def stop(self, grace: float) -> str:
        if self._running is None:
            return "not started"
        running, self._running = self._running, None
        await asyncio.wait_for(running.__aexit__(None, None, None), max(grace, 30.0))
        return "stopped"

    def describe_exit(self) -> str:
        return "the in-process bot stopped"


class BotFailed(Exception):
    pass


class DatabaseReader:
    """Counts in the bot's database while it runs, on a connection of this benchmark's own (WAL: it never
    blocks the bot). Only reads."""

    def __init__(self, path: Path):
        self.path = path
        self._db: Any = None

    def _open(self):
        if self._db is None:
            if not self.path.exists():
                return None
            from memory import db

            self._db = db.connect(self.path)
        return self._db

    def stored_users(self) -> int:
        """User messages stored so far (the benchmark's database holds nothing else from users)."""
        found = self._open()
        if found is None:
            return 0
        return found.execute("SELECT count(*) FROM messages WHERE role = 'user'").fetchone()[0]

    def user_keys(self) -> Counter[tuple[int, int]]:
        """(chat_id, message_id) of every stored user message, with how many rows each has."""
        found = self._open()
        if found is None:
            return Counter()
        rows = found.execute("SELECT chat_id, message_id, count(*) FROM messages WHERE role = 'user' "
                             "GROUP BY chat_id, message_id")
        return Counter({(chat, message): n for chat, message, n in rows})

    def model(self) -> tuple[str, int] | None:
        found = self._open()
        row = found.execute("SELECT name, dim FROM embedding_model WHERE id = 1").fetchone() if found else None
        return (row[0], row[1]) if row else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class _RecordedModel:
    """Stands in for the embedder when opening the finished database: its name and size as recorded."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError("the database is only checked: nothing is embedded")


def check_database(path: Path) -> dict:
    """memory.Store.check() on a copy of the stopped bot's database (the original stays as the bot left it)."""
    from memory import Store

    if not path.exists():
        return {"integrity": "no database", "consistent": False}
    reader = DatabaseReader(path)
    model = reader.model()
    reader.close()
    with tempfile.TemporaryDirectory(prefix="engram-load-check-") as folder:
        copy = Path(folder) / path.name
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        store = Store.open(copy, _RecordedModel(*(model or ("unknown", 0))))
        try:
            return store.check()
        finally:
            store.close()
