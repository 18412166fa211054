"""Engram's memory: messages stored in SQLite with sqlite-vec vectors and an FTS5 index, recalled by hybrid search.

Knows nothing of Telegram or language models.

The names below are imported on first use, so that `memory.models` (plain data types and the configured
choices, which bot/config.py reads) can be imported without loading SQLite, sqlite-vec or numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memory.corpus import ChatCorpus, WindowState
    from memory.embedder import Embedder, HashEmbedder, SentenceTransformerEmbedder
    from memory.errors import EmbeddingModelError, ExtensionUnavailable, MemoryStoreError, ModelMismatch
    from memory.models import Hit, Message
    from memory.recall import FusionParams, similarity_measures
    from memory.service import Memory
    from memory.store import Store

_HOMES = {
    "ChatCorpus": "memory.corpus",
    "WindowState": "memory.corpus",
    "Embedder": "memory.embedder",
    "HashEmbedder": "memory.embedder",
    "SentenceTransformerEmbedder": "memory.embedder",
    "EmbeddingModelError": "memory.errors",
    "ExtensionUnavailable": "memory.errors",
    "MemoryStoreError": "memory.errors",
    "ModelMismatch": "memory.errors",
    "Hit": "memory.models",
    "Message": "memory.models",
    "FusionParams": "memory.recall",
    "similarity_measures": "memory.recall",
    "Memory": "memory.service",
    "Store": "memory.store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'memory' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "ChatCorpus",
    "Embedder",
    "EmbeddingModelError",
    "ExtensionUnavailable",
    "FusionParams",
    "HashEmbedder",
    "Hit",
    "Memory",
    "MemoryStoreError",
    "Message",
    "ModelMismatch",
    "SentenceTransformerEmbedder",
    "Store",
    "WindowState",
    "similarity_measures",
]
