"""The vector index: sqlite-vec vec0 for the candidate scan, exact float vectors for the final ranking.

Layout (measured in docs/BENCHMARKS.md):
- `vec_messages` (vec0): `chat_id` partition key, so one chat's KNN scans only that chat's rows, and a binary
  quantised copy of each embedding (1 bit a dimension, Hamming distance): 32x less to scan than float32.
- `message_vectors`: the float32 embedding of each message, keyed by the message id. The top `oversample`
  candidates of the Hamming scan are re-scored exactly from it (cosine = dot product of normalised vectors).

Rows share ids with `messages`; the store deletes from all tables in the same transaction.
"""

from __future__ import annotations

import numpy as np

# Candidates re-scored exactly; 0.97-0.99 of the exact top-10 on MiniLM vectors for 100-200 (FINDINGS.md).
DEFAULT_OVERSAMPLE = 200
# vec0 pre-allocates one chunk per partition; small chunks keep a database of many small chats small.
CHUNK_SIZE = 128


def create(conn, dim: int) -> None:
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS vec_messages USING vec0("
        f"chat_id integer partition key, embedding bit[{dim}], chunk_size={CHUNK_SIZE})"
    )
    conn.execute("CREATE TABLE IF NOT EXISTS message_vectors (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)")


def drop(conn) -> None:
    conn.execute("DROP TABLE IF EXISTS vec_messages")
    conn.execute("DROP TABLE IF EXISTS message_vectors")


def as_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def insert(conn, ids: list[int], chat_ids: list[int], vectors: np.ndarray) -> None:
    """Insert (or replace) the vectors of these message ids. Call inside the caller's transaction."""
    delete(conn, ids)
    conn.executemany(
        "INSERT INTO vec_messages (rowid, chat_id, embedding) VALUES (?, ?, vec_quantize_binary(?))",
        [(i, c, as_blob(v)) for i, c, v in zip(ids, chat_ids, vectors)],
    )
    conn.executemany(
        "INSERT INTO message_vectors (id, embedding) VALUES (?, ?)",
        [(i, as_blob(v)) for i, v in zip(ids, vectors)],
    )


def delete(conn, ids: list[int]) -> None:
    if not ids:
        return
    conn.executemany("DELETE FROM vec_messages WHERE rowid = ?", [(i,) for i in ids])
    conn.executemany("DELETE FROM message_vectors WHERE id = ?", [(i,) for i in ids])


def get(conn, ids: list[int]) -> dict[int, np.ndarray]:
    """Float vectors by message id (missing ids are left out)."""
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for rowid, blob in conn.execute(f"SELECT id, embedding FROM message_vectors WHERE id IN ({marks})", chunk):
            out[rowid] = np.frombuffer(blob, dtype=np.float32)
    return out


def knn(conn, chat_id: int, query: np.ndarray, k: int, oversample: int = DEFAULT_OVERSAMPLE) -> list[tuple[int, float]]:
    """The k nearest messages of one chat to a normalised query: [(message id, cosine similarity)], best first."""
    if k <= 0:
        return []
    limit = max(k, oversample)
    candidates = [
        rowid
        for (rowid,) in conn.execute(
            "SELECT rowid FROM vec_messages WHERE embedding MATCH vec_quantize_binary(?) AND k = ? AND chat_id = ?",
            (as_blob(query), limit, chat_id),
        )
    ]
    if not candidates:
        return []
    vectors = get(conn, candidates)
    ids = [i for i in candidates if i in vectors]
    matrix = np.stack([vectors[i] for i in ids])
    scores = matrix @ np.asarray(query, dtype=np.float32)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[j], float(scores[j])) for j in order]
