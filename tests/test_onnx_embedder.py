"""The embedding model's ONNX export: the same vectors as sentence-transformers, made once, refused clearly."""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from bot.config import ConfigError, load_config
from memory.embedder import MINILM, SentenceTransformerEmbedder, load_embedder, resolve_model
from memory.errors import EmbeddingModelError
from memory.onnx_embedder import OnnxEmbedder, export_folder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

TEXTS = [
    "Ana: I'm allergic to penicillin.", "Bob: we move to Porto in spring 🌸", "", "   ", "ok",
    "Caroline: " + "the support group met again and it was lovely " * 40,  # beyond the model's 256 tokens
    "Сегодня мы ходили в горы.", "明日は雨が降るでしょう。", "<b>tags</b> & entities: @bot /search flat",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cache = tmp_path_factory.mktemp("models")
    return cache, OnnxEmbedder("all-MiniLM-L6-v2", resolve_model("all-MiniLM-L6-v2"), cache)


def test_the_export_gives_the_models_own_vectors(exported, minilm):
    _, onnx = exported
    vectors = onnx.embed_batch(TEXTS)
    reference = minilm.embed_batch(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(vectors * reference, axis=1)) >= 0.9999
    # the order of a call does not matter (texts are sorted by length inside)
    again = onnx.embed_batch(TEXTS[::-1])[::-1]
    assert np.allclose(again, vectors, atol=1e-5)
    assert onnx.embed_batch([]).shape == (0, 384)


def test_the_export_is_made_once_and_readable_by_another_user(exported):
    cache, onnx = exported
    folder = export_folder(Path(resolve_model("all-MiniLM-L6-v2")), cache)
    assert (folder / "model.onnx").exists() and (folder / "meta.json").exists()
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no half-made folders left behind
    assert stat.S_IMODE(folder.stat().st_mode) & 0o005 == 0o005  # the Docker image's user reads what root made
    made = (folder / "model.onnx").stat().st_mtime
    started = time.perf_counter()
    OnnxEmbedder("all-MiniLM-L6-v2", resolve_model("all-MiniLM-L6-v2"), cache)
    assert time.perf_counter() - started < 10  # loaded, not exported again (an export takes ~20-30 s)
    assert (folder / "model.onnx").stat().st_mtime == made
    assert onnx.fused  # onnxruntime's optimiser fused BERT's attention and layer norms


def test_runtime_torch_and_a_cache_that_cannot_be_written(tmp_path, caplog):
    assert isinstance(load_embedder(MINILM, runtime="torch", cache_dir=tmp_path), SentenceTransformerEmbedder)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(EmbeddingModelError, match="not writable"):
        load_embedder(MINILM, runtime="onnx", cache_dir=blocked / "models")
    with caplog.at_level(logging.WARNING, logger="memory.embedder"):
        fallback = load_embedder(MINILM, runtime="auto", cache_dir=blocked / "models")
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert "runs on torch" in caplog.text and "not writable" in caplog.text


def test_a_wrong_model_path_and_a_wrong_runtime_are_clear_errors(tmp_path):
    with pytest.raises(EmbeddingModelError, match="path not found"):
        load_embedder(str(tmp_path / "no-such-model"), runtime="onnx", cache_dir=tmp_path)
    with pytest.raises(ConfigError, match="embedding.runtime"):
        (tmp_path / "config.yaml").write_text("embedding:\n  runtime: tensorflow\n")
        load_config(tmp_path / "config.yaml", env={})
