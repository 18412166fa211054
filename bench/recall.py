"""`bench-recall`: recall latency and exactness at scale, ingest throughput with the real model, database size.

One run prints the speed tables of docs/BENCHMARKS.md: `memory.vectors.knn` (what Store.recall runs) for ONE chat
of 10k / 100k / 1M messages among many small chats, with the fraction of the exact top-10 found and a numpy
brute-force scan as the reference; index designs compared on the middle size; ingest through Store.add_many and
Store.add with the real model; database bytes per message.

Scale uses synthetic vectors shaped like MiniLM's: each is a random mix of two real MiniLM embeddings of LoCoMo
turns plus Gaussian noise (pairwise cosine ~0.2 as for the real turns); binary quantisation does slightly worse on
them than on the real turns, so the exactness figures are conservative. Queries are real MiniLM embeddings of the
LoCoMo questions. The scale database is built once (bulk inserts, big transactions) and cached in --cache-dir.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.common import load_average, markdown_table, say
from bench.locomo import load as load_locomo
from memory import Message, SentenceTransformerEmbedder, Store, db, vectors

DEFAULT_SIZES = "10000,100000,1000000"
NOISE = 0.45
HYBRID_QUERIES = 30  # whole hybrid recalls timed a size (each beside a brute-force scan)
BUILD_VERSION = 1  # bump when the layout of the cached scale database changes


def add_arguments(parser) -> None:
    parser.add_argument("data", help="LoCoMo-format file giving texts and queries (e.g. locomo10.json)")
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help=f"messages in the measured chats ({DEFAULT_SIZES})")
    parser.add_argument("--quick", action="store_true", help="short run: sizes 10000,100000, fewer queries and texts")
    parser.add_argument("--queries", type=int, default=200, help="recall queries a size (default 200)")
    parser.add_argument("--other-chats", type=int, default=500, help="small chats around the measured ones")
    parser.add_argument("--other-size", type=int, default=200, help="messages in each small chat")
    parser.add_argument("--ingest", type=int, default=1000, help="messages ingested batched with the real model")
    parser.add_argument("--ingest-single", type=int, default=100, help="messages ingested one at a time")
    parser.add_argument("--no-alternatives", action="store_true", help="skip the comparison of index designs")
    parser.add_argument("--cache-dir", default=".cache/bench", help="where the scale database is kept")
    parser.add_argument("--json", action="store_true", help='print one JSON object: {"sizes": {N: {...}}, ...}')


def main(args) -> int:
    from threadpoolctl import threadpool_limits

    if args.quick:
        args.sizes = "10000,100000" if args.sizes == DEFAULT_SIZES else args.sizes
        args.queries, args.other_chats = min(args.queries, 50), min(args.other_chats, 100)
        args.ingest, args.ingest_single = min(args.ingest, 256), min(args.ingest_single, 30)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    texts, questions = load_texts(Path(args.data))
    say(f"engram bench-recall — {time.strftime('%Y-%m-%d %H:%M')}, load {load_average()}, {os.cpu_count()} CPUs")
    embedder = make_embedder()
    turn_vectors, query_vectors = embedded(embedder, texts, questions, cache)

    ingest_rows, ingest_size = bench_ingest(embedder, texts, args.ingest, args.ingest_single, cache)
    with threadpool_limits(1):  # one query at a time: waking a second BLAS thread costs 8-16 ms
        path = build_scale_db(cache, sizes, args.other_chats, args.other_size, texts, turn_vectors)
        scale, size_rows = bench_scale(path, sizes, query_vectors[: args.queries], questions[: args.queries])
        alt_rows = [] if args.no_alternatives else bench_alternatives(
            cache, sizes, texts, turn_vectors, query_vectors[: args.queries])
    say("")
    if args.json:
        print(json.dumps({"sizes": {str(size): values for size, values in scale.items()},
                          "ingest": ingest_rows, "database": [ingest_size, *size_rows], "alternatives": alt_rows,
                          "load": load_average()}))
        return 0
    scale_rows = [[f"{size:,}", f"{v['knn_p50_ms']:.1f}", f"{v['knn_p95_ms']:.1f}", f"{v['exact_top10']:.3f}",
                   f"{v['brute_p50_ms']:.1f}", f"{v['hybrid_p50_ms']:.1f}", f"{v['hybrid_over_brute']:.2f}"]
                  for size, v in scale.items()]
    print(markdown_table(scale_rows, ["messages in chat", "knn p50 ms", "knn p95 ms", "exact top-10 found",
                                      "numpy brute p50 ms", "hybrid Store.recall p50 ms", "hybrid / brute"],
                         "Recall of one chat (k=10), other chats present"))
    if alt_rows:
        print(markdown_table(alt_rows, ["design", "p50 ms", "p95 ms", "exact top-10 found"],
                             f"Alternatives, one chat of {alt_size(sizes)} messages (same run)"))
    print(markdown_table(ingest_rows, ["texts", "how", "messages", "messages/s"],
                         "Ingest with the real model (all-MiniLM-L6-v2)"))
    print(markdown_table([ingest_size, *size_rows], ["database", "messages", "MB", "bytes/message"], "Database size"))
    say(f"load at the end: {load_average()}")
    return 0


# ----- data ----------------------------------------------------------------------------------------------------
def load_texts(path: Path) -> tuple[list[str], list[str]]:
    """Turns ("sender\ttext", as the bot stores them) and questions of a LoCoMo-format file."""
    conversations = load_locomo(path)
    turns = [f"{t.speaker}\t{t.text}" for conv in conversations for t in conv.turns]
    return turns, [q.question for conv in conversations for q in conv.questions]


def split(text: str) -> tuple[str, str]:
    sender, _, body = text.partition("\t")
    return sender, body


def make_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")


def embedded(embedder, texts, questions, cache: Path):
    """MiniLM embeddings of the turns ("sender: text", as stored) and of the questions, cached."""
    file = cache / f"minilm-{len(texts)}-{len(questions)}.npz"
    if file.exists():
        saved = np.load(file)
        return saved["turns"], saved["questions"]
    say(f"embedding {len(texts)} turns and {len(questions)} questions once (cached in {file}) ...")
    turns = embedder.embed_batch([f"{s}: {t}" for s, t in map(split, texts)])
    queries = embedder.embed_batch(questions)
    np.savez(file, turns=turns, questions=queries)
    return turns, queries


def synthetic(rng, base, n: int):
    """n unit vectors shaped like the base: a random mix of two base vectors plus isotropic noise."""
    dim = base.shape[1]
    i, j = rng.integers(0, len(base), n), rng.integers(0, len(base), n)
    w = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
    x = w * base[i] + (1 - w) * base[j] + rng.standard_normal((n, dim), dtype=np.float32) * (NOISE / np.sqrt(dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# ----- scale database ------------------------------------------------------------------------------------------
class _Synthetic:
    """Stands in for the model's name/dim in a database whose vectors the benchmark writes itself."""

    def __init__(self, dim: int):
        self.name, self.dim = "synthetic-minilm-like", dim

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError("this database's vectors are written by the benchmark, not embedded")


