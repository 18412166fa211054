"""Engram's memory: messages stored in SQLite with sqlite-vec vectors and an FTS5 index, recalled by hybrid search.

Knows nothing of Telegram or language models.
"""

from memory.corpus import ChatCorpus, WindowState
from memory.embedder import Embedder, HashEmbedder, SentenceTransformerEmbedder
from memory.errors import EmbeddingModelError, ExtensionUnavailable, MemoryStoreError, ModelMismatch
from memory.models import Hit, Message
from memory.recall import FusionParams, similarity_measures
from memory.service import Memory
from memory.store import Store

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
