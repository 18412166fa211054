"""The store on a real SQLite file with sqlite-vec: schema, consistency of the three indexes, isolation."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from memory import HashEmbedder, Memory, Message, ModelMismatch, Store, db, migrations


def consistent(store: Store) -> int:
    """Assert messages, float vectors, vec0 rows and the FTS index hold exactly the same ids; return the count."""
    check = store.maintenance.check()
    assert check["consistent"] and check["keyword_index"] == "ok", check
    assert check["messages"] == check["vectors"] == check["keyword_rows"], check
    return check["messages"]


def msgs(chat_id: int, texts: list[str], start: int = 1, t0: float = 1_700_000_000.0) -> list[Message]:
    return [Message(chat_id, start + i, t, sender_name="Ana", created_at=t0 + 60 * i) for i, t in enumerate(texts)]


def test_migrations_from_empty_are_recorded_and_idempotent(tmp_path):
    conn = db.connect(tmp_path / "m.db")
    assert migrations.migrate(conn) == [f.__name__ for f in migrations.MIGRATIONS]
    assert migrations.applied(conn) == list(range(1, len(migrations.MIGRATIONS) + 1))
    assert migrations.migrate(conn) == []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")}
    assert {"messages", "messages_terms", "embedding_model", "chats", "schema_migrations"} <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_failed_migration_leaves_no_trace(tmp_path):
    conn = db.connect(tmp_path / "m.db")
    migrations.migrate(conn)

    def m_broken(c):
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrations.migrate(conn, [*migrations.MIGRATIONS, m_broken])
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    assert len(migrations.applied(conn)) == len(migrations.MIGRATIONS)
    conn.close()


def test_add_is_idempotent_and_keeps_indexes_consistent(store):
    store.messages.add_many(msgs(1, ["the cat sat on the mat", "dogs bark at night", "a cat chased a mouse"]))
    store.messages.add_many(msgs(1, ["the cat sat on the mat", "dogs bark at night", "a cat chased a mouse"]))
    assert consistent(store) == 3
    assert [m.message_id for m in store.messages.recent(1, 10)] == [1, 2, 3]


def test_edit_reembeds_and_reindexes(store):
    store.messages.add_many(msgs(1, ["I love pizza", "weather is fine"]))
    before = store.search.vector_search(1, store.search.embed_query("pizza"), 1)[0][0]
    edited = store.messages.edit(1, 1, "I love sushi now", edited_at=1_700_000_500.0)
    assert edited.text == "I love sushi now" and edited.edited_at == 1_700_000_500.0
    assert consistent(store) == 2
    assert [i for i, _ in store.search.keyword_search(1, "pizza", 5)] == []
    assert [i for i, _ in store.search.keyword_search(1, "sushi", 5)] == [before]
    assert store.search.vector_search(1, store.search.embed_query("love sushi now"), 1)[0][0] == before
    assert store.messages.edit(1, 999, "nothing") is None


def test_same_message_id_with_new_text_is_an_edit(store):
    store.messages.add(Message(1, 7, "first version"))
    store.messages.add(Message(1, 7, "second version"))
    assert store.messages.count(1) == 1 and store.messages.get(1, 7).text == "second version"
    assert consistent(store) == 1


def test_delete_one_by_query_and_whole_chat(store):
    store.messages.add_many(msgs(1, ["buy milk tomorrow", "buy bread", "call mum", "milk is expensive"]))
    store.messages.add_many(msgs(2, ["milk in chat two"]))
    assert store.messages.delete(1, 3) is True
    assert store.messages.delete(1, 3) is False
    assert [m.text for m in store.search.matching(1, "MILK")] == ["milk is expensive", "buy milk tomorrow"]
    assert store.messages.delete_ids(1, [m.id for m in store.search.matching(1, "milk")]) == 2
    assert [m.text for m in store.messages.recent(1, 10)] == ["buy bread"]
    assert store.messages.count(2) == 1
    # another chat's row is never deleted from here
    assert store.messages.delete_ids(1, [store.messages.get(2, 1).id]) == 0
    assert store.messages.delete_chat(1) == 1
    assert store.messages.count(1) == 0 and store.messages.count(2) == 1
    assert consistent(store) == 1
    assert store.search.recall(1, "milk bread", 5) == []


def test_chats_never_see_each_other(store):
    secrets_a = [f"alpha secret {i} about rockets and the moon" for i in range(30)]
    secrets_b = [f"bravo note {i} about gardens and tomatoes" for i in range(30)]
    store.messages.add_many(msgs(100, secrets_a))
    store.messages.add_many(msgs(200, secrets_b))
    for query in ["rockets moon", "gardens tomatoes", "secret note", "about", "alpha bravo"]:
        for method in ("hybrid", "vector", "keyword"):
            assert all(h.message.chat_id == 100 for h in store.search.recall(100, query, 20, method=method))
            assert all(h.message.chat_id == 200 for h in store.search.recall(200, query, 20, method=method))
    assert store.search.recall(300, "rockets", 5) == []


HOSTILE = [
    '"', '""', "'", "(", ")", "((a", "a)", "AND", "OR", "NOT", "a AND", "OR b", "NEAR(", "NEAR(a b", "*", "a*",
    "^a", "text:cat", "messages_fts:x", "-cat", "+cat", "cat OR", '"unbalanced', "{a b}", "a:b:c", "\\", "\x00",
    "💥🔥", "   ", "", "%", "_", "x" * 5000, "SELECT * FROM messages; DROP TABLE messages;--",
    "a " * 300, "NEAR(cat dog, 2)", "cat NOT dog", "col : cat", "[cat]",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(store, query):
    store.messages.add_many(msgs(1, ["cat and dog", "NEAR the AND gate", "text: colon"]))
    for method in ("hybrid", "keyword", "vector"):
        hits = store.search.recall(1, query, 5, method=method)
        assert isinstance(hits, list)
    assert isinstance(store.search.matching(1, query), list)
    assert store.messages.count(1) == 3


def test_recall_excludes_and_dedupes(store):
    store.messages.add_many(msgs(1, ["my dog is called Rex", "my dog is called Rex!", "my cat is called Tom",
                                     "dog food"]))
    rex = store.messages.get(1, 1)
    hits = store.search.recall(1, "dog called Rex", 5)
    texts = [h.message.text for h in hits]
    assert texts.count("my dog is called Rex") + texts.count("my dog is called Rex!") == 1
    hits = store.search.recall(1, "dog called Rex", 5, exclude_ids=[rex.id, store.messages.get(1, 2).id])
    assert all("Rex" not in h.message.text for h in hits)
    top = store.search.recall(1, "Rex", 1)[0]
    assert top.keyword_score is not None and top.similarity is not None and top.score > 0


def test_model_mismatch_is_detected_then_reembedded(tmp_path):
    path = tmp_path / "e.db"
    first = Store.open(path, HashEmbedder(64, name="model-a"))
    first.messages.add_many(msgs(1, ["apples and pears", "trains and buses"]))
    first.close()
    with pytest.raises(ModelMismatch) as err:
        Store.open(path, HashEmbedder(32, name="model-b"))
    assert "model-a" in str(err.value) and "reembed" in str(err.value)
    with pytest.raises(ModelMismatch):
        Store.open(path, HashEmbedder(64, name="model-b"))  # same dimension, other model: still not mixed
    seen = []
    second = Store.open(path, HashEmbedder(32, name="model-b"), on_model_change="reembed",
                        progress=lambda done, total: seen.append((done, total)))
    assert second.embeddings.recorded_model() == ("model-b", 32)
    assert seen[-1] == (2, 2)
    assert consistent(second) == 2
    reader = db.connect(path)  # a connection of the test's own: the store's is private
    assert len(reader.execute("SELECT embedding FROM message_vectors").fetchone()[0]) == 32 * 2  # float16
    reader.close()
    assert second.search.recall(1, "trains", 1)[0].message.text == "trains and buses"
    second.close()


def test_export_is_json_with_every_message(store):
    store.messages.add_many(msgs(5, ["one", "two", "three"]))
    store.messages.add(Message(5, 10, "reply", role="assistant", sender_name="Engram", reply_to=3, meta={"k": "v"}))
    exported = json.loads(json.dumps(store.messages.export(5)))
    assert [e["text"] for e in exported] == ["one", "two", "three", "reply"]
    assert exported[-1]["role"] == "assistant" and exported[-1]["reply_to"] == 3 and exported[-1]["meta"] == {"k": "v"}
    assert exported[0]["date"].startswith("2023-11-14T")


def test_stats_and_settings(store):
    store.messages.add_many(msgs(1, ["a b c", "d e f"]))
    stats = store.messages.stats()
    assert stats["messages"] == 2 and stats["chats"] == 1 and stats["database_bytes"] > 0
    assert stats["embedding_model"] == "hash-embedder" and stats["embedding_dim"] == 64
    assert store.messages.chat_settings(1) == {"timezone": None, "context_since": 0.0, "language": None,
                                               "language_seen": None}
    store.messages.set_chat_setting(1, timezone="Europe/Lisbon")
    assert store.messages.chat_settings(1)["timezone"] == "Europe/Lisbon"
    assert store.messages.next_message_id(1) == 3
    with pytest.raises(ValueError):
        store.messages.set_chat_setting(1, text="nope")


def test_similarity_measures():
    from memory import similarity_measures

    a, b = np.array([1.0, 0.0]), np.array([0.6, 0.8])
    got = similarity_measures(a, b)
    assert got["cosine"] == pytest.approx(0.6)
    assert got["dot"] == pytest.approx(0.6)
    assert got["euclidean"] == pytest.approx(np.sqrt(2 - 2 * 0.6))
    unnormalised = similarity_measures(np.array([2.0, 0.0]), np.array([3.0, 0.0]))
    assert unnormalised == {"cosine": pytest.approx(1.0), "dot": pytest.approx(6.0), "euclidean": pytest.approx(1.0)}


def test_upgrade_from_previous_schema_keeps_keyword_search(tmp_path):
    path = tmp_path / "old.db"
    conn = db.connect(path)
    migrations.migrate(conn, migrations.MIGRATIONS[:2])  # the schema before the chat-scoped keyword index
    conn.executemany(
        "INSERT INTO messages (chat_id, message_id, sender_name, role, text, created_at) "
        "VALUES (?, ?, 'Ana', 'user', ?, 0)",
        [(1, 1, "the red bicycle"), (2, 1, "a red balloon"), (-100, 1, "red wine")],
    )
    conn.close()
    store = Store.open(path, HashEmbedder(64))
    try:
        reader = db.connect(path)
        assert migrations.applied(reader)[-1] == len(migrations.MIGRATIONS)
        reader.close()
        for chat, text in ((1, "the red bicycle"), (2, "a red balloon"), (-100, "red wine")):
            found = store.search.keyword_search(chat, "red", 5)
            assert [store.search.get_rows([i])[i].text for i, _ in found] == [text]
        store.messages.add(Message(-100, 2, "more red things"))
        assert len(store.search.keyword_search(-100, "red", 5)) == 2
        assert store.search.matching(2, "red")[0].text == "a red balloon"
    finally:
        store.close()


def test_move_chat_carries_everything_to_the_new_id(store):
    store.messages.add_many(msgs(-100, ["the red bicycle is in the shed", "call the plumber on monday"]))
    store.messages.add(Message(-200, 1, "a message already in the new chat"))
    store.messages.set_chat_setting(-100, timezone="Europe/Lisbon")
    assert store.messages.move_chat(-100, -200) == 2
    assert store.messages.count(-100) == 0 and store.messages.count(-200) == 3
    assert consistent(store) == 3
    assert store.search.recall(-100, "bicycle", 5) == [] and store.search.keyword_search(-100, "bicycle", 5) == []
    hit = store.search.recall(-200, "red bicycle shed", 1)[0]
    assert hit.message.text == "the red bicycle is in the shed" and hit.message.message_id == -1
    assert hit.message.meta == {"migrated_from": -100, "original_message_id": 1}
    assert store.search.vector_search(-200, store.search.embed_query("Ana: call the plumber on monday"), 1)[0][0] == \
        store.messages.get(-200, -2).id
    assert store.messages.get(-200, 1).text == "a message already in the new chat"
    assert store.messages.chat_settings(-200)["timezone"] == "Europe/Lisbon"


# ----- vectors that follow their message (Memory's background queue) ---------------------------------------------

def test_rows_first_vectors_later_and_an_edit_meanwhile_is_not_overwritten(store):
    stored = store.messages.add_many(msgs(3, ["the tram was late", "lunch at noon"]), embed=False)
    check = store.maintenance.check()
    assert (check["messages"], check["vectors"], check["pending_vectors"]) == (2, 0, 2) and check["consistent"]
    assert [m.text for m in store.search.matching(3, "tram")] == ["the tram was late"]  # keyword search sees it at once
    pending = store.embeddings.pending(3)
    store.messages.edit(3, 1, "the bus was late", embed=False)  # edited while its old text was being embedded
    assert store.embeddings.write_pending(pending, store.embedder.embed_batch([p.input for p in pending])) == 1
    assert store.embeddings.count_pending() == 1 and store.embeddings.embed_pending() == 1
    assert consistent(store) == 2
    assert store.search.recall(3, "bus late", 1, method="vector")[0].message.id == stored[0].id


async def test_memory_stores_at_once_and_embeds_in_the_background(memory):
    await memory.messages.remember_many([Message(4, i, f"note number {i} about trains") for i in range(1, 41)])
    assert (await memory.maintenance.check())["messages"] == 40
    for _ in range(200):  # the background queue catches up by itself
        if (await memory.maintenance.check())["pending_vectors"] == 0:
            break
        await asyncio.sleep(0.02)
    check = await memory.maintenance.check()
    assert check["pending_vectors"] == 0 and check["vectors"] == 40 and check["consistent"]


async def test_recall_embeds_what_is_pending_in_its_chat_first(memory):
    await memory.messages.remember(Message(6, 1, "the spare key is under the blue flowerpot"))
    hits = await memory.messages.recall(6, "where is the spare key", 3, method="vector")  # no wait: read your writes
    assert hits and hits[0].message.message_id == 1 and hits[0].similarity is not None


async def test_vectors_a_crash_left_unwritten_are_embedded_at_the_next_start(tmp_path, embedder):
    path = tmp_path / "crash.db"
    store = Store.open(path, embedder)
    store.messages.add_many([Message(2, i, f"message {i}") for i in range(1, 11)], embed=False)
    store.close()  # the process died before the queue wrote their vectors
    memory = Memory(path, embedder)
    await memory.start()
    try:
        await memory.embeddings.flush()
        check = await memory.maintenance.check()
        assert (check["vectors"], check["pending_vectors"]) == (10, 0) and check["consistent"]
    finally:
        await memory.stop()
