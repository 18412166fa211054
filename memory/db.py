"""Open a SQLite database with sqlite-vec loaded.

The stdlib sqlite3 is used where it can load extensions (Debian's Python, the Docker python images); otherwise
pysqlite3 (the pysqlite3-binary wheel ships its own SQLite built with FTS5 and extension loading).
"""

from __future__ import annotations

import functools
import sqlite3 as _stdlib_sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import sqlite_vec

from memory.errors import ExtensionUnavailable


@functools.cache
def sqlite_module() -> ModuleType:
    """The DB-API module to use: stdlib sqlite3 if it can load extensions, else pysqlite3."""
    if hasattr(_stdlib_sqlite3.Connection, "enable_load_extension"):
        return _stdlib_sqlite3
    try:
        from pysqlite3 import dbapi2
    except ImportError:
        raise ExtensionUnavailable(
            "This Python's sqlite3 module cannot load extensions and pysqlite3 is not installed. "
            "Install it with 'pip install pysqlite3-binary' (Linux x86-64) or use a Python built with "
            "extension loading (Debian's python3, the official Docker python images)."
        ) from None
    return dbapi2


def connect(path: str | Path, *, mmap_bytes: int = 1 << 30, check_same_thread: bool = False):
    """Connect, load sqlite-vec, and set the pragmas Engram relies on.

    WAL lets readers (backups, /stats) run while a write is in progress; synchronous=NORMAL is durable against
    a process crash (not a power cut on the last transaction), which is the trade-off WAL users usually take.
    """
    sqlite = sqlite_module()
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite.connect(str(path), check_same_thread=check_same_thread, isolation_level=None, timeout=30)
    try:
        conn.enable_load_extension(True)
        sqlite_vec.load(conn)
    except Exception as exc:  # the library raises a bare OperationalError/AttributeError depending on the build
        conn.close()
        raise ExtensionUnavailable(f"could not load sqlite-vec into SQLite: {exc}") from exc
    finally:
        try:
            conn.enable_load_extension(False)
        except Exception:
            pass
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA temp_store=MEMORY")
    # Memory-mapped reads make the vector scan ~1.8x faster (docs/BENCHMARKS.md).
    conn.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
    return conn


def operational_error():
    """The OperationalError class of the module in use."""
    return sqlite_module().OperationalError


@contextmanager
def transaction(conn):
    """BEGIN IMMEDIATE ... COMMIT on an autocommit connection; ROLLBACK on any exception (KeyboardInterrupt too)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


MAX_VARIABLES = 500  # ids bound in one `IN (…)`: well under SQLite's limit on host parameters


def rows_in(conn, sql: str, ids: Sequence[int]) -> Iterator[tuple]:
    """The rows of `sql` (whose `IN ({marks})` is filled with placeholders) for every id, a chunk at a time."""
    for start in range(0, len(ids), MAX_VARIABLES):
        chunk = list(ids[start:start + MAX_VARIABLES])
        yield from conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)
