"""eval-locomo on a tiny hand-made LoCoMo-format file: evidence ids, metrics, and the command end to end."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bench import eval_locomo, locomo
from bench.__main__ import main as cli
from bot.errors import EngramError
from memory import HashEmbedder, Message, Store, db, recall
from memory.embedded import EMBEDDING_SCHEME, LEGACY_SCHEME, embedding_input

TINY = [
    {
        "sample_id": "conv-tiny",
        "conversation": {
            "speaker_a": "Alice",
            "speaker_b": "Bob",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Alice", "dia_id": "D1:1", "text": "I adopted a puppy named Biscuit yesterday."},
                {"speaker": "Bob", "dia_id": "D1:2", "text": "Congratulations! What breed is it?"},
                {"speaker": "Alice", "dia_id": "D1:3", "text": "A golden retriever.",
                 "blip_caption": "a photo of a golden puppy on a sofa"},
            ],
            "session_2_date_time": "10:05 am on 2 June, 2023",
            "session_2": [
                {"speaker": "Bob", "dia_id": "D2:1", "text": "I started learning the violin last week."},
                {"speaker": "Alice", "dia_id": "D2:2", "text": "Biscuit chewed my running shoes today."},
            ],
        },
        "qa": [
            {"question": "What is the name of Alice's puppy?", "answer": "Biscuit", "evidence": ["D1:1"],
             "category": 4},
            {"question": "Which instrument is Bob learning?", "answer": "violin", "evidence": ["D2:01"],
             "category": 1},
            {"question": "What breed is the puppy and what did it chew?", "answer": "golden retriever; shoes",
             "evidence": ["D1:3; D2:2", "D9:9", "D"], "category": 2},
            {"question": "What is Bob's dog called?", "answer": "none", "evidence": ["D1:1"], "category": 5,
             "adversarial_answer": "Biscuit"},
            {"question": "Question whose evidence is all malformed", "answer": "?", "evidence": ["X1"],
             "category": 3},
        ],
    }
]


@pytest.fixture
def hash_embedder(monkeypatch):
    """The commands below run with the bag-of-words embedder instead of loading the model."""
    monkeypatch.setattr(eval_locomo, "make_embedder", lambda model, device, config=None: HashEmbedder())


@pytest.fixture
def tiny_path(tmp_path):
    path = tmp_path / "tiny-locomo.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


def test_normalise_evidence_splits_strips_padding_and_drops_unknown():
    known = {"D8:6", "D9:17", "D30:5", "D11:26"}
    assert locomo.normalise_evidence(["D8:6; D9:17"], known) == (["D8:6", "D9:17"], 0)
    assert locomo.normalise_evidence(["D30:05", "D:11:26"], known) == (["D30:5", "D11:26"], 0)
    assert locomo.normalise_evidence(["D", "D1:1", "D8:06", "D8:6"], known) == (["D8:6"], 2)


def test_session_time_and_message_ids():
    expected = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc).timestamp()
    assert locomo.parse_session_time("1:56 pm on 8 May, 2023") == expected
    assert locomo.message_id("D12:7") == 120007
    assert locomo.dia_id_of(locomo.message_id("D30:05")) == "D30:5"
    with pytest.raises(EngramError):
        locomo.parse_session_time("yesterday")


def test_load_stores_captions_times_and_normalised_evidence(tiny_path):
    (conv,) = locomo.load(tiny_path)
    assert [t.dia_id for t in conv.turns] == ["D1:1", "D1:2", "D1:3", "D2:1", "D2:2"]
    assert conv.turns[2].text == "A golden retriever. [image: a photo of a golden puppy on a sofa]"
    assert conv.turns[0].created_at < conv.turns[2].created_at < conv.turns[3].created_at
    assert [q.evidence for q in conv.questions] == [["D1:1"], ["D2:1"], ["D1:3", "D2:2"], ["D1:1"], []]
    assert conv.dropped_evidence == 3  # 'D9:9' (no such turn), 'D', 'X1'


def test_question_metrics():
    ranked = ["D1:1", "D1:2", "D1:3", "D1:4", "D1:5", "D1:6", "D1:7"]
    assert eval_locomo.question_metrics(ranked, ["D1:2", "D1:7"]) == {"R@5": 0.5, "R@10": 1.0, "MRR": 0.5}
    assert eval_locomo.question_metrics(ranked, ["D9:9"]) == {"R@5": 0.0, "R@10": 0.0, "MRR": 0.0}
    assert eval_locomo.question_metrics(ranked * 2, ["D1:1"])["MRR"] == 1.0


def test_aggregate_pools_categories_one_to_four_only():
    per_question = [
        ("1", {"R@5": 1.0, "R@10": 1.0, "MRR": 1.0}),
        ("4", {"R@5": 0.0, "R@10": 0.5, "MRR": 0.25}),
        ("5", {"R@5": 0.0, "R@10": 0.0, "MRR": 0.0}),
    ]
    result = eval_locomo.aggregate(per_question)
    assert result["overall"] == {"R@5": 0.5, "R@10": 0.75, "MRR": 0.625}
    assert result["5"]["R@10"] == 0.0
    assert result["2"] == {"R@5": 0.0, "R@10": 0.0, "MRR": 0.0}  # no questions: zeros, not an error


def test_run_with_hash_embedder_finds_keyword_evidence(tiny_path):
    results, facts = eval_locomo.run(tiny_path, HashEmbedder())
    assert facts["turns"] == 5 and facts["without_evidence"] == 1
    assert set(results) == {"keyword", "vector", "hybrid"}
    # 'violin' and 'puppy' are shared words: keyword and hybrid must find them at rank 1.
    for method in ("keyword", "hybrid"):
        assert results[method]["1"]["MRR"] == 1.0
        assert results[method]["4"]["R@10"] == 1.0


def test_command_prints_one_json_object(tiny_path, capsys, hash_embedder):
    assert cli(["eval-locomo", str(tiny_path), "--json", "--methods", "keyword", "hybrid"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert list(output) == ["keyword", "hybrid"]
    assert set(output["hybrid"]) == {"1", "2", "3", "4", "5", "overall"}
    assert set(output["hybrid"]["overall"]) == {"R@5", "R@10", "MRR"}
    assert all(0.0 <= v <= 1.0 for cats in output.values() for m in cats.values() for v in m.values())


def test_command_prints_table(tiny_path, capsys, hash_embedder):
    assert cli(["eval-locomo", str(tiny_path), "--methods", "vector"]) == 0
    out = capsys.readouterr().out
    assert "overall 1-4" in out and "5 adversarial" in out and "vector" in out


def test_unreadable_file_is_a_plain_error(tmp_path, capsys, hash_embedder):
    assert cli(["eval-locomo", str(tmp_path / "missing.json")]) == 2
    assert "cannot read LoCoMo file" in capsys.readouterr().err


# ----- the shipped ranking (memory/recall.py, Search.recall) --------------------------------------------------------
def test_blend_scales_bm25_by_the_best_and_floors_cosine():
    scores = recall.blend({1: 0.5, 2: -0.2, 3: 0.1}, {1: 4.0, 3: 8.0}, keyword_weight=0.4)
    assert scores[1] == pytest.approx(0.6 * 0.5 + 0.4 * 0.5)
    assert scores[2] == 0.0
    assert scores[3] == pytest.approx(0.6 * 0.1 + 0.4)


def test_spread_lifts_the_turn_after_a_strong_one():
    scores = {1: 1.0, 2: 0.1, 3: 0.2}
    spread = recall.spread(scores, {1: (None, 2), 2: (1, 3), 3: (2, None)}, weight=0.3)
    assert spread[2] == pytest.approx(0.1 + 0.3 * 1.0)
    assert spread[3] == pytest.approx(0.2 + 0.3 * 0.1)
    assert spread[1] == pytest.approx(1.0 + 0.3 * 0.1)


def test_embedding_input_is_the_sender_and_the_text():
    plain = Message(chat_id=1, message_id=1, text="A golden retriever.", sender_name="Alice")
    assert embedding_input(plain) == "Alice: A golden retriever."
    assert embedding_input(Message(chat_id=1, message_id=2, text="Hi")) == "Hi"


def test_store_embeds_each_message_once_as_sender_and_text(tmp_path):
    """One model pass a message, whatever came before it; the live path and a batch import agree."""
    texts = [("Alice", "Is it a puppy?"), ("Bob", "Yes"), ("Alice", "How old?")]
    one, batch = Store.open(tmp_path / "a.db", HashEmbedder()), Store.open(tmp_path / "b.db", HashEmbedder())
    try:
        for n, (who, text) in enumerate(texts, start=1):
            one.messages.add(Message(chat_id=1, message_id=n, text=text, sender_name=who, created_at=100.0))
        batch.messages.add_many([Message(chat_id=1, message_id=n, text=t, sender_name=w, created_at=100.0)
                                 for n, (w, t) in enumerate(texts, start=1)])
        expected = HashEmbedder().embed_batch(["Bob: Yes"])[0]
        for store in (one, batch):
            got = store.search.vector_search(1, expected, 1)
            assert got[0][0] == store.messages.get(1, 2).id and got[0][1] == pytest.approx(1.0, abs=1e-2)
            assert store.embeddings.recorded_scheme() == EMBEDDING_SCHEME
    finally:
        one.close()
        batch.close()


def test_vectors_of_the_previous_scheme_are_made_again_never_mixed(tmp_path):
    path = tmp_path / "old.db"
    store = Store.open(path, HashEmbedder())
    store.messages.add_many([Message(chat_id=1, message_id=n, text=f"hello number {n}", created_at=100.0 + n)
                             for n in range(1, 4)])
    store.close()
    raw = db.connect(path)
    raw.execute("UPDATE embedding_scheme SET scheme = ?", (LEGACY_SCHEME,))  # as written before this scheme
    raw.close()
    again = Store.open(path, HashEmbedder())
    try:
        check = again.maintenance.check()
        assert (check["vectors"], check["pending_vectors"]) == (0, 3) and check["consistent"]  # none kept
        assert again.embeddings.recorded_scheme() == EMBEDDING_SCHEME
        assert again.embeddings.embed_pending() == 3  # what Memory's background queue does while the bot runs
        assert again.search.recall(1, "hello number 2", 1)[0].message.message_id == 2
    finally:
        again.close()


def test_hybrid_recall_finds_the_answer_after_the_matching_question_and_respects_exclusions(tmp_path):
    store = Store.open(tmp_path / "m.db", HashEmbedder())
    try:
        texts = ["what breed is your new dog", "a golden retriever", "lovely weather today", "I bought bread",
                 "the bakery was closed", "trains were late again"]
        stored = store.messages.add_many([
            Message(chat_id=7, message_id=n, text=t, created_at=1000.0 + n) for n, t in enumerate(texts, start=1)
        ])
        hits = store.search.recall(7, "which dog breed", 3, now=2000.0)
        ranked = [h.message.text for h in hits]
        assert ranked[0] == "what breed is your new dog"
        assert ranked[1] == "a golden retriever"  # shares no word with the query: found as the next turn
        excluded = store.search.recall(7, "which dog breed", 3, exclude_ids=[stored[0].id], now=2000.0)
        assert "what breed is your new dog" not in [h.message.text for h in excluded]
        assert store.search.recall(8, "which dog breed", 3) == []  # another chat sees nothing
    finally:
        store.close()


def test_a_turn_a_day_later_is_not_read_with_the_previous_one(tmp_path):
    store = Store.open(tmp_path / "gap.db", HashEmbedder())
    try:
        add = store.messages.add
        add(Message(chat_id=1, message_id=1, text="Is it a puppy?", sender_name="Alice", created_at=100.0))
        add(Message(chat_id=1, message_id=2, text="Yes", sender_name="Bob", created_at=100.0 + 86400))
        alone = HashEmbedder().embed_batch(["Bob: Yes"])[0]
        assert store.search.vector_search(1, alone, 1)[0][1] == pytest.approx(1.0, abs=1e-2)
        yes = store.messages.get(1, 2).id
        assert store.search._adjacent_ids(1, [yes]) == {yes: (None, None)}
    finally:
        store.close()


def test_cross_validation_tunes_on_the_others_and_measures_the_held_out(tmp_path, capsys, hash_embedder):
    two = [TINY[0], {**TINY[0], "sample_id": "conv-tiny-2"}]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(two), encoding="utf-8")
    assert cli(["eval-locomo", str(path), "--cv", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert [f["held_out"] for f in output["folds"]] == ["conv-tiny", "conv-tiny-2"]
    for fold in output["folds"]:
        assert set(fold["chosen"]) == set(eval_locomo.CV_GRID)
        assert all(fold["chosen"][k] in eval_locomo.CV_GRID[k] for k in fold["chosen"])
    assert set(output["cv"]) == {"1", "2", "3", "4", "5", "overall"}
    assert 0.0 <= output["cv"]["overall"]["R@10"] <= 1.0 and output["keyword"]["overall"]["R@10"] >= 0.0
    assert cli(["eval-locomo", str(path), "--cv"]) == 0
    assert "leave-one-conversation-out" in capsys.readouterr().out


def test_rank_of_gathered_candidates_is_recall(tmp_path):
    """Search.recall is gather + rank: ranking the gathered candidates again gives the same hits."""
    store = Store.open(tmp_path / "g.db", HashEmbedder())
    try:
        texts = ["the red bike", "a blue bike", "red wine tonight", "bike repair shop"]
        store.messages.add_many([Message(chat_id=3, message_id=n, text=t, created_at=1000.0 + 60 * n)
                                 for n, t in enumerate(texts, start=1)])
        for method in ("hybrid", "keyword", "vector"):
            gathered = store.search.gather(3, "red bike", 3, method=method, now=5000.0)
            expected = store.search.recall(3, "red bike", 3, method=method, now=5000.0)
            assert [h.message.id for h in store.search.rank(gathered, 3)] == [h.message.id for h in expected]
    finally:
        store.close()


# ----- eval-paired: two runs of the same questions, paired ---------------------------------------------------------
def _replies(path, scores: list[tuple[str, str, float]]):
    path.write_text("".join(json.dumps({"conversation": "c", "question": q, "category": c, "score": s}) + "\n"
                            for q, c, s in scores))
    return str(path)


def test_paired_runs_that_score_the_same_cannot_be_told_apart(tmp_path, capsys):
    rows = [(f"q{i}", "1234"[i % 4], (i % 5) / 4) for i in range(40)]
    a, b = _replies(tmp_path / "a.jsonl", rows), _replies(tmp_path / "b.jsonl", rows)
    assert cli(["eval-paired", a, b, "--json", "--resamples", "500"]) == 0
    result = json.loads(capsys.readouterr().out)
    overall = result["groups"]["overall"]
    assert result["paired"] == 40 and overall["difference"] == 0 and overall["ci95"] == [0, 0]
    assert overall["same"] == 40 and set(result["groups"]) == {"overall", "1", "2", "3", "4"}


def test_a_paired_difference_gets_an_interval_around_it(tmp_path, capsys):
    from bench.paired import compare, read_scores

    rows = [(f"q{i}", "1", (i % 3) / 2) for i in range(60)]
    better = [(q, c, min(1.0, s + (0.5 if i % 2 else 0.0))) for i, (q, c, s) in enumerate(rows)]  # +0.25 mean-ish
    a, b = read_scores(_replies(tmp_path / "a.jsonl", better)), read_scores(_replies(tmp_path / "b.jsonl", rows))
    result = compare(a, b, ["1"], resamples=2000)["groups"]["overall"]
    low, high = result["ci95"]
    assert 0 < low < result["difference"] < high and result["b_higher"] == 0
    assert compare(b, a, ["1"], resamples=2000)["groups"]["overall"]["ci95"][1] < 0  # B - A: below zero
    # a question asked twice is paired by its order, one only in A is left out and counted
    extra = read_scores(_replies(tmp_path / "c.jsonl", [*rows, ("q0", "1", 1.0), ("new", "1", 1.0)]))
    assert compare(extra, b, ["1"], resamples=10)["only_a"] == 2
    assert cli(["eval-paired", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]) == 0
    assert "overall 1" in capsys.readouterr().out


def test_a_file_that_is_not_replies_is_a_plain_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q"}\n')
    assert cli(["eval-paired", str(bad), str(bad)]) == 2
    assert "bad.jsonl:1: not a scored reply" in capsys.readouterr().err
    assert cli(["eval-paired", str(tmp_path / "missing.jsonl"), str(bad)]) == 2


def test_answers_of_chosen_categories_are_written_as_they_come(tiny_path, tmp_path, capsys, monkeypatch):
    """eval-locomo --answers --categories 1 2 3 4 with a scripted model: category 5 is left out, and every reply is
    in --out when the run ends, as eval-paired reads them."""
    from fake_llm import ScriptedLLM

    from bench import locomo_answers

    monkeypatch.setattr(locomo_answers, "build_embedder", lambda config: HashEmbedder())
    monkeypatch.setattr(locomo_answers, "build_llm", lambda config: ScriptedLLM("Biscuit the violin."))
    monkeypatch.setenv("ENGRAM_STORAGE__PATH", str(tmp_path / "unused.db"))
    out = tmp_path / "replies.jsonl"
    assert cli(["eval-locomo", str(tiny_path), "--answers", "--categories", "1", "2", "3", "4", "--out", str(out),
                "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["category"] for r in rows) == ["1", "2", "3", "4"] and summary["n"]["5"] == 0
    assert summary["f1"]["overall"] == pytest.approx(sum(r["score"] for r in rows) / 4)
    assert cli(["eval-paired", str(out), str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["paired"] == 4
