"""Ranking for recall: keyword scores, fusion of the vector and keyword scores, time windows,
recency, de-duplication.

Pure functions over ids and scores; the store supplies the candidates, their scores and their adjacent turns.
Parameters are chosen by leave-one-conversation-out cross-validation on LoCoMo (docs/BENCHMARKS.md): score fusion
(cosine + keyword score over its best) beat reciprocal-rank fusion, spreading a share of a turn's score to its
neighbours helped most, then the keyword score computed with the chat's own statistics (per-chat IDF, no length
normalisation) and a boost for the time window the query names.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from memory.text import words


@dataclass
class FusionParams:
    """Score fusion: a blend of cosine similarity and the normalised keyword score, spread to adjacent turns, with
    a boost for the query's time window and an optional recency prior. Defaults chosen by cross-validation on
    LoCoMo (docs/BENCHMARKS.md)."""

    keyword_weight: float = 0.3  # share of the keyword score (divided by the query's best) in a message's score
    # The share instead when the query is written in a script the embedding model was not trained on (a Russian,
    # Persian or Chinese question to an English-only model, memory.embedder.reads_script): its vectors of such
    # text are close to noise. Chosen on eval-multilingual's dev part (docs/BENCHMARKS.md).
    foreign_keyword_weight: float = 0.6
    neighbour_weight: float = 0.4  # share of the better adjacent turn's score added to a message's own
    candidates: int = 50  # taken from each list (vector KNN, keyword) before fusion
    recency_weight: float = 0.0  # added score for the newest message, halving every half-life (0: off)
    recency_half_life_days: float = 30.0
    dedup_threshold: float = 0.97  # cosine above which a lower-ranked hit is a near-duplicate
    session_weight: float = 0.2  # share of the best other scored message within session_span added (0: off)
    session_span: float = 3600.0  # seconds: "the same stretch of conversation"
    time_weight: float = 0.3  # added to a message inside the time window the query names (0: windows off)
    time_candidates: int = 20  # best messages of the window (by cosine) added to the candidates
    time_scan_limit: int = 2000  # at most this many messages of the window are scored for those candidates
    # Keyword search reads each query word's postings in the chat, up to a cap: a word in more messages than
    # max(min_postings, max_postings_fraction x the chat's messages) is left out (it says little and costs most).
    max_postings_fraction: float = 0.05
    min_postings: int = 1000


def idf(df: int, n: int) -> float:
    """BM25's inverse document frequency of a word in `df` of a chat's `n` messages (floored at 1e-6, as FTS5)."""
    return max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)


def keyword_scores(postings: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, scores, words matched) of every message holding a query word, from each word's postings (the ids of
    the chat's messages that hold it) and the chat's message count `n`.

    A message's score is the sum of the IDFs (over the chat) of the query words it holds: BM25 with b = 0 (no
    length normalisation) and each word counted once, over one chat's statistics. On LoCoMo it beat FTS5's BM25
    (b = 0.75, IDF over every chat of the database) by 3 points of R@10 under cross-validation. A speaker's
    name, in about half of a two-person chat's messages, gets an IDF near 0.
    """
    if not postings:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0), empty
    lists = list(postings.values())
    every = np.concatenate(lists)
    weights = np.concatenate([np.full(len(ids), idf(len(ids), n)) for ids in lists])
    ids, inverse = np.unique(every, return_inverse=True)
    return ids, np.bincount(inverse, weights=weights), np.bincount(inverse)


def time_boost(scored: dict[int, float], created_at: dict[int, float], window: tuple[float, float] | None,
               exact: AbstractSet[int], weight: float, exact_share: float = 0.5) -> dict[int, float]:
    """Add `weight` to messages inside the window [start, end), and `exact_share` of it to messages outside that
    hold every word of the query.

    A boost, not a filter: nothing outside the window loses score, and a message asked for by its exact words
    keeps most of the lift, so the window decides between similar matches ("mum's birthday" last year or this
    May) without hiding the one the user named word for word when the date was misremembered."""
    if window is None or not weight:
        return scored
    start, end = window
    out = {}
    for id_, score in scored.items():
        if start <= created_at.get(id_, start - 1) < end:
            score += weight
        elif id_ in exact:
            score += exact_share * weight
        out[id_] = score
    return out


def blend(similarity: dict[int, float], bm25: dict[int, float], keyword_weight: float) -> dict[int, float]:
    """Each message's own score: (1 - w) * cosine (floored at 0) + w * BM25 / the best BM25 of the query.

    Dividing by the best BM25 puts the keyword score on the cosine's 0..1 scale whatever the query's length;
    a message the keyword search did not find has BM25 0, which is what it is, not a missing value.
    """
    best = max(bm25.values(), default=0.0)
    return {
        id_: (1.0 - keyword_weight) * max(sim, 0.0)
        + (keyword_weight * bm25.get(id_, 0.0) / best if best > 0 else 0.0)
        for id_, sim in similarity.items()
    }