def chat_of(size_index: int) -> int:  # the measured chats; small chats are 1..other_chats
    return 1_000_000 + size_index


def build_scale_db(cache: Path, sizes, other_chats, other_size, texts, base, name="scale") -> Path:
    """A database with one chat per size plus many small chats, filled in interleaved blocks; cached."""
    key = f"{name}-v{BUILD_VERSION}-c{vectors.CHUNK_SIZE}-{'-'.join(map(str, sizes))}-o{other_chats}x{other_size}"
    path = cache / f"{key}.db"
    done = cache / f"{key}.done"
    if path.exists() and done.exists():
        say(f"reusing {path}")
        return path
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(path, _Synthetic(base.shape[1]))
    remaining = {chat_of(i): s for i, s in enumerate(sizes)} | {c: other_size for c in range(1, other_chats + 1)}
    total, written, started = sum(remaining.values()), 0, time.perf_counter()
    next_id = {c: 1 for c in remaining}
    rng = np.random.default_rng(20240501)
    say(f"building {path}: {total:,} messages ...")
    block = 2000
    while remaining:
        for chat in list(remaining):
            n = min(block, remaining[chat])
            first = next_id[chat]
            messages = []
            for m in range(first, first + n):
                sender, body = split(texts[(chat * 7919 + m) % len(texts)])
                messages.append(Message(chat, m, body, role="user" if m % 2 else "assistant", sender_id=1 + m % 2,
                                        sender_name=sender, created_at=1.6e9 + m * 60.0))
            store.add_many(messages, batch_size=block, vectors=synthetic(rng, base, n))
            next_id[chat] += n
            remaining[chat] -= n
            if not remaining[chat]:
                del remaining[chat]
            before, written = written, written + n
            if written // 100_000 != before // 100_000:
                say(f"  {written:,}/{total:,} ({written / (time.perf_counter() - started):,.0f}/s)")
    store.checkpoint()
    store.close()
    done.write_text(time.strftime("%Y-%m-%d %H:%M:%S"))
    return path


def measure(search, queries, ids, matrix):
    """Latencies (ms) of search(query) -> [ids] and the mean fraction of the exact top-10 it finds."""
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        got = search(q)
        times.append((time.perf_counter() - t) * 1000)
        exact = set(ids[np.argpartition(-(matrix @ q), 10)[:10]].tolist())
        found.append(len(exact & set(got[:10])) / 10)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), float(np.mean(found))


