"""What can be checked of the packaging without Docker or a fresh machine: the files agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"^    (\./engram [a-z]+)\s*$", (ROOT / "README.md").read_text(), flags=re.M)


def test_ci_runs_the_readme_test_command():
    assert "./engram test" in readme_commands()
    ci = [ln.strip() for ln in (ROOT / ".ci/run").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert ci[-1] == "./engram test"


def test_dockerfile_copies_existing_paths_and_runs_the_readme_command():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", dockerfile, flags=re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    cmd = re.search(r'^CMD \["(.+)"\]$', dockerfile, flags=re.M).group(1).replace('", "', " ")
    assert cmd in readme_commands()
    assert "bash scripts/setup.sh" in dockerfile  # the same installer as ./engram


def test_dockerfile_copies_every_package_the_code_imports():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = {src for line in re.findall(r"^COPY (.+)$", dockerfile, flags=re.M) for src in line.split()[:-1]}
    for package in ("bot", "memory", "handlers"):
        assert package in copied


def test_torch_is_pinned_outside_requirements():
    # A bare torch requirement pulls a multi-GB CUDA build; setup.sh pins the CPU wheel instead.
    for name in ("requirements.txt", "requirements-dev.txt"):
        assert not re.search(r"^torch\b", (ROOT / name).read_text(), flags=re.M)
    assert 'TORCH_VERSION="2.13.0"' in (ROOT / "scripts/setup.sh").read_text()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, f"unpinned requirement: {line}"
