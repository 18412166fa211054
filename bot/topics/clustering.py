"""Topics of a chat: clusters of its messages' embeddings, each named by its distinctive words.

The parts of BERTopic, used directly (measured in docs/BENCHMARKS.md, "Topics"): the vectors are reduced by
UMAP to 5 dimensions (over their exact cosine neighbours), clustered by density (scikit-learn's HDBSCAN, which
needs no number of topics and leaves outliers out), and each cluster is labelled by class-based TF-IDF: its messages
are one document, and a word scores by how frequent it is there and how rare across the other clusters. Words are
every language's (memory/text.py): each message's stopwords are its own language's and English's (a chat that
mixes two languages loses the small words of both), a word is counted in its normal form (Russian "собаку" and
"собака" are one word) and shown as it is most often written.

Functions on arrays, or on a chat read a chunk of vectors at a time (`Vectors`); CPU work of seconds: callers
run them off the event loop (bot/topics/service.py). Above FIT_MAX messages the model is fitted on a random sample
and every other message joins the topic whose centre is nearest, if it is as close to it as the topic's own
messages are (else it stays noise): only the sample's vectors are held at once (memory: docs/BENCHMARKS.md).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import regex

from bot.i18n import _, script_language
from memory import text as wording
from memory.lang import language_of

_LETTERS = regex.compile(r"[\p{L}\p{M}]+")
MIN_MESSAGES = 50  # fewer, and there is nothing to cluster
FIT_MAX = 20_000  # messages the reduction and clustering are fitted on; the rest are assigned
UMAP_DIMS = 5
NEIGHBOURS = 15
NEIGHBOUR_BLOCK_BYTES = 32 << 20  # the matrix product's block (big blocks: faster products)
TOP_ROWS = 128  # rows whose top k are found at once (argpartition's indices: 8 bytes a similarity)
EPOCH_BUDGET = 500_000  # UMAP epochs x points: 200 epochs up to 2.5k messages, 50 from 10k on
MIN_EPOCHS = 50
KEYWORDS = 5  # words kept per topic
NOISE = -1
SEED = 42  # the same messages give the same topics
# Chat words that say nothing of a topic, on top of scikit-learn's English stopwords.
CHAT_STOPWORDS = ("yeah yes ok okay oh hey hi lol just like really think know did does don didn doesn got get "
                  "going gonna want thanks thank good great sure right well way thing things lot maybe im ll ve "
                  "let say said tell").split()


class Vectors(Protocol):
    """A chat's unit embeddings, read in order a chunk at a time (memory.corpus.ChatReader, or InMemory)."""

    def __len__(self) -> int: ...

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]: ...  # (position of the first row, rows)

    def take(self, positions: np.ndarray) -> np.ndarray: ...  # the rows at these sorted positions


class InMemory:
    """Vectors already in memory (tests, benchmarks), seen as Vectors."""

    def __init__(self, matrix: np.ndarray, chunk: int = 8192):
        self.matrix, self.chunk = matrix, chunk

    def __len__(self) -> int:
        return len(self.matrix)

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        for start in range(0, len(self.matrix), self.chunk):
            yield start, self.matrix[start:start + self.chunk]

    def take(self, positions: np.ndarray) -> np.ndarray:
        return self.matrix if len(positions) == len(self.matrix) else self.matrix[positions]


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
        return " · ".join(self.keywords[:3]) or _("topic {id}").format(id=self.id)  # read where it is shown


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
        return  # not writable: numba's own places (beside the package, ~/.cache/numba), or it compiles each start
    if os.access(path, os.W_OK):
        os.environ.setdefault("NUMBA_CACHE_DIR", str(path))


@functools.cache
def umap_class() -> type:
    """umap.UMAP, its numba code kept in numba's cache. umap-learn 0.5 compiles three of the functions every fit
    uses (the neighbour graph's and the layout's) without numba's `cache=True`: each new worker process compiled
    them again, 14 s on the shared machine (BENCHMARKS.md). They are wrapped again here, with the cache on."""
    import numba
    from umap import UMAP, layouts, umap_

    def cached(function):
        options = {k: v for k, v in function.targetoptions.items() if k != "nopython"}
        return numba.njit(cache=True, locals=dict(function.locals), **options)(function.py_func)

    layouts._nb_optimize_layout_euclidean_single_epoch = cached(layouts._nb_optimize_layout_euclidean_single_epoch)
    umap_.smooth_knn_dist = cached(umap_.smooth_knn_dist)
    umap_.compute_membership_strengths = cached(umap_.compute_membership_strengths)
    return UMAP