def spread(scores: dict[int, float], neighbours: dict[int, tuple[int | None, int | None]], weight: float
           ) -> dict[int, float]:
    """Add `weight` x the better score of a message's previous and next turn (0 for a turn not scored).

    A turn is often relevant because of the one it answers or that answers it ("What breed?" / "A golden
    retriever"): the conversation, not the single message, carries the meaning.
    """
    out = {}
    for id_, score in scores.items():
        before, after = neighbours.get(id_, (None, None))
        near = [scores.get(i, 0.0) for i in (before, after) if i is not None]
        out[id_] = score + weight * max(near, default=0.0)
    return out


def spread_in_time(own: dict[int, float], created_at: dict[int, float], weight: float, span: float
                   ) -> dict[int, float]:
    """For each message, `weight` x the best own score of ANOTHER scored message sent within `span` seconds of it.

    Beyond the adjacent turn, a conversation that holds a strong hit is likely to hold the rest of the answer
    (LoCoMo's multi-turn evidence): this lifts the whole stretch a little. Messages without a time get nothing."""
    timed = sorted((t, id_) for id_, t in created_at.items() if id_ in own)
    times = [t for t, _ in timed]
    values = [own[id_] for _, id_ in timed]
    out: dict[int, float] = {}
    for i, (t, id_) in enumerate(timed):
        lo, hi = bisect.bisect_left(times, t - span), bisect.bisect_right(times, t + span)
        out[id_] = weight * max(max(values[lo:i], default=0.0), max(values[i + 1:hi], default=0.0))
    return out


def add_recency(scores: dict[int, float], ages_days: dict[int, float], params: FusionParams) -> dict[int, float]:
    """Add recency_weight x 0.5 ** (age / half-life): harmless for old facts when small, off by default."""
    if not params.recency_weight:
        return scores
    return {
        id_: score + params.recency_weight
        * math.pow(0.5, max(ages_days.get(id_, 0.0), 0.0) / params.recency_half_life_days)
        for id_, score in scores.items()
    }


def fuse(
    similarity: dict[int, float],
    bm25: dict[int, float],
    neighbours: dict[int, tuple[int | None, int | None]],
    params: FusionParams,
    ages_days: dict[int, float] | None = None,
    *,
    window: tuple[float, float] | None = None,
    created_at: dict[int, float] | None = None,
    exact: AbstractSet[int] = frozenset(),
) -> list[tuple[int, float]]:
    """Rank the scored messages [(id, fused score)], best first.

    `similarity` holds the cosine of every message to score (the candidates and their adjacent turns), `bm25`
    the keyword scores known (higher is better), `neighbours` each message's (previous, next) turn,
    `created_at` each scored message's time (for session spreading and the window); `window` the query's time
    window (Unix times) and `exact` the ids that hold every query word.
    """
    own = blend(similarity, bm25, params.keyword_weight)
    scores = spread(own, neighbours, params.neighbour_weight)
    if params.session_weight and created_at:
        lift = spread_in_time(own, created_at, params.session_weight, params.session_span)
        scores = {id_: score + lift.get(id_, 0.0) for id_, score in scores.items()}
    scores = time_boost(scores, created_at or {}, window, exact, params.time_weight)
    scores = add_recency(scores, ages_days or {}, params)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def dedupe(ranked: list[int], vectors: dict[int, np.ndarray], texts: dict[int, str], threshold: float,
           preferred: AbstractSet[int] | None = None) -> list[int]:
    """Drop hits that repeat a higher-ranked one: same normalised text, or cosine above the threshold. Of a
    repeat between a `preferred` hit (what a person said) and another (the assistant's reply saying it back), the
    preferred one is kept, wherever it ranks; the result keeps the ranked order."""
    kept: list[int] = []
    kept_vectors: list[np.ndarray] = []
    seen_texts: set[str] = set()
    order = ranked if preferred is None else (
        [i for i in ranked if i in preferred] + [i for i in ranked if i not in preferred])
    for id_ in order:
        norm_text = " ".join(words(texts.get(id_, "")))
        if norm_text and norm_text in seen_texts:
            continue
        vec = vectors.get(id_)
        if vec is not None and kept_vectors and float(np.max(np.stack(kept_vectors) @ vec)) >= threshold:
            continue
        kept.append(id_)
        if vec is not None:
            kept_vectors.append(vec)
        if norm_text:
            seen_texts.add(norm_text)
    if preferred is not None:
        chosen = set(kept)
        kept = [i for i in ranked if i in chosen]
    return kept


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom else 0.0


def euclidean_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def dot_product(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64))


def similarity_measures(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The three measures of the embedding literature for two vectors.

    For the normalised vectors Engram stores, dot product equals cosine similarity and
    euclidean = sqrt(2 - 2 * cosine), so all three rank pairs alike; they differ for unnormalised vectors.
    """
    return {
        "cosine": cosine_similarity(a, b),
        "euclidean": euclidean_distance(a, b),
        "dot": dot_product(a, b),
    }
