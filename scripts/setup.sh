#!/usr/bin/env bash
# Create .venv and install everything Engram needs from pyproject.toml, offline-friendly: only package registries.
# Idempotent: re-running it with an unchanged pyproject.toml does nothing (a stamp holds its hash).
#   ENGRAM_DEPS=runtime   install only what the assistant needs (the Docker image); default: runtime + dev
#   TORCH_INDEX_URL=...   where torch comes from (e.g. PyTorch's CPU index in the Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${ENGRAM_VENV:-.venv}"
DEPS="${ENGRAM_DEPS:-dev}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "engram: creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

# Debian programs (Tesseract; for tests and benchmarks espeak-ng, opus-tools, ffmpeg): checked on every run, quick.
bash "$(dirname "$0")/system-packages.sh" "$DEPS"

stamp="$VENV/.engram-installed"
want=$( (cat pyproject.toml scripts/setup.sh; echo "$DEPS") | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

# The requirement lists, read from pyproject.toml: torch, the rest, and the packages installed without deps.
requirements() {
    "$VENV/bin/python" - "$1" "$DEPS" <<'PY'
import sys, tomllib
kind, deps = sys.argv[1], sys.argv[2]
data = tomllib.load(open("pyproject.toml", "rb"))
wanted = list(data["project"]["dependencies"])
if deps == "dev":
    wanted += data["project"]["optional-dependencies"]["dev"]
torch = [r for r in wanted if r.split("==")[0].strip() == "torch"]
lists = {"torch": torch, "main": [r for r in wanted if r not in torch], "no-deps": data["tool"]["engram"]["no-deps"]}
print("\n".join(lists[kind]))
PY
}

pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip
reqs=$(mktemp)
trap 'rm -f "$reqs"' EXIT
# torch first and pinned: a bare 'torch' requirement would pull a multi-GB CUDA build.
requirements torch > "$reqs"
"${pip[@]}" install -q -r "$reqs" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
requirements main > "$reqs"
"${pip[@]}" install -q -r "$reqs"
requirements no-deps > "$reqs"
"${pip[@]}" install -q --no-deps -r "$reqs"
echo "$want" > "$stamp"
echo "engram: environment ready in $VENV ($DEPS dependencies)"
# numba compiles the clustering code of /topics and /map once (15-40 s) into .cache/numba: done now, the first
# /topics is fast. Only with the code present (the Dockerfile runs this script before copying it, and warms later).
if [ -f bot/topics/clustering.py ]; then
    "$VENV/bin/python" -m bot topics --warm || echo "engram: topics warm-up failed: the first /topics will compile"
fi
