"""The vector index against a numpy brute force, on a real SQLite file with the real sqlite-vec."""

from __future__ import annotations

import numpy as np
import pytest

from memory import db, vectors

DIM = 64


@pytest.fixture
def conn(tmp_path):
    connection = db.connect(tmp_path / "vectors.db")
    vectors.create(connection, DIM, chunk_size=16)  # small chunks: a chat spans several, some partly filled
    yield connection
    connection.close()


def unit_vectors(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def put(conn, ids, chat_ids, x) -> None:
    conn.execute("BEGIN")
    vectors.insert(conn, list(ids), list(chat_ids), x)
    conn.execute("COMMIT")


def stored(x: np.ndarray) -> np.ndarray:
    """The vectors as the index keeps them (float16, re-normalised): the reference for exactness."""
    return vectors.matrix_from_blobs([vectors.as_blob(v) for v in x])


def exact_top(x: np.ndarray, ids: list[int], query: np.ndarray, k: int) -> list[int]:
    scores = stored(x) @ query
    return [ids[j] for j in np.argsort(-scores, kind="stable")[:k]]


def test_knn_with_full_oversample_is_exact(conn):
    x = unit_vectors(100, seed=1)
    ids = list(range(1, 101))
    put(conn, ids, [7] * 100, x)
    for query in unit_vectors(5, seed=2):
        found = vectors.knn(conn, 7, query, k=10, oversample=100)
        assert [i for i, _ in found] == exact_top(x, ids, query, 10)
        assert [s for _, s in found] == pytest.approx(sorted((x @ query).tolist(), reverse=True)[:10], abs=1e-3)


def test_scan_matches_vec0_match_distances(conn):
    """The numpy Hamming scan returns the same candidates (up to ties) as vec0's own KNN."""
    x = unit_vectors(90, seed=3)
    put(conn, range(1, 91), [1] * 90, x)
    query = unit_vectors(1, seed=4)[0]
    bits = vectors.quantize(x)
    qbits = vectors.quantize(query)[0]
    hamming = {i + 1: int(np.unpackbits(bits[i] ^ qbits).sum()) for i in range(90)}
    scanned = vectors.scan_candidates(conn, 1, query, 20)
    matched = vectors.match_candidates(conn, 1, query, 20)
    assert [hamming[i] for i in scanned] == sorted(hamming.values())[:20]
    assert [hamming[i] for i in scanned] == [hamming[i] for i in matched]


def test_knn_stays_within_its_chat(conn):
    x = unit_vectors(120, seed=5)
    put(conn, range(1, 121), [1 if i % 3 else 2 for i in range(120)], x)
    chat_two = {i + 1 for i in range(120) if i % 3 == 0}
    for query in unit_vectors(4, seed=6):
        found = vectors.knn(conn, 2, query, k=10, oversample=50)
        assert found and {i for i, _ in found} <= chat_two
        assert vectors.knn(conn, 3, query, k=10) == []


def test_delete_removes_from_both_tables(conn):
    x = unit_vectors(40, seed=7)
    put(conn, range(1, 41), [1] * 40, x)
    conn.execute("BEGIN")
    vectors.delete(conn, [5, 6])
    conn.execute("COMMIT")
    assert set(vectors.get(conn, [4, 5, 6])) == {4}
    assert conn.execute(f"SELECT count(*) FROM {vectors.TABLE} WHERE rowid IN (5, 6)").fetchone()[0] == 0
    # the vector of a deleted row is no longer a candidate, even for a query equal to it
    found = vectors.knn(conn, 1, x[4], k=3, oversample=40)
    assert 5 not in [i for i, _ in found] and len(found) == 3
    assert 5 not in vectors.scan_candidates(conn, 1, x[4], 40)


def test_reinsert_replaces_the_vector(conn):
    x = unit_vectors(30, seed=8)
    put(conn, range(1, 31), [1] * 30, x)
    replacement = unit_vectors(1, seed=9)
    put(conn, [3], [1], replacement)
    assert np.allclose(vectors.get(conn, [3])[3], replacement[0], atol=1e-3)
    assert conn.execute(f"SELECT count(*) FROM {vectors.TABLE}").fetchone()[0] == 30
    best_id, best_score = vectors.knn(conn, 1, replacement[0], k=1, oversample=30)[0]
    assert best_id == 3 and best_score == pytest.approx(1.0, abs=1e-3)


def test_empty_chat_and_zero_k(conn):
    assert vectors.knn(conn, 1, unit_vectors(1, seed=10)[0], k=5) == []
    put(conn, [1], [1], unit_vectors(1, seed=11))
    assert vectors.knn(conn, 1, unit_vectors(1, seed=12)[0], k=0) == []
    assert [i for i, _ in vectors.knn(conn, 1, unit_vectors(1, seed=12)[0], k=5)] == [1]
