"""The vector index: a binary-quantised sqlite-vec vec0 table for the candidate scan, exact floats for the ranking.

Layout (measured with `./engram bench-recall`, docs/BENCHMARKS.md):
- `vec_messages` (vec0): `chat_id` partition key, so one chat's scan touches only that chat's rows, and a
  binary-quantised copy of each embedding (1 bit a dimension, sign of each component): 32x less to scan than
  float32. vec0 owns this storage: inserts, deletes and chunk allocation go through it.
- `message_vectors`: the embedding of each message as float16, keyed by the message id, re-normalised when read.
  The `oversample` best candidates of the Hamming scan are re-scored from it (cosine = dot product of normalised
  vectors). float16 halves the largest part of the database (768 instead of 1,536 bytes at 384 dimensions, so
  ~2.5x fewer pages with 4 KB pages); scores move by < 1e-4, which left the top-10 of 200 queries over 100k
  MiniLM-like vectors identical to float32's.

The Hamming scan itself is done in numpy over vec0's chunk tables (`scan_candidates`) rather than with vec0's
`MATCH`: the PyPI sqlite-vec build has no SIMD and selects each chunk's top-k in O(chunk x k), so its KNN cost
grows with the oversample (110-140 ms for one chat of 100k rows with k=200-400 on a busy machine), while numpy
reads the chat's chunks and computes every distance in a few vectorised passes. The chunk tables are sqlite-vec
0.1.x's storage format; if they are not what this module expects, `knn` falls back to vec0's own `MATCH`
(same results, slower).

Rows share ids with `messages`; the store deletes from all tables in the same transaction.
"""

from __future__ import annotations

import threading

import numpy as np

from memory import db

TABLE = "vec_messages"
# Candidates of the Hamming scan re-scored exactly. On MiniLM-like vectors, one chat of 100k rows: 400 found 0.96-0.97
# of the exact top-10 (200: 0.92, 800: 0.99); re-scoring costs ~1 ms a hundred candidates.
DEFAULT_OVERSAMPLE = 400
# Big chats need more: the Hamming rank of the true neighbours spreads with the row count. At 1M rows the best
# 2,000 (1 in 500) held 0.96 of the exact top-10 where the best 400 held 0.80.
OVERSAMPLE_FRACTION = 1 / 500
# Rows per vec0 chunk. vec0 pre-allocates a whole chunk for each partition (chat): 256 bit[384] rows are ~14 KB,
# so a database of many small chats stays small, while a big chat is read in few enough chunks to scan fast.
CHUNK_SIZE = 256
_FAR = np.int32(1 << 20)  # the distance given to empty and deleted slots of a chunk


def create(conn, dim: int, *, table: str = TABLE, chunk_size: int = CHUNK_SIZE) -> None:
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING vec0("
        f"chat_id integer partition key, embedding bit[{dim}], chunk_size={chunk_size})"
    )
    # vec0 finds a partition's chunks by scanning its chunk table (~2 KB a row: 40 ms at 1.2M messages); this
    # index on the shadow table makes it a lookup, for vec0's own queries and for scan_candidates alike.
    conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_chunks_by_chat ON {table}_chunks (partition00, chunk_id)")
    conn.execute("CREATE TABLE IF NOT EXISTS message_vectors (id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)")


def drop(conn) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute("DROP TABLE IF EXISTS message_vectors")


def as_blob(vector: np.ndarray) -> bytes:
    """The stored form of a float vector (float16)."""
    return np.ascontiguousarray(vector, dtype=np.float16).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    """A stored vector as float32, re-normalised (float16 rounding moves the norm by ~1e-4)."""
    return matrix_from_blobs([blob])[0]


def quantize(vectors: np.ndarray) -> np.ndarray:
    """Sign bits, packed 8 to a byte (bit i of a vector is bit i % 8 of byte i // 8): (n, dim / 8) uint8."""
    return np.packbits(np.atleast_2d(vectors) > 0, axis=1, bitorder="little")


def insert(conn, ids: list[int], chat_ids: list[int], vectors: np.ndarray, *, table: str = TABLE) -> None:
    """Insert (or replace) the vectors of these message ids. Call inside the caller's transaction."""
    delete(conn, ids, table=table)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    bits = quantize(vectors)
    conn.executemany(
        f"INSERT INTO {table} (rowid, chat_id, embedding) VALUES (?, ?, vec_bit(?))",
        [(i, c, b.tobytes()) for i, c, b in zip(ids, chat_ids, bits)],
    )
    conn.executemany(
        "INSERT INTO message_vectors (id, embedding) VALUES (?, ?)",
        [(i, as_blob(v)) for i, v in zip(ids, vectors)],
    )


def delete(conn, ids: list[int], *, table: str = TABLE) -> None:
    if not ids:
        return
    conn.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(i,) for i in ids])
    conn.executemany("DELETE FROM message_vectors WHERE id = ?", [(i,) for i in ids])


def get(conn, ids: list[int]) -> dict[int, np.ndarray]:
    """Float vectors by message id (missing ids are left out)."""
    found = _stored(conn, ids)
    if not found:
        return {}
    return dict(zip(found, matrix_from_blobs(list(found.values()))))


def _stored(conn, ids: list[int]) -> dict[int, bytes]:
    return dict(db.rows_in(conn, "SELECT id, embedding FROM message_vectors WHERE id IN ({marks})", ids))


