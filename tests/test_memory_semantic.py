"""The real all-MiniLM-L6-v2 embedder: meaning, not spelling, decides what is close."""

from __future__ import annotations

import numpy as np
import pytest

from memory import Memory, Message, similarity_measures

pytestmark = pytest.mark.slow


def test_embeddings_are_normalised_384d(minilm):
    vectors = minilm.embed_batch(["hello", "a longer sentence about something else"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_car_is_near_truck_far_from_banana(minilm):
    car, truck, banana = minilm.embed_batch(["car", "truck", "banana"])
    near, far = similarity_measures(car, truck), similarity_measures(car, banana)
    assert near["cosine"] > far["cosine"] + 0.1
    assert near["dot"] > far["dot"]
    assert near["euclidean"] < far["euclidean"]


async def test_recall_finds_by_meaning_without_shared_words(tmp_path, minilm):
    async with Memory(tmp_path / "s.db", minilm) as memory:
        texts = ["I bought a new car last week", "The banana bread recipe needs three eggs",
                 "My sister lives in Lisbon", "We watched a football match", "The printer is out of ink"]
        # Remembered on different days: separate memories, not one conversation.
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=1.7e9 + i * 86400)
                                             for i, t in enumerate(texts)])
        await memory.messages.remember(Message(2, 1, "automobile dealers are closed on Sunday"))
        hits = await memory.messages.recall(1, "automobile", 3)
        assert hits[0].message.text == "I bought a new car last week"
        assert all(h.message.chat_id == 1 for h in hits)
        (top,) = await memory.messages.search(1, "Portugal capital city", 1)
        assert top.message.text == "My sister lives in Lisbon"
        compared = await memory.embeddings.compare("car", "truck")
        assert compared["cosine"] > (await memory.embeddings.compare("car", "banana"))["cosine"]