def brute(queries, ids, matrix) -> float:
    times = []
    for q in queries:
        t = time.perf_counter()
        scores = matrix @ q
        top = np.argpartition(-scores, 10)[:10]
        ids[top[np.argsort(-scores[top])]]
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 50))


def bench_scale(path: Path, sizes, queries, questions):
    """Per size: vector KNN latency and exactness, and the whole hybrid Store.recall timed query by query next to
    a numpy brute-force scan of the same chat's vectors (alternating, so the shared machine's load hits both)."""
    store = Store.open(path, _Synthetic(queries.shape[1]))
    figures = {}
    for i, size in enumerate(sizes):
        chat = chat_of(i)
        ids, matrix = store.chat_vectors(chat)
        for q in queries[:3]:  # warm the page cache and the scratch buffers
            store.vector_search(chat, q, 10)
            store.recall(chat, questions[0], 10, query_vector=q)

        def knn(q, chat=chat):
            return [i for i, _ in store.vector_search(chat, q, 10)]

        p50, p95, found = measure(knn, queries, ids, matrix)
        hybrid, scan = [], []
        for q, text in zip(queries[:HYBRID_QUERIES], questions[:HYBRID_QUERIES]):
            t = time.perf_counter()
            store.recall(chat, text, 10, method="hybrid", query_vector=q)
            hybrid.append((time.perf_counter() - t) * 1000)
            scan.append(brute(q[None, :], ids, matrix))
        figures[size] = {"knn_p50_ms": p50, "knn_p95_ms": p95, "exact_top10": found,
                         "hybrid_p50_ms": float(np.median(hybrid)), "brute_p50_ms": float(np.median(scan))}
        figures[size]["hybrid_over_brute"] = figures[size]["hybrid_p50_ms"] / figures[size]["brute_p50_ms"]
        say(f"  {size:,}: knn p50 {p50:.1f} ms, found {found:.3f}, hybrid p50 {figures[size]['hybrid_p50_ms']:.1f} "
            f"ms = {figures[size]['hybrid_over_brute']:.2f} x brute (load {load_average()})")
    size_rows = [db_size_row(f"scale ({len(sizes)} big chats + small ones, synthetic vectors)", store)]
    store.close()
    return figures, size_rows


def db_size_row(label: str, store: Store) -> list[str]:
    stats = store.stats()
    size, messages = stats["database_bytes"], stats["messages"]
    return [label, f"{messages:,}", f"{size / 1e6:,.1f}", f"{size / max(messages, 1):,.0f}"]


def alt_size(sizes) -> int:
    return 100_000 if 100_000 in sizes else sizes[min(1, len(sizes) - 1)]


ALT_TABLES = {  # name: vec0 columns; every table holds the same vectors
    "part_bit_c128": "chat_id integer partition key, embedding bit[{d}], chunk_size=128",
    "part_bit_c1024": "chat_id integer partition key, embedding bit[{d}], chunk_size=1024",
    "meta_bit_c1024": "chat_id integer, embedding bit[{d}], chunk_size=1024",
    "part_float_c256": "chat_id integer partition key, embedding float[{d}], chunk_size=256",
}


