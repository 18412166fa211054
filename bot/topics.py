"""Topics of a chat: clusters of its messages' embeddings, each named by its distinctive words.

The parts of BERTopic, used directly (measured in docs/BENCHMARKS.md, "Topics"): the vectors are reduced by
UMAP to 5 dimensions (over their exact cosine neighbours), clustered by density (scikit-learn's HDBSCAN, which
needs no number of topics and leaves outliers out), and each cluster is labelled by class-based TF-IDF: its messages
are one document, and a word scores by how frequent it is there and how rare across the other clusters.

Pure functions on arrays; CPU work of seconds: callers run them off the event loop (bot/topic_service.py).
Above FIT_MAX messages the model is fitted on a random sample and every other message joins the topic whose
centre is nearest, if it is as close to it as the topic's own messages are (else it stays noise).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MIN_MESSAGES = 50  # fewer, and there is nothing to cluster
FIT_MAX = 20_000  # messages the reduction and clustering are fitted on; the rest are assigned
UMAP_DIMS = 5
NEIGHBOURS = 15
EPOCH_BUDGET = 500_000  # UMAP epochs x points: 200 epochs up to 2.5k messages, 50 from 10k on
MIN_EPOCHS = 50
KEYWORDS = 5  # words kept per topic
EXAMPLES = 2  # representative messages per topic
NOISE = -1
SEED = 42  # the same messages give the same topics
# Chat words that say nothing of a topic, on top of scikit-learn's English stopwords.
CHAT_STOPWORDS = ("yeah yes ok okay oh hey hi lol just like really think know did does don didn doesn got get "
                  "going gonna want thanks thank good great sure right well way thing things lot maybe im ll ve "
                  "let say said tell").split()


@dataclass
class Topic:
    id: int  # 1 = the largest
    keywords: list[str]
    members: np.ndarray  # indices into the messages, nearest the centre first
    centre: np.ndarray = field(repr=False)  # unit vector in the embedding space

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def label(self) -> str:
        return " · ".join(self.keywords[:3]) or f"topic {self.id}"

    def examples(self, n: int = EXAMPLES) -> np.ndarray:
        return self.members[:n]


@dataclass
class TopicModel:
    labels: np.ndarray  # per message: a topic id or NOISE
    topics: list[Topic]  # largest first
    fitted_on: int  # messages the clustering saw (the rest were assigned to the nearest topic)

    @property
    def noise(self) -> int:
        return int((self.labels == NOISE).sum())


def use_cache(folder: str | os.PathLike[str]) -> None:
    """Keep numba's compiled UMAP code on disk: its first compilation costs seconds, later starts read it back.
    Must run before umap is imported."""
    path = Path(folder) / "numba"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # not writable (a read-only image): numba compiles in memory, each start
    if os.access(path, os.W_OK):
        os.environ.setdefault("NUMBA_CACHE_DIR", str(path))


def sample(n: int, limit: int, seed: int = SEED) -> np.ndarray:
    """Sorted indices of at most `limit` of n items, drawn at random (all of them when n <= limit)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def neighbours(vectors: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine (each point first, itself) and their cosine distances, given to UMAP
    as precomputed: exact, and far faster than UMAP's own exact search below 4096 points (a Python callback per
    pair). numpy, not torch: torch's top-k was 2-3x faster but importing it costs the worker ~250 MB."""
    k = min(k, len(vectors))
    n = len(vectors)
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, 1024):  # 1024 x n similarities at a time: bounded memory
        sims = vectors[start:start + 1024] @ vectors.T
        rows = np.arange(len(sims))
        sims[rows, rows + start] = 2.0  # itself first, even among duplicates
        best = np.argpartition(sims, n - k, axis=1)[:, n - k:]
        order = np.argsort(-sims[rows[:, None], best], axis=1, kind="stable")
        best = best[rows[:, None], order]
        indices[start:start + len(sims)] = best
        distances[start:start + len(sims)] = np.clip(1.0 - sims[rows[:, None], best], 0.0, 2.0)
    distances[:, 0] = 0.0
    return indices, distances


def project(vectors: np.ndarray, knn: tuple[np.ndarray, np.ndarray], dims: int = UMAP_DIMS, *,
            epochs: int | None = None) -> np.ndarray:
    """UMAP of the vectors to `dims` dimensions over their precomputed neighbours (seeded: same input, same
    output; a seed makes UMAP single-threaded, which leaves the other core to replies)."""
    import warnings

    from umap import UMAP

    if epochs is None:  # the layout's cost is points x epochs: fewer epochs for more points (BENCHMARKS.md)
        epochs = int(np.clip(EPOCH_BUDGET / max(len(vectors), 1), MIN_EPOCHS, 200))
    # init="pca": UMAP's default spectral start took 10 s at 10k messages when the neighbour graph falls apart into
    # many pieces (repeated texts), and gave no better topics (BENCHMARKS.md).
    reducer = UMAP(n_components=dims, n_neighbors=knn[0].shape[1], min_dist=0.0 if dims > 2 else 0.1,
                   metric="cosine", low_memory=True, n_epochs=epochs, random_state=SEED, precomputed_knn=knn,
                   init="pca")
    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state": wanted
        warnings.simplefilter("ignore", UserWarning)
        return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


