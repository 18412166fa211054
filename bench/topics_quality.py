"""The quality half of `bench-topics`: every clustering choice tried, on the labelled chat, with the same
metrics. The production one is bot/topics/clustering.find_topics; the others are what it was chosen over."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from bench.common import say
from bench.topics_data import LabelledMessage
from bot.topics import clustering


def _kmeans(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=3, random_state=0).fit_predict(x)


def _ward(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(k).fit_predict(x)


def best_by_silhouette(x: np.ndarray, fit: Callable[[np.ndarray, int], np.ndarray],
                       ks: range = range(6, 41, 2)) -> np.ndarray:
    """The labels of the k (number of clusters) with the best silhouette: k chosen without knowing the answer."""
    from sklearn.metrics import silhouette_score

    best, best_score = None, -2.0
    for k in ks:
        labels = fit(x, k)
        score = silhouette_score(x, labels, metric="cosine" if x.shape[1] > 10 else "euclidean")
        if score > best_score:
            best, best_score = labels, score
    assert best is not None
    return best


def _pca(x: np.ndarray, dims: int = 50) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(dims, random_state=0).fit_transform(x)


def _umap5(x: np.ndarray) -> np.ndarray:
    return clustering.project(x, clustering.neighbours(x))


def _hdbscan_raw(x: np.ndarray) -> np.ndarray:
    return clustering.cluster(x)


METHODS: dict[str, Callable[[np.ndarray, list[str]], np.ndarray]] = {
    "UMAP 5-d + HDBSCAN + nearest-topic join (production)": lambda x, t: clustering.find_topics(x, t).labels,
    "UMAP 5-d + HDBSCAN, noise left out": lambda x, t: clustering.cluster(_umap5(x)),
    "PCA 50-d + HDBSCAN": lambda x, t: _hdbscan_raw(_pca(x)),
    "HDBSCAN on the 384-d vectors": lambda x, t: _hdbscan_raw(x),
    "k-means, k by silhouette (384-d)": lambda x, t: best_by_silhouette(x, _kmeans),
    "agglomerative (Ward), k by silhouette (PCA 50-d)": lambda x, t: best_by_silhouette(_pca(x), _ward),
    "UMAP 5-d + k-means, k by silhouette": lambda x, t: best_by_silhouette(_umap5(x), _kmeans),
}


def scores(truth: list[str], labels: np.ndarray) -> dict:
    """NMI over every message (noise is one more cluster), purity over those given a topic, noise share."""
    from sklearn.metrics import normalized_mutual_info_score

    labels = np.asarray(labels)
    given = labels != clustering.NOISE
    truth_arr = np.array(truth)
    purity = 0.0
    if given.any():
        hits = 0
        for c in np.unique(labels[given]):
            _, counts = np.unique(truth_arr[labels == c], return_counts=True)
            hits += counts.max()
        purity = hits / given.sum()
    return {"nmi": round(float(normalized_mutual_info_score(truth, labels)), 3), "purity": round(float(purity), 3),
            "noise": round(float(1 - given.mean()), 3), "topics": len(np.unique(labels[given]))}


def quality(messages: list[LabelledMessage], vectors: np.ndarray) -> dict:
    truth = [m.topic for m in messages]
    texts = [m.text for m in messages]
    clustering.find_topics(vectors, texts)  # numba compiles (or loads) its code once, outside the timings
    rows = []
    for name, method in METHODS.items():
        say(f"quality: {name}")
        started = time.perf_counter()
        labels = method(vectors, texts)
        rows.append({"method": name, **scores(truth, labels), "seconds": round(time.perf_counter() - started, 2)})
    model = clustering.find_topics(vectors, texts)
    keywords = []
    for t in model.topics[:13]:
        members = [truth[i] for i in t.members]
        common = max(set(members), key=members.count)
        keywords.append(f"{t.id}. {', '.join(t.keywords)} ({t.size} messages; {members.count(common) / t.size:.0%} "
                        f"“{common}”)")
    return {"messages": len(messages), "labels": len(set(truth)), "methods": rows, "keywords": keywords}
