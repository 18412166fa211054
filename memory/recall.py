"""Ranking for recall: safe FTS5 queries, fusion of the vector and keyword scores, recency, de-duplication.

Pure functions over ids and scores; the store supplies the candidates, their scores and their adjacent turns.
Parameters are tuned on LoCoMo (`./engram eval-locomo`, docs/BENCHMARKS.md): score fusion (cosine + BM25 over
its best) beat reciprocal-rank fusion there, and spreading a share of a turn's score to its neighbours helped most.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# Words too common to be worth a keyword match; the vector side still sees them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t d ll m re ve don
    didn doesn isn wasn weren won""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)


def keywords(text: str) -> list[str]:
    """The words of a query worth matching, lower-cased, de-duplicated, in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)


def words(text: str) -> list[str]:
    """All the words of a text, stopwords included."""
    return _WORD.findall(text)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression for arbitrary user text, or None when nothing is left to match.

    Every word becomes a quoted string ("word"), joined by OR, so no user input can be read as FTS5 syntax
    (AND, NEAR(, *, column filters, unbalanced quotes or parentheses). \\w+ words hold no double quote.
    """
    words = keywords(text)
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words[:32])


@dataclass
class FusionParams:
    """Score fusion: a blend of cosine similarity and normalised BM25, spread to adjacent turns, with an optional
    recency prior. Defaults tuned on LoCoMo (docs/BENCHMARKS.md)."""

    keyword_weight: float = 0.4  # share of the BM25 score (divided by the query's best) in a message's score
    neighbour_weight: float = 0.3  # share of the better adjacent turn's score added to a message's own
    candidates: int = 50  # taken from each list (vector KNN, FTS5) before fusion
    recency_weight: float = 0.0  # added score for the newest message, halving every half-life (0: off)
    recency_half_life_days: float = 30.0
    dedup_threshold: float = 0.97  # cosine above which a lower-ranked hit is a near-duplicate


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
) -> list[tuple[int, float]]:
    """Rank the scored messages [(id, fused score)], best first.

    `similarity` holds the cosine of every message to score (the candidates and their adjacent turns), `bm25`
    the keyword scores known (higher is better), `neighbours` each message's (previous, next) turn.
    """
    scores = spread(blend(similarity, bm25, params.keyword_weight), neighbours, params.neighbour_weight)
    scores = add_recency(scores, ages_days or {}, params)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def dedupe(ranked: list[int], vectors: dict[int, np.ndarray], texts: dict[int, str], threshold: float) -> list[int]:
    """Drop hits that repeat a higher-ranked one: same normalised text, or cosine above the threshold."""
    kept: list[int] = []
    kept_vectors: list[np.ndarray] = []
    seen_texts: set[str] = set()
    for id_ in ranked:
        norm_text = " ".join(_WORD.findall(texts.get(id_, "").lower()))
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
