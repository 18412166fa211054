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


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of ours -> the modules of ours it imports: every import counts (module level, inside functions,
    under `if TYPE_CHECKING:`); `from pkg import name` is the submodule pkg.name when there is one."""
    paths = {module_name(p): p for package in sorted(OURS) for p in modules(package)}

    def ours(name: str) -> str | None:  # the module itself, or the package whose __init__ defines the name
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets |= {ours(alias.name) for alias in node.names if alias.name.split(".")[0] in OURS}
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from . import x, from ..pkg import y
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                if base.split(".")[0] not in OURS:
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in paths else ours(base))
        graph[name] = {t for t in targets if t and t != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first search, colouring the modules on the path)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_sees_what_it_should():
    graph = import_graph()
    assert "bot.reply.prompt" in graph["bot.reply.assistant"]  # a plain import
    assert "bot.importing.telegram" in graph["bot.importing.formats"]  # `from bot.importing import telegram`
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def imports_telegram(path: Path) -> bool:
    """python-telegram-bot (`telegram`, `telegram.ext`…), anywhere in the module."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "telegram" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "telegram":
            return True
    return False


def test_only_handlers_import_telegram():
    for package in ("bot", "memory"):
        for path in modules(package):
            assert not imports_telegram(path), f"{path} imports telegram: Telegram's API belongs in handlers/"
