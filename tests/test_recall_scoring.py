"""The new pieces of memory/recall.py: per-chat keyword scores, session spreading, the time-window boost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from memory import recall


def test_keyword_scores_sum_the_chat_idf_of_the_words_held():
    postings = {"rex": np.array([3, 7]), "dog": np.array([3, 5, 7, 9]), "the": np.array(range(1, 60))}
    ids, scores, counts = recall.keyword_scores(postings, 100)
    got = dict(zip(ids.tolist(), scores.tolist()))
    rex, dog, the = recall.idf(2, 100), recall.idf(4, 100), recall.idf(59, 100)
    assert got[3] == pytest.approx(rex + dog + the) and got[5] == pytest.approx(dog + the)
    assert got[20] == pytest.approx(the) and the < 0.5 < dog < rex  # a word in most messages says little
    assert dict(zip(ids.tolist(), counts.tolist()))[7] == 3
    assert recall.idf(2, 100) == pytest.approx(math.log(98.5 / 2.5))
    assert recall.idf(90, 100) == 1e-6  # floored, as FTS5
    empty = recall.keyword_scores({}, 10)
    assert all(len(x) == 0 for x in empty)


def test_spread_in_time_lifts_a_stretch_with_a_strong_hit():
    own = {1: 0.9, 2: 0.1, 3: 0.2, 4: 0.3}
    times = {1: 0.0, 2: 60.0, 3: 120.0, 4: 86400.0}
    lift = recall.spread_in_time(own, times, 0.2, 3600.0)
    assert lift[2] == pytest.approx(0.2 * 0.9) and lift[3] == pytest.approx(0.2 * 0.9)
    assert lift[1] == pytest.approx(0.2 * 0.2)  # the best OTHER message, never itself
    assert lift[4] == 0.0  # a day later: another conversation


def test_time_boost_lifts_the_window_and_half_lifts_exact_words_outside():
    scores = {1: 0.5, 2: 0.5, 3: 0.5}
    times = {1: 100.0, 2: 500.0, 3: 500.0}
    out = recall.time_boost(scores, times, (0.0, 200.0), exact={3}, weight=0.2)
    assert out == {1: pytest.approx(0.7), 2: 0.5, 3: pytest.approx(0.6)}
    assert recall.time_boost(scores, times, None, {3}, 0.2) == scores


def test_fuse_with_a_window_and_sessions():
    params = recall.FusionParams()
    sims = {1: 0.4, 2: 0.4, 3: 0.1}
    ranked = recall.fuse(sims, {}, {}, params, window=(0.0, 10.0), created_at={1: 5.0, 2: 50.0, 3: 6.0})
    assert ranked[0][0] == 1  # same score, inside the window


def test_an_english_only_model_reads_latin_script_and_other_models_every_script():
    from memory import HashEmbedder
    from memory.embedder import reads_script

    english = HashEmbedder(dim=16, name="all-MiniLM-L6-v2")
    assert reads_script(english, "latin") and not reads_script(english, "cyrillic")
    assert not reads_script(HashEmbedder(dim=16, name="/models/sentence-transformers/all-mpnet-base-v2"), "han")
    for name in ("Alibaba-NLP/gte-base-en-v1.5", "nomic-ai/nomic-embed-text-v1.5", "mixedbread-ai/mxbai-embed-large-v1",
                 "Snowflake/snowflake-arctic-embed-s"):
        assert not reads_script(HashEmbedder(dim=16, name=name), "cyrillic"), name
    for name in ("multilingual-e5-small", "BAAI/bge-m3", "paraphrase-multilingual-MiniLM-L12-v2", "my-own-model"):
        assert reads_script(HashEmbedder(dim=16, name=name), "arabic"), name
    told = HashEmbedder(dim=16, name="all-MiniLM-L6-v2")
    told.scripts = {"latin", "cyrillic"}  # an embedder may say what it reads
    assert reads_script(told, "cyrillic") and not reads_script(told, "han")


def test_a_query_in_a_script_the_model_cannot_read_leans_on_its_keywords(tmp_path):
    from memory import HashEmbedder, Message, Store
    from memory.recall import FusionParams

    store = Store.open(tmp_path / "e.db", HashEmbedder(dim=64, name="all-MiniLM-L6-v2"))
    try:
        texts = ["Мою собаку зовут Барон.", "Вчера шёл дождь весь день.", "My dog is called Rex.",
                 "Купил билеты в кино на субботу."]
        store.messages.add_many([Message(1, i, t, sender_name="Ana", created_at=1000.0 + i)
                                 for i, t in enumerate(texts, start=1)])
        russian = store.search.gather(1, "Как зовут мою собаку?", 4)
        english = store.search.gather(1, "What is my dog called?", 4)
        assert russian.foreign and not english.foreign
        leaning = [(h.message.message_id, round(h.score, 6)) for h in store.search.rank(russian, 4)]
        as_if = [(h.message.message_id, round(h.score, 6))
                 for h in store.search.rank(russian, 4, FusionParams(keyword_weight=0.6))]
        assert leaning == as_if and leaning[0][0] == 1
        plain = [(h.message.message_id, round(h.score, 6)) for h in store.search.rank(english, 4)]
        assert plain == [(h.message.message_id, round(h.score, 6))
                         for h in store.search.rank(english, 4, FusionParams())]
    finally:
        store.close()