def warm() -> None:
    """Compile (or load) every numba function topics and the map use, on a small made-up chat: `./engram topics
    --warm` runs it at install time, so the first /topics finds the compiled code in the cache."""
    rng = np.random.default_rng(SEED)
    vectors = rng.normal(size=(8, 16))[rng.integers(0, 8, 400)] + rng.normal(0, 0.2, (400, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    find_topics(vectors, ["word"] * len(vectors))
    project(vectors, neighbours(vectors), 2)


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
    rows_at_once = max(TOP_ROWS, NEIGHBOUR_BLOCK_BYTES // (4 * n))  # float32 similarities: ~32 MB at a time
    for start in range(0, n, rows_at_once):
        sims = vectors[start:start + rows_at_once] @ vectors.T
        rows = np.arange(len(sims))
        sims[rows, rows + start] = 2.0  # itself first, even among duplicates
        for first in range(0, len(sims), TOP_ROWS):  # argpartition's int64 indices: TOP_ROWS rows at a time
            part, at = sims[first:first + TOP_ROWS], start + first
            ranks = np.arange(len(part))[:, None]
            best = np.argpartition(part, n - k, axis=1)[:, n - k:]
            best = best[ranks, np.argsort(-part[ranks, best], axis=1, kind="stable")]
            indices[at:at + len(part)] = best
            distances[at:at + len(part)] = np.clip(1.0 - part[ranks, best], 0.0, 2.0)
    distances[:, 0] = 0.0
    return indices, distances


def project(vectors: np.ndarray, knn: tuple[np.ndarray, np.ndarray], dims: int = UMAP_DIMS, *,
            epochs: int | None = None) -> np.ndarray:
    """UMAP of the vectors to `dims` dimensions over their precomputed neighbours (seeded: same input, same
    output; a seed makes UMAP single-threaded, which leaves the other core to replies)."""
    import warnings

    UMAP = umap_class()
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


def find_topics(vectors: np.ndarray | Vectors, texts: Iterable[str], *, fit_max: int = FIT_MAX,
                kept: dict | None = None) -> TopicModel:
    """Topics of messages given their unit embeddings (an array, or a chat read a chunk at a time) and their texts
    (same order). Only the fitted sample's vectors are held at once; the rest are read in chunks. `kept`, if
    given, receives the fitted positions ("fit") and their neighbours ("knn"): the map of the same messages
    needs the same neighbours."""
    source = InMemory(vectors) if isinstance(vectors, np.ndarray) else vectors
    n = len(source)
    if n < MIN_MESSAGES:
        return TopicModel(np.full(n, NOISE), [], n)
    fit = sample(n, fit_max)
    fitted_vectors = source.take(fit)
    knn = neighbours(fitted_vectors)
    if kept is not None:
        kept.update(fit=fit, knn=knn)
    labels = np.full(n, NOISE)
    labels[fit] = cluster(project(fitted_vectors, knn))
    labels = join_nearest(source, labels, fitted_vectors, fit)
    del fitted_vectors
    return TopicModel(*_ranked(source, texts, labels), fitted_on=len(fit))


def join_nearest(source: Vectors, labels: np.ndarray, fitted_vectors: np.ndarray, fit: np.ndarray,
                 quantile: float = 0.1) -> np.ndarray:
    """Messages without a topic (noise, or left out of the sample) join the topic with the nearest centre when
    they are at least as close to it as the closest 90% of its fitted messages; the others stay noise. Centres
    and thresholds come from the fitted sample (`fitted_vectors`, the rows at positions `fit`); the other rows
    are read a chunk at a time."""
    fitted = labels[fit]
    ids = [t for t in np.unique(fitted) if t != NOISE]
    if not ids:
        return labels
    centres = np.stack([_unit(fitted_vectors[fitted == t].mean(axis=0)) for t in ids])
    floors = np.array([np.quantile(fitted_vectors[fitted == t] @ c, quantile) for t, c in zip(ids, centres)])
    out = labels.copy()
    for start, block in source.chunks():
        loose = np.flatnonzero(labels[start:start + len(block)] == NOISE)
        if not len(loose):
            continue
        sims = block[loose] @ centres.T
        best = sims.argmax(axis=1)
        close = sims[np.arange(len(loose)), best] >= floors[best]
        out[start + loose[close]] = np.asarray(ids)[best[close]]
    return out


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def _ranked(source: Vectors, texts: Iterable[str], labels: np.ndarray) -> tuple[np.ndarray, list[Topic]]:
    """Topics numbered by size (1 = largest), with keywords and members ordered by closeness to the centre (the
    mean of all its members): two passes over the vectors, one for the centres, one for the closeness."""
    ids = [t for t in np.unique(labels) if t != NOISE]
    ids.sort(key=lambda t: -int((labels == t).sum()))
    keywords = ctfidf_keywords(texts, labels, ids)
    renumbered = np.full(len(labels), NOISE)
    for number, t in enumerate(ids, start=1):
        renumbered[labels == t] = number
    if not ids:
        return renumbered, []
    sums = np.zeros((len(ids) + 1, 0))  # row 0: noise, row k: topic k
    for start, block in source.chunks():
        if not sums.shape[1]:
            sums = np.zeros((len(ids) + 1, block.shape[1]))
        rows = np.maximum(renumbered[start:start + len(block)], 0)
        order = np.argsort(rows, kind="stable")  # a chunk's rows by topic, then summed topic by topic
        firsts = np.flatnonzero(np.r_[True, rows[order][1:] != rows[order][:-1]])
        sums[rows[order][firsts]] += np.add.reduceat(block[order], firsts, axis=0)
    centres = (sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)).astype(np.float32)
    closeness = np.zeros(len(labels), dtype=np.float32)
    for start, block in source.chunks():
        rows = renumbered[start:start + len(block)]
        closeness[start:start + len(block)] = np.einsum("ij,ij->i", block, centres[np.maximum(rows, 0)])
    topics = []
    for number, words in enumerate(keywords, start=1):
        members = np.flatnonzero(renumbered == number)
        members = members[np.argsort(-closeness[members], kind="stable")]
        topics.append(Topic(number, words, members, centres[number]))
    return renumbered, topics


class TopicWords:
    """A message's words for labelling: not a stopword of its language or of English (scikit-learn's list and
    CHAT_STOPWORDS), letters only, two at least; each counted in its normal form, and the form it is most often
    written in kept for the label."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        self.english = frozenset(ENGLISH_STOP_WORDS.union(CHAT_STOPWORDS))
        self.written: dict[str, dict[str, int]] = {}

    def __call__(self, text: str) -> list[str]:
        lang = language_of(text)
        stop = wording.stopwords(lang)
        out = []
        for word in wording.words(text):
            if len(word) < 2 or word in stop or word in self.english or not _LETTERS.fullmatch(word):
                continue
            if not word.isascii() and word in script_stopwords(word):  # "well это был a hard day": English,
                continue  # but "это" and "был" are Russian small words all the same
            form = wording.normal(word, lang)
            seen = self.written.setdefault(form, {})
            seen[word] = seen.get(word, 0) + 1
            out.append(form)
        return out

    def label(self, form: str) -> str:
        seen = self.written.get(form, {})
        return max(seen, key=lambda w: (seen[w], -len(w)), default=form)


# The languages whose small words a word of a script may be (a Cyrillic word in a message read as English).
_SCRIPT_LANGUAGES = {"ru": ("ru", "uk"), "uk": ("uk", "ru"), "fa": ("fa", "ar"), "ar": ("ar", "fa")}


@functools.cache
def _stopwords_of(languages: tuple[str, ...]) -> frozenset[str]:
    return frozenset().union(*(wording.stopwords(lang) for lang in languages))


def script_stopwords(word: str) -> frozenset[str]:
    """The stopwords of the languages a word's script says it is in (Cyrillic: Russian and Ukrainian; Arabic
    script: Persian and Arabic), whatever the language of the message it is in; none for Latin letters."""
    lang = script_language(word)
    return _stopwords_of(_SCRIPT_LANGUAGES.get(lang, (lang,))) if lang else frozenset()


def ctfidf_keywords(texts: Iterable[str], labels: np.ndarray, ids: Sequence[int], top: int = KEYWORDS
                    ) -> list[list[str]]:
    """Class-based TF-IDF: each cluster's messages as one document; a word's weight there is its frequency in the
    cluster times log(1 + average words per cluster / the word's count over all clusters, noise included)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not ids:
        return []
    analyzer = TopicWords()
    vectorizer = CountVectorizer(analyzer=analyzer)
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
        result.append([analyzer.label(str(vocabulary[i])) for i in best if row[i] > 0])
    return result
