"""The shape of the code (README, Layout): who may import whom, where SQL lives, what the tools may touch."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"bot", "memory", "handlers", "bench"}
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b", re.I)


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """The top-level packages of ours that a module imports (anywhere in it, inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


def test_memory_imports_nothing_of_ours():
    for path in modules("memory"):
        assert imported_packages(path) <= {"memory"}, path


def test_bot_never_imports_handlers_nor_bench():
    for path in modules("bot"):
        assert imported_packages(path) <= {"bot", "memory"}, path


def test_handlers_use_bot_and_memory_but_never_the_tools():
    for path in modules("handlers"):
        assert "bench" not in imported_packages(path), path


def test_only_memory_holds_sql():
    for path in modules("handlers") + modules("bot"):
        assert not SQL.search(path.read_text()), f"SQL in {path}"


def test_the_store_connection_stays_inside_memory():
    attribute = re.compile(r"\._?" + "conn" + r"\b")  # spelled apart, so this file does not match itself
    for package in ("bot", "handlers", "bench", "tests"):
        for path in modules(package):
            text = path.read_text()
            assert not attribute.search(text), f"{path} reaches into a connection"
            assert "memory." + "call(" not in text, path


def test_tools_live_in_bench():
    for package in ("bot", "handlers"):
        names = [p.name for p in modules(package)]
        assert not [n for n in names if n.startswith(("bench_", "eval_"))], names