def knn(conn, chat_id: int, query: np.ndarray, k: int, oversample: int = DEFAULT_OVERSAMPLE) -> list[tuple[int, float]]:
    """The k nearest messages of one chat to a normalised query: [(message id, cosine similarity)], best first."""
    if k <= 0:
        return []
    limit = max(k, oversample)
    try:
        candidates = scan_candidates(conn, chat_id, query, limit, fraction=OVERSAMPLE_FRACTION)
    except _LayoutUnknown:
        candidates = match_candidates(conn, chat_id, query, limit)
    return rescore(conn, candidates, query, k)


def rescore(conn, candidates: list[int], query: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k best candidates by exact cosine similarity to the query, from the stored float vectors."""
    found = _stored(conn, candidates)
    if not found:
        return []
    ids = list(found)
    matrix = matrix_from_blobs(list(found.values()))
    # einsum, not BLAS: no thread wake-ups for a few hundred rows (8-16 ms a query with two BLAS threads)
    scores = np.einsum("ij,j->i", matrix, np.asarray(query, dtype=np.float32))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[j], float(scores[j])) for j in order]


def matrix_from_blobs(blobs: list[bytes]) -> np.ndarray:
    """Stored vectors as one float32 matrix with unit rows."""
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(len(blobs), -1).astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    norms[norms == 0] = 1.0
    return matrix / norms[:, None]


def match_candidates(conn, chat_id: int, query: np.ndarray, limit: int, *, table: str = TABLE) -> list[int]:
    """The `limit` nearest rows of a chat by Hamming distance, using vec0's own KNN (`MATCH ... AND k = ?`)."""
    rows = conn.execute(
        f"SELECT rowid FROM {table} WHERE embedding MATCH vec_bit(?) AND k = ? AND chat_id = ?",
        (quantize(query)[0].tobytes(), limit, chat_id),
    )
    return [rowid for (rowid,) in rows]


class _LayoutUnknown(Exception):
    """vec0's chunk tables are not laid out as this module expects (another sqlite-vec version)."""


class _Scratch(threading.local):
    """Per-thread buffers reused across scans: a fresh 50 MB array a query costs page faults, not just copies."""

    def __init__(self):
        self.words = np.empty((0,), dtype=np.uint64)
        self.ids = np.empty((0,), dtype=np.int64)

    def take(self, rows: int, words_per_row: int) -> tuple[np.ndarray, np.ndarray]:
        if self.words.size < rows * words_per_row:
            self.words = np.empty((max(rows * words_per_row, 2 * self.words.size),), dtype=np.uint64)
        if self.ids.size < rows:
            self.ids = np.empty((max(rows, 2 * self.ids.size),), dtype=np.int64)
        return self.words[: rows * words_per_row].reshape(rows, words_per_row), self.ids[:rows]


_scratch = _Scratch()


def scan_candidates(
    conn, chat_id: int, query: np.ndarray, limit: int, *, table: str = TABLE, fraction: float = 0.0
) -> list[int]:
    """The nearest rows of a chat by Hamming distance (`limit`, or `fraction` of the chat's rows if more),
    computed in numpy over vec0's chunk tables.

    Reads the chat's chunks (validity bitmap, rowids, packed bits: vec0's partition layout), XORs them with the
    query's bits and counts the differing bits. Ties at the cut-off are broken arbitrarily, as vec0 does.
    """
    try:
        chunks = conn.execute(
            f"SELECT chunk_id, validity, rowids FROM {table}_chunks WHERE partition00 = ? ORDER BY chunk_id",
            (chat_id,),
        ).fetchall()
        stored: dict[int, bytes] = dict(db.rows_in(
            conn, f"SELECT rowid, vectors FROM {table}_vector_chunks00 WHERE rowid IN ({{marks}})",
            [c[0] for c in chunks]))
    except Exception as exc:  # no such table/column: not the layout this module knows
        raise _LayoutUnknown(str(exc)) from exc
    rows = [(validity, rowids, stored.get(chunk_id, b"")) for chunk_id, validity, rowids in chunks]
    if not rows:
        return []
    qbits = quantize(query)[0]
    if qbits.size % 8:
        raise _LayoutUnknown("dimension is not a multiple of 64")
    words = qbits.size // 8
    chunk = len(rows[0][1]) // 8
    if any(len(r[0]) * 8 != chunk or len(r[1]) != chunk * 8 or len(r[2]) != chunk * qbits.size for r in rows):
        raise _LayoutUnknown("unexpected chunk sizes")
    bits, ids = _scratch.take(len(rows) * chunk, words)
    flat_bits = bits.reshape(len(rows), chunk * words)
    flat_ids = ids.reshape(len(rows), chunk)
    validity = np.empty((len(rows), chunk // 8), dtype=np.uint8)
    for n, (valid, rowids, vectors) in enumerate(rows):
        flat_bits[n] = np.frombuffer(vectors, dtype=np.uint64)
        flat_ids[n] = np.frombuffer(rowids, dtype=np.int64)
        validity[n] = np.frombuffer(valid, dtype=np.uint8)
    np.bitwise_xor(bits, qbits.view(np.uint64), out=bits)
    counts = np.bitwise_count(bits)  # uint8, (rows, words)
    distance = counts[:, 0].astype(np.int32)
    for w in range(1, words):
        distance += counts[:, w]
    distance[~np.unpackbits(validity, axis=None, bitorder="little").astype(bool)] = _FAR
    live = int(np.count_nonzero(distance < _FAR))
    limit = min(max(limit, int(live * fraction)), live)
    if limit <= 0:
        return []
    if limit < distance.size:
        best = np.argpartition(distance, limit - 1)[:limit]
    else:
        best = np.flatnonzero(distance < _FAR)
    best = best[np.argsort(distance[best], kind="stable")]
    return ids[best].tolist()