def bench_alternatives(cache: Path, sizes, texts, base, queries):
    """Index designs compared on one chat of alt_size messages among 100 chats of 1,000, in one database.

    The other designs are not what the memory ships, so they are built and queried here on a connection of this
    benchmark's own (memory.db.connect), next to the shipped one, on the same stored vectors.
    """
    from threadpoolctl import threadpool_limits

    size = alt_size(sizes)
    path = build_scale_db(cache, [size], 100, 1000, texts, base, name="alternatives")
    conn = db.connect(path)
    dim = base.shape[1]
    done = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, columns in ALT_TABLES.items():
        if name in done:
            continue
        say(f"  adding alternative table {name} ...")
        conn.execute("BEGIN")
        conn.execute(f"CREATE VIRTUAL TABLE {name} USING vec0({columns.format(d=dim)})")
        if "part" in name:
            conn.execute(f"CREATE INDEX {name}_chunks_by_chat ON {name}_chunks (partition00, chunk_id)")
        insert = "vec_bit(?)" if "bit" in name else "?"
        cursor = conn.execute(
            "SELECT m.id, m.chat_id, v.embedding FROM messages m JOIN message_vectors v ON v.id = m.id")
        while chunk := cursor.fetchmany(20000):
            x = vectors.matrix_from_blobs([e for _, _, e in chunk])
            data = vectors.quantize(x) if "bit" in name else x
            vals = [(i, c, d.tobytes()) for (i, c, _), d in zip(chunk, data)]
            conn.executemany(f"INSERT INTO {name} (rowid, chat_id, embedding) VALUES (?, ?, {insert})", vals)
        conn.execute("COMMIT")
    chat = chat_of(0)
    reference = Store.open(path, _Synthetic(dim))
    ids, matrix = reference.chat_vectors(chat)
    reference.close()

    def knn_with(candidates, oversample):
        return lambda q: [i for i, _ in vectors.rescore(conn, candidates(q, oversample), q, 10)]

    def scan(table):
        return lambda q, n: vectors.scan_candidates(conn, chat, q, n, table=table)

    def match(table):
        return lambda q, n: vectors.match_candidates(conn, chat, q, n, table=table)

    def float_match(q):
        return [r for (r,) in conn.execute("SELECT rowid FROM part_float_c256 WHERE embedding MATCH ? AND k = 10 "
                                           "AND chat_id = ?", (q.tobytes(), chat))]

    shipped = f"numpy scan of partition bit[] vec0, chunk {vectors.CHUNK_SIZE}"
    designs = [(f"{shipped}, oversample {n}" + (" (shipped)" if n == vectors.DEFAULT_OVERSAMPLE else ""),
                knn_with(scan(vectors.TABLE), n)) for n in (100, 200, 400, 800)]
    designs += [
        ("numpy scan, chunk 128, oversample 400", knn_with(scan("part_bit_c128"), 400)),
        ("numpy scan, chunk 1024, oversample 400", knn_with(scan("part_bit_c1024"), 400)),
        ("vec0 MATCH, partition bit[], chunk 256, oversample 200", knn_with(match(vectors.TABLE), 200)),
        ("vec0 MATCH, partition bit[], chunk 256, oversample 400", knn_with(match(vectors.TABLE), 400)),
        ("vec0 MATCH, partition bit[], chunk 1024, oversample 400", knn_with(match("part_bit_c1024"), 400)),
        ("vec0 MATCH, metadata-column bit[], chunk 1024, oversample 400", knn_with(match("meta_bit_c1024"), 400)),
        ("vec0 MATCH, partition float[] (exact, no re-score), chunk 256", float_match),
    ]
    rows = []
    for label, search in designs:
        rows.append(alt_row(label, search, queries, ids, matrix))
    with threadpool_limits(os.cpu_count()):
        rows.append(alt_row(f"{designs[2][0]}, BLAS threads default", designs[2][1], queries, ids, matrix))
    conn.execute("PRAGMA mmap_size=0")
    rows.append(alt_row(f"{designs[2][0]}, mmap_size=0", designs[2][1], queries, ids, matrix))
    rows.append(alt_row("vec0 MATCH partition float[], mmap_size=0", float_match, queries, ids, matrix))
    conn.close()
    return rows


def alt_row(label, search, queries, ids, matrix):
    for q in queries[:3]:
        search(q)
    p50, p95, found = measure(search, queries, ids, matrix)
    say(f"  {label}: p50 {p50:.1f} ms, found {found:.3f}")
    return [label, f"{p50:.1f}", f"{p95:.1f}", f"{found:.3f}"]


def bench_ingest(embedder, texts, batched: int, single: int, cache: Path):
    """Messages/s through Store.add_many and Store.add with the real model, into a fresh database."""
    rows = []
    path = cache / "ingest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = Store.open(path, embedder)
    short = [t for t in texts if len(split(t)[1]) <= 60]  # real short turns ("Thanks!", "Wow, congrats!")
    for label, pool in (("LoCoMo turns", texts), ("short LoCoMo turns (≤ 60 chars)", short)):
        messages = []
        base = store.count()
        for n, text in enumerate((pool * 3)[: batched + single]):
            sender, body = split(text)
            messages.append(Message(chat_id=1 + (base + n) // 300, message_id=base + n, text=body, sender_name=sender,
                                    created_at=1.6e9 + (base + n) * 60.0))
        chars = sum(len(m.text) for m in messages) / len(messages)
        store.add_many(messages[:8])  # warm-up: first encode allocates
        t = time.perf_counter()
        store.add_many(messages[8:batched])
        rate = (batched - 8) / (time.perf_counter() - t)
        rows.append([f"{label}, avg {chars:.0f} chars", "Store.add_many (batches of 256)", f"{batched - 8:,}",
                     f"{rate:,.0f}"])
        say(f"  ingest batched, {label}: {rate:,.0f} messages/s (load {load_average()})")
        t = time.perf_counter()
        for message in messages[batched:]:
            store.add(message)
        rate = len(messages[batched:]) / (time.perf_counter() - t)
        rows.append([f"{label}, avg {chars:.0f} chars", "Store.add (one at a time)", f"{len(messages) - batched:,}",
                     f"{rate:,.0f}"])
        say(f"  ingest one at a time, {label}: {rate:,.0f} messages/s (load {load_average()})")
    store.checkpoint()
    size_row = db_size_row("real LoCoMo turns + MiniLM vectors (ingest db)", store)
    store.close()
    return rows, size_row
