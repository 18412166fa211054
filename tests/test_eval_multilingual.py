"""eval-multilingual on a small slice: hand-made MemoryBank- and LoCoMo-format files in the layout of the real ones,
the real multilingual model, the command end to end."""

from __future__ import annotations

import json

import pytest

from bench import eval_multilingual
from bench.__main__ import main as cli
from bot.errors import EngramError
from memory.embedder import load_embedder

pytestmark = pytest.mark.slow

EN = {"Emily": {"name": "Emily", "history": {
    "2023-04-28": [{"query": "Hi! I walked in the park today.", "response": "Which park?"},
                   {"query": "Green Meadow Park: I saw cherry blossoms and a cute squirrel.",
                    "response": "Lovely!"}],
    "2023-04-30": [{"query": "I saw a film with a friend.", "response": "Which one?"},
                   {"query": "An art film called Taxi Driver.", "response": "What is it about?"},
                   {"query": "A young taxi driver who understands life differently after meeting passengers.",
                    "response": "Sounds deep."},
                   {"query": "I also like sci-fi: go and see The Wandering Earth.", "response": "I will."}]}}}
CN = {"张曼婷": {"name": "张曼婷", "history": {
    "2023-04-28": [{"query": "你好！我今天去公园散步了。", "response": "哪个公园？"},
                   {"query": "绿禾公园，我看到了盛开的樱花和一只可爱的松鼠。", "response": "真好！"}],
    "2023-04-30": [{"query": "我和朋友去看了一部电影。", "response": "哪一部？"},
                   {"query": "一部文艺片，叫《出租车司机》。", "response": "讲的是什么？"},
                   {"query": "讲一个年轻的出租车司机遇到各种乘客后对人生有了不同的理解。", "response": "很有深度。"},
                   {"query": "我也喜欢科幻片，你可以去看《流浪地球》。", "response": "好的。"}]}}}
QUESTIONS_EN = ["I recommended a science fiction movie before, what was it?", "What novel did I read?",
                "What painters did you recommend?", "What did I see in Green Meadow Park?",
                "What is the film Taxi Driver about?", "What exhibition did I see?", "What problems did I have?"]
QUESTIONS_CN = ["我曾经和你推荐过一部科幻电影，它的名字是？", "我看过什么小说？", "你推荐过哪些画家？",
                "我在绿禾公园看到了什么景色？", "《出租车司机》的内容是什么？", "我看了什么展览？",
                "我遇到了什么麻烦？"]


def turn(dia_id, speaker, text):
    return {"speaker": speaker, "dia_id": dia_id, "text": text}


LOCOMO = [{"sample_id": "conv-26", "conversation": {
    "speaker_a": "Caroline", "speaker_b": "Melanie",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [turn(f"D1:{n}", "Caroline" if n % 2 else "Melanie", text) for n, text in enumerate([
        "Hey Mel! How are the kids?", "They're great, we went camping.",
        "I went to a support group yesterday.", "How was it?",
        "The transgender stories were so inspiring! I was so happy and thankful for all the support.",
        "That's wonderful, Caroline."], start=1)],
    "session_2_date_time": "10:05 am on 2 June, 2023",
    "session_2": [turn(f"D2:{n}", "Caroline" if n % 2 else "Melanie", text) for n, text in enumerate([
        "I ran a charity race last week.", "That sounds great!", "My garden is full of tomatoes.",
        "Nice! Anything new with you?", "I painted my kitchen blue.", "Cool.", "What are your summer plans?",
        "Researching adoption agencies — it's been a dream to have a family and give a loving home to kids."],
        start=1)]},
    "qa": [{"question": "q", "answer": "a", "evidence": ["D1:1"], "category": 4}] * 3 + [
        {"question": "What did Caroline research?", "answer": "Adoption agencies", "evidence": ["D2:8"],
         "category": 1},
        {"question": "What is Caroline's identity?", "answer": "Transgender woman", "evidence": ["D1:5"],
         "category": 1}]}]


@pytest.fixture
def data(tmp_path):
    bank = tmp_path / "memorybank"
    bank.mkdir()
    (bank / "memory_bank_en.json").write_text(json.dumps(EN))
    (bank / "memory_bank_cn.json").write_text(json.dumps(CN, ensure_ascii=False))
    (bank / "probing_questions_en.jsonl").write_text(json.dumps({"Emily": QUESTIONS_EN}) + "\n")
    (bank / "probing_questions_cn.jsonl").write_text(json.dumps({"张曼婷": QUESTIONS_CN}, ensure_ascii=False))
    locomo = tmp_path / "locomo.json"
    locomo.write_text(json.dumps(LOCOMO))
    return bank, locomo


def test_a_small_slice_measures_every_language_and_both_directions(data):
    bank, locomo = data
    rows, facts = eval_multilingual.run(load_embedder("multilingual-e5-small"), bank, locomo, users=1, items=2)
    labels = {r["label"] for r in rows}
    assert {"en", "zh", "ru", "uk", "es", "de", "fa"} <= labels
    assert {"zh→en", "en→zh", "en→ru", "fa→en"} <= labels
    assert facts["messages"] == 2 * 2 * 6 + 6 * 14  # two MemoryBank chats (6 exchanges), six LoCoMo chats
    by_id = {r["id"]: r for r in rows}
    # labelled evidence reached: the sci-fi film (04-30.3) and the park (04-28.1), in English and Chinese
    for key in ("mb:0:0:en>en", "mb:0:3:en>en", "mb:0:0:cn>cn", "mb:0:3:cn>cn", "lc:3:ru>ru", "lc:4:fa>fa",
                "lc:3:en>es"):
        assert by_id[key]["hybrid"] == 1.0, key
    assert by_id["mb:0:1:en>en"]["hybrid"] == 0.0  # a question whose evidence this slice does not hold
    summary = eval_multilingual.summarise(rows)
    everything = next(e for e in summary if e["suite"] == "all" and e["label"] == "ru")
    assert everything["n"] == 2 and everything["dev"]["n"] + everything["held_out"]["n"] == 2


def test_the_command_prints_a_table_and_json(data, capsys):
    bank, locomo = data
    assert cli(["eval-multilingual", "--memorybank", str(bank), "--locomo", str(locomo), "--users", "1",
                "--items", "1", "--model", "multilingual-e5-small"]) == 0
    table = capsys.readouterr().out
    assert "R@10" in table and "zh→en" in table and "held-out" in table
    assert cli(["eval-multilingual", "--locomo", str(locomo), "--items", "1", "--model", "multilingual-e5-small",
                "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {e["label"] for e in printed["summary"]} >= {"en", "ru", "fa→en"}


def test_a_file_without_the_conversation_is_a_clear_error(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{**LOCOMO[0], "sample_id": "conv-99"}]))
    with pytest.raises(EngramError, match="does not hold LoCoMo conversation conv-26"):
        eval_multilingual.run(load_embedder("multilingual-e5-small"), None, other, items=1)
