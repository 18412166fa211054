"""Ranking for recall: safe FTS5 queries, fusion of the vector and keyword lists, recency, de-duplication.

Pure functions over ids and scores; the store supplies the candidate lists. Parameters are tuned on LoCoMo
(`./engram eval-locomo`, docs/BENCHMARKS.md).
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
    """Weighted reciprocal-rank fusion with a recency prior."""

    k: int = 60  # RRF constant: larger flattens the rank curve
    vector_weight: float = 1.0
    keyword_weight: float = 1.0
    recency_weight: float = 0.0  # added score for the newest message, decaying with age
    recency_half_life_days: float = 30.0
    dedup_threshold: float = 0.97  # cosine above which a lower-ranked hit is a near-duplicate


def fuse(
    vector: list[tuple[int, float]],
    keyword: list[tuple[int, float]],
    params: FusionParams,
    ages_days: dict[int, float] | None = None,
) -> list[tuple[int, float]]:
    """Fuse two ranked lists [(id, score)] into one [(id, fused score)], best first."""
    fused: dict[int, float] = {}
    for rank, (id_, _) in enumerate(vector, start=1):
        fused[id_] = fused.get(id_, 0.0) + params.vector_weight / (params.k + rank)
    for rank, (id_, _) in enumerate(keyword, start=1):
        fused[id_] = fused.get(id_, 0.0) + params.keyword_weight / (params.k + rank)
    if params.recency_weight and ages_days:
        scale = params.recency_weight / (params.k + 1)
        for id_ in fused:
            age = max(ages_days.get(id_, 0.0), 0.0)
            fused[id_] += scale * math.pow(0.5, age / params.recency_half_life_days)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


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
        if vec is not None and kept_vectors:
            if float(np.max(np.stack(kept_vectors) @ vec)) >= threshold:
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
