"""What can be checked of the packaging without Docker or a fresh machine: the files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The packages of the assistant: every top-level folder with Python code, except what does not ship.
NOT_SHIPPED = {"bench", "tests", "scripts", "docs"}
PACKAGES = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name not in NOT_SHIPPED)


def readme_commands() -> list[str]:
    return re.findall(r"^    (\./engram [a-z]+)\s*$", (ROOT / "README.md").read_text(), flags=re.M)


def dockerfile_copies() -> set[str]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    return {src for line in re.findall(r"^COPY (.+)$", dockerfile, flags=re.M) for src in line.split()[:-1]}


def test_ci_runs_lint_then_the_readme_test_command():
    assert "./engram test" in readme_commands()
    assert "./engram lint" in readme_commands()
    ci = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert ci[-2:] == ["./engram lint", "./engram test"]


def test_dockerfile_copies_existing_paths_and_runs_the_readme_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in dockerfile_copies():
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    cmd = re.search(r'^CMD \["(.+)"\]$', dockerfile, flags=re.M).group(1).replace('", "', " ")
    assert cmd in readme_commands()
    assert "bash scripts/setup.sh" in dockerfile  # the same installer as ./engram
    assert "ENGRAM_DEPS=runtime" in dockerfile  # ... without the test and lint dependencies


def test_dockerfile_ships_the_assistant_and_nothing_else():
    assert PACKAGES and set(PACKAGES) <= dockerfile_copies()
    assert not dockerfile_copies() & NOT_SHIPPED
    assert re.search(r"^USER (?!root)\w+", (ROOT / "Dockerfile").read_text(), flags=re.M)  # not root at run time


def test_every_dependency_is_pinned_and_torch_is_installed_first():
    project = PROJECT["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"] + PROJECT["tool"]["engram"]["no-deps"]
    for requirement in wanted:
        assert re.match(r"^[A-Za-z0-9_.\[\],-]+==[\w.]+(;.*)?$", requirement), f"not pinned: {requirement}"
    # A bare torch requirement would pull a multi-GB CUDA build: setup.sh installs the pinned one first.
    assert len([r for r in project["dependencies"] if r.startswith("torch==")]) == 1
    setup = (ROOT / "scripts/setup.sh").read_text()
    assert setup.index("requirements torch") < setup.index("requirements main")


def test_versions_are_pinned_in_pyproject_only():
    assert "pyproject.toml" in (ROOT / "scripts/setup.sh").read_text()
    assert not list(ROOT.glob("requirements*.txt"))  # one list of dependencies, not two
    for name in ("scripts/setup.sh", "engram", ".ci/run", "Dockerfile"):
        text = (ROOT / name).read_text()
        assert not re.search(r"[\w\]-]==\d|\b\d+\.\d+\.\d+\b", text), f"{name} names a version of its own"


def test_both_installs_compile_the_topics_code_into_a_cache_the_bot_can_write():
    """The first /topics must not wait for numba (37 s measured): setup.sh and the image warm its cache, and in the
    image the unprivileged user owns that cache (numba uses a cache only where it can write)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "topics --warm" in (ROOT / "scripts/setup.sh").read_text()
    assert "./engram topics --warm" in dockerfile
    assert dockerfile.index("topics --warm") < dockerfile.index("chown -R engram:engram /app/.cache/numba")
    assert dockerfile.index("chown -R engram:engram /app/.cache/numba") < dockerfile.index("\nUSER ")


# ----- the README's command table: every row runs as the README says (issue 25) ------------------------------------
def readme_command_tables() -> dict[str, list[str]]:
    """The tables of "## Command line", by the module the text before each names (`python -m bot|bench COMMAND`):
    the command cell of every row."""
    section = (ROOT / "README.md").read_text().split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, list[str]] = {}
    for intro, table in re.findall(r"((?:^(?!\|).*\n)+)((?:^\|.*\n)+)", section + "\n", flags=re.M):
        module = re.findall(r"\.venv/bin/python -m (\w+) COMMAND", intro)
        assert len(module) == 1, f"the text before a command table names no one module: {intro!r}"
        rows = [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()[2:]]
        tables.setdefault(module[0], []).extend(rows)
    return tables


def parsers() -> dict[str, object]:
    from bench.__main__ import COMMANDS as BENCH
    from bot.__main__ import COMMANDS as BOT
    from bot.__main__ import build_parser

    return {"bot": (BOT, build_parser(BOT)), "bench": (BENCH, build_parser(BENCH))}


def subparser(parser, name: str):
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices.get(name)


def test_every_readme_command_row_runs_with_the_module_the_readme_names():
    tables = readme_command_tables()
    assert set(tables) == {"bot", "bench"}
    built = parsers()
    documented: dict[str, set[str]] = {"bot": set(), "bench": set()}
    for module, rows in tables.items():
        _, parser = built[module]
        for row in rows:
            for usage in re.findall(r"`([^`]+)`", row):
                name = usage.split()[0]
                command = subparser(parser, name)
                assert command is not None, f"README: `{usage}` is not a command of python -m {module}"
                options = {o for a in command._actions for o in a.option_strings}
                for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", usage):
                    assert option in options, f"README: `{usage}`: python -m {module} {name} has no {option}"
                documented[module].add(name)
    for module, (commands, _) in built.items():  # and every command is in the README, in its module's table
        assert set(commands) == documented[module], f"python -m {module}: undocumented or missing commands"


def test_the_launcher_sends_evaluations_and_benchmarks_to_bench():
    from bench.__main__ import COMMANDS as BENCH
    from bot.__main__ import BENCH_NAMES
    from bot.__main__ import COMMANDS as BOT

    launcher = (ROOT / "engram").read_text()
    assert 'bench-*|eval-*) exec "$py" -m bench' in launcher
    assert all(BENCH_NAMES.fullmatch(name) for name in BENCH)
    assert not any(BENCH_NAMES.fullmatch(name) for name in BOT)


def test_python_m_bot_says_where_an_evaluation_lives(capsys):
    from bot.__main__ import main

    assert main(["eval-replies", "--json"]) == 2
    assert "python -m bench eval-replies" in capsys.readouterr().err