def min_cluster_size(n: int) -> int:
    """The smallest group of messages called a topic: 1% of the chat, between 8 and 60 messages."""
    return int(min(60, max(8, round(n * 0.01))))


def cluster(points: np.ndarray) -> np.ndarray:
    """HDBSCAN labels of reduced points (NOISE for outliers)."""
    from sklearn.cluster import HDBSCAN

    size = min_cluster_size(len(points))
    return np.asarray(HDBSCAN(min_cluster_size=size, min_samples=max(3, size // 3), copy=True).fit_predict(points))


def find_topics(vectors: np.ndarray, texts: Sequence[str], *, fit_max: int = FIT_MAX) -> TopicModel:
    """Topics of messages given their unit embeddings and texts (same order)."""
    n = len(vectors)
    if n < MIN_MESSAGES:
        return TopicModel(np.full(n, NOISE), [], n)
    fit = sample(n, fit_max)
    fitted = cluster(project(vectors[fit], neighbours(vectors[fit])))
    labels = np.full(n, NOISE)
    labels[fit] = fitted
    labels = join_nearest(vectors, labels)
    return TopicModel(*_ranked(vectors, texts, labels), fitted_on=len(fit))


def join_nearest(vectors: np.ndarray, labels: np.ndarray, quantile: float = 0.1) -> np.ndarray:
    """Messages without a topic (noise, or left out of the sample) join the topic with the nearest centre when
    they are at least as close to it as the closest 90% of its own messages; the others stay noise."""
    ids = [t for t in np.unique(labels) if t != NOISE]
    if not ids:
        return labels
    centres = np.stack([_centre(vectors[labels == t]) for t in ids])
    floors = np.array([np.quantile(vectors[labels == t] @ c, quantile) for t, c in zip(ids, centres)])
    loose = np.flatnonzero(labels == NOISE)
    out = labels.copy()
    for start in range(0, len(loose), 8192):  # bounded memory for 100k messages
        chunk = loose[start:start + 8192]
        sims = vectors[chunk] @ centres.T
        best = sims.argmax(axis=1)
        close = sims[np.arange(len(chunk)), best] >= floors[best]
        out[chunk[close]] = np.asarray(ids)[best[close]]
    return out


def _centre(vectors: np.ndarray) -> np.ndarray:
    c = vectors.mean(axis=0)
    return c / (np.linalg.norm(c) or 1.0)


def _ranked(vectors: np.ndarray, texts: Sequence[str], labels: np.ndarray) -> tuple[np.ndarray, list[Topic]]:
    """Topics numbered by size (1 = largest), with keywords and members ordered by closeness to the centre."""
    ids = [t for t in np.unique(labels) if t != NOISE]
    ids.sort(key=lambda t: -int((labels == t).sum()))
    keywords = ctfidf_keywords(texts, labels, ids)
    renumbered = np.full(len(labels), NOISE)
    topics = []
    for number, (t, words) in enumerate(zip(ids, keywords), start=1):
        members = np.flatnonzero(labels == t)
        centre = _centre(vectors[members])
        members = members[np.argsort(-(vectors[members] @ centre), kind="stable")]
        renumbered[members] = number
        topics.append(Topic(number, words, members, centre))
    return renumbered, topics


def ctfidf_keywords(texts: Sequence[str], labels: np.ndarray, ids: Sequence[int], top: int = KEYWORDS
                    ) -> list[list[str]]:
    """Class-based TF-IDF: each cluster's messages as one document; a word's weight there is its frequency in the
    cluster times log(1 + average words per cluster / the word's count over all clusters, noise included)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    if not ids:
        return []
    stop = sorted(ENGLISH_STOP_WORDS.union(CHAT_STOPWORDS))
    vectorizer = CountVectorizer(stop_words=stop, token_pattern=r"(?u)\b[^\W\d_]{2,}\b", lowercase=True)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stopwords
        return [[] for _ in ids]
    classes = list(ids) + ([NOISE] if (labels == NOISE).any() else [])
    per_class = np.vstack([np.asarray(counts[labels == t].sum(axis=0)).ravel() for t in classes]).astype(float)
    totals = per_class.sum(axis=1, keepdims=True)
    tf = per_class / np.maximum(totals, 1.0)
    idf = np.log1p(totals.mean() / np.maximum(per_class.sum(axis=0), 1.0))
    weights = tf * idf
    vocabulary = vectorizer.get_feature_names_out()
    result = []
    for row in weights[: len(ids)]:
        best = np.argsort(-row, kind="stable")[:top]
        result.append([str(vocabulary[i]) for i in best if row[i] > 0])
    return result
