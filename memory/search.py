"""Search over the store: vector KNN, keyword (FTS5) search, and the hybrid recall that fuses them.

A mixin of memory.store.Store (it uses the store's connection, embedder and fusion parameters), kept apart so
each file holds one concern: store.py writes and reads messages, this file ranks them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from memory import db, migrations, recall, vectors
from memory.embedder import Embedder
from memory.models import MESSAGE_COLUMNS, Hit, Message, clean_text

DAY = 86400.0
# A turn is read with its neighbours only within the same stretch of conversation: a message sent a day after
# the previous one does not answer it.
TURN_GAP = 3600.0


class Searching:
    """Reading and ranking; the store supplies its connection, embedder and fusion parameters."""

    _conn: Any
    embedder: Embedder
    fusion: recall.FusionParams

    def get_rows(self, ids: Sequence[int]) -> dict[int, Message]:
        """Messages by row id (missing ids are left out)."""
        rows = db.rows_in(self._conn, f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id IN ({{marks}})", ids)
        return {row[0]: Message.from_row(row) for row in rows}

    def matching(self, chat_id: int, query: str, limit: int = 100) -> list[Message]:
        """Messages of a chat that contain every word of `query` (after stemming), newest first.

        The exact counterpart of search for deleting: /forget <query> previews these, then deletes them.
        """
        words = recall.keywords(query) or [w.lower() for w in recall.words(query)]
        if not words:
            return []
        expression = f'chat : "{migrations.chat_token(chat_id)}" AND ' + " AND ".join(f'"{w}"' for w in words[:32])
        rows = self._conn.execute(
            f"SELECT {', '.join('m.' + c.strip() for c in MESSAGE_COLUMNS.split(','))} FROM messages_fts "
            "JOIN messages m ON m.id = messages_fts.rowid WHERE messages_fts MATCH ? AND m.chat_id = ? "
            "ORDER BY m.created_at DESC LIMIT ?",
            (expression, chat_id, limit),
        ).fetchall()
        return [Message.from_row(r) for r in rows]

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.embed_batch([text])[0]

    def vector_search(self, chat_id: int, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        return vectors.knn(self._conn, chat_id, query, k)

    def keyword_search(self, chat_id: int, text: str, k: int) -> list[tuple[int, float]]:
        """BM25 matches of a chat for arbitrary user text: [(row id, score)], best first. Never raises on syntax."""
        expression = recall.fts_query(text)
        if expression is None or k <= 0:
            return []
        # The chat token confines the match (and its BM25 scoring) to this chat's postings; the join re-checks.
        scoped = f'chat : "{migrations.chat_token(chat_id)}" AND ({expression})'
        rows = self._conn.execute(
            "SELECT m.id, f.rank FROM (SELECT rowid, rank FROM messages_fts WHERE messages_fts MATCH ? "
            "ORDER BY rank LIMIT ?) AS f JOIN messages m ON m.id = f.rowid WHERE m.chat_id = ? ORDER BY f.rank",
            (scoped, k, chat_id),
        ).fetchall()
        return [(i, -score) for i, score in rows]

    def recall(
        self,
        chat_id: int,
        query: str,
        k: int = 6,
        *,
        exclude_ids: Iterable[int] = (),
        method: str = "hybrid",
        now: float | None = None,
        query_vector: np.ndarray | None = None,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The k messages of this chat most relevant to `query`; excluded row ids are neither returned nor used.

        method "vector" ranks by cosine similarity alone, "keyword" by BM25 alone; "hybrid" (the default, what
        the bot uses) scores the candidates of both lists and their adjacent turns with recall.fuse.
        """
        query = clean_text(query)
        if method not in ("hybrid", "vector", "keyword"):
            raise ValueError(f"unknown recall method {method!r}")
        excluded = set(exclude_ids)
        pool = (candidates or self.fusion.candidates) + len(excluded)
        qv = None
        vec_list: list[tuple[int, float]] = []
        kw_list: list[tuple[int, float]] = []
        if method in ("hybrid", "vector"):
            qv = query_vector if query_vector is not None else self.embed_query(query)
            vec_list = [(i, s) for i, s in self.vector_search(chat_id, qv, pool) if i not in excluded]
        if method in ("hybrid", "keyword"):
            # Beyond the candidates, a longer list gives the adjacent turns their BM25 score too.
            kw_list = [(i, s) for i, s in self.keyword_search(chat_id, query, 4 * pool) if i not in excluded]
        if method == "vector":
            ranked = vec_list
        elif method == "keyword":
            ranked = kw_list[:pool]
        else:
            ranked = self._fused(chat_id, qv, vec_list, kw_list, pool, excluded, now)
        if not ranked:
            return []
        top = [i for i, _ in ranked[: k * 4]]
        rows = self.get_rows(top)
        top = [i for i in top if i in rows]
        vecs = vectors.get(self._conn, top)
        kept = recall.dedupe(top, vecs, {i: rows[i].text for i in top}, self.fusion.dedup_threshold)
        scores, kws = dict(ranked), dict(kw_list)
        vranks = {i: r for r, (i, _) in enumerate(vec_list, start=1)}
        kranks = {i: r for r, (i, _) in enumerate(kw_list, start=1)}
        hits = []
        for i in kept[:k]:
            sim = float(vecs[i] @ qv) if qv is not None and i in vecs else None
            hits.append(Hit(rows[i], scores[i], sim, kws.get(i), vranks.get(i), kranks.get(i)))
        return hits

    def _fused(self, chat_id, qv, vec_list, kw_list, pool, excluded, now) -> list[tuple[int, float]]:
        """Hybrid ranking: the top `pool` of each list plus their adjacent turns, scored by recall.fuse."""
        candidates = list(dict.fromkeys([i for i, _ in vec_list[:pool]] + [i for i, _ in kw_list[:pool]]))
        if not candidates:
            return []
        neighbours = self._adjacent(chat_id, self.get_rows(candidates).values())
        for id_, (before, after) in list(neighbours.items()):  # an adjacent turn's own neighbour is the candidate
            if before is not None and before not in neighbours:
                neighbours[before] = (None, id_)
            if after is not None and after not in neighbours:
                neighbours[after] = (id_, None)
        scored = set(neighbours)
        scored -= excluded
        rows = self.get_rows(list(scored))
        sims = {i: float(v @ qv) for i, v in vectors.get(self._conn, list(rows)).items()}
        now = time.time() if now is None else now
        ages = {i: (now - m.created_at) / DAY for i, m in rows.items()}
        return recall.fuse(sims, dict(kw_list), neighbours, self.fusion, ages)

    def _adjacent(self, chat_id: int, messages: Iterable[Message]) -> dict[int, tuple[int | None, int | None]]:
        """Each message's previous and next message in its chat (by time, then row id), None at either end."""
        out = {}
        for m in messages:
            before = self._conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND (created_at, id) < (?, ?) AND created_at >= ? "
                "ORDER BY created_at DESC, id DESC LIMIT 1", (chat_id, m.created_at, m.id, m.created_at - TURN_GAP),
            ).fetchone()
            after = self._conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND (created_at, id) > (?, ?) AND created_at <= ? "
                "ORDER BY created_at, id LIMIT 1", (chat_id, m.created_at, m.id, m.created_at + TURN_GAP),
            ).fetchone()
            out[m.rowid] = (before[0] if before else None, after[0] if after else None)
        return out
