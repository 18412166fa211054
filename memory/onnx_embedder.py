"""The embedding model run by onnxruntime: the same vectors as sentence-transformers, for fewer CPU cycles.

On this machine's two cores, onnxruntime runs all-MiniLM-L6-v2 about 1.4x faster than torch does (fused attention,
GELU and layer-norm kernels; measured by `./engram bench-embed-runtime`), and an import's speed is the embedder's
speed. The model is exported once from the sentence-transformers model (the whole pipeline: transformer, pooling,
normalisation) into `cache_dir`, graph-optimised where onnxruntime knows the architecture, and kept only if its
vectors match the torch model's on a set of probe texts (cosine ≥ 0.9999 each): a database embedded by either
runtime is the same database. Nothing is quantised: int8 variants measured mean cosine 0.991 (minimum 0.970)
to the fp32 vectors, below what recall can take unnoticed.

At run time only the tokenizer and onnxruntime are needed (no torch, no sentence-transformers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from memory.errors import EmbeddingModelError

log = logging.getLogger(__name__)

EXPORT_VERSION = 1  # bump when the export changes: older cached files are then made again
MIN_COSINE = 0.9999  # each probe text's vector against the torch model's
# What onnxruntime's transformer optimiser calls the architectures it can fuse (Hugging Face config.model_type).
_FUSABLE = {"bert": "bert", "distilbert": "bert", "roberta": "bert", "xlm-roberta": "bert", "mpnet": "bert"}
PROBES = [
    "", "hi", "  Leading and trailing spaces  ", "Caroline: I went to the LGBTQ support group yesterday.",
    "Melanie: We're thinking about going camping in the mountains next month, the kids love it!",
    "Ünïcödé, emoji 🙂🎉 and symbols ← → ∑ ∫", "Пример текста на русском языке.", "東京で会いましょう。",
    "https://example.com/a?b=c&d=e #tag @mention", "word " * 400,  # longer than the model's window
    "What is my brother's name?", "Remind me to water the plants every Tuesday at 8.",
]


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def export_folder(source: Path, cache_dir: Path) -> Path:
    """Where the export of a model folder is cached: named after the model and what its weights are."""
    import onnxruntime

    weights = sorted(p for p in source.rglob("*") if p.suffix in {".safetensors", ".bin", ".json", ".txt"})
    digest = hashlib.sha256()
    for path in weights:
        digest.update(f"{path.relative_to(source)}:{path.stat().st_size}:{int(path.stat().st_mtime)}".encode())
    digest.update(f"{EXPORT_VERSION}:{onnxruntime.__version__}".encode())
    return cache_dir / f"{source.name}-onnx-{digest.hexdigest()[:12]}"


def ensure_exported(source: str, cache_dir: Path) -> Path:
    """The cached export of a sentence-transformers model (made now if missing); raises EmbeddingModelError."""
    folder = Path(source)
    if not folder.is_dir():
        raise EmbeddingModelError(f"an ONNX export needs the model as a local folder, not {source!r}")
    return build_once(export_folder(folder, cache_dir), lambda work: _export(folder, work),
                      "exporting the embedding model to ONNX once")


def build_once(target: Path, build: Callable[[Path], None], what: str, prefix: str = ".onnx-") -> Path:
    """`target` (a folder of the cache dir, complete once it holds meta.json), made now if missing: `build` writes
    it into a private folder beside it, which is then put in place in one rename, so a crash or a failed check
    never leaves a half-made cache; when another process finished it first, theirs is used. `prefix`: the work
    folder's name starts with it."""
    if (target / "meta.json").exists():
        return target
    cache_dir = target.parent
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=prefix, dir=cache_dir))
    except OSError as exc:
        raise EmbeddingModelError(f"embedding.cache_dir is not writable: {cache_dir} ({exc.strerror})") from exc
    try:
        log.info("%s (cached in %s)", what, target)
        build(work)
        work.chmod(0o755)  # mkdtemp made it private; the image's unprivileged user reads what the build wrote
        if target.exists():  # another process made it meanwhile
            shutil.rmtree(work)
        else:
            try:
                os.replace(work, target)
            except OSError:  # … or just now
                if not (target / "meta.json").exists():
                    raise
                shutil.rmtree(work, ignore_errors=True)
    except Exception:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target


def _export(source: Path, work: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # eager attention exports as the plain pattern onnxruntime's optimiser fuses into one Attention kernel
        model = SentenceTransformer(str(source), device="cpu", model_kwargs={"attn_implementation": "eager"})
    except Exception:
        model = SentenceTransformer(str(source), device="cpu")
    model.eval()
    tokenizer = model.tokenizer
    max_length = int(model.max_seq_length or tokenizer.model_max_length)
    sample = tokenizer(["hello world", "a b c d e f"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    plain = work / "plain.onnx"
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"embedding": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on shapes taken as constants: the probes check them
        torch.onnx.export(Pipeline(), tuple(sample[n] for n in names), str(plain), input_names=names,
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
    reference = model.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True)
    tokenizer.save_pretrained(str(work))
    meta = {"inputs": names, "max_length": max_length, "dim": int(reference.shape[1]), "source": str(source)}
    chosen, cosine = plain, _check(plain, work, meta, reference)
    fused = _fuse(plain, work, model)
    if fused is not None:
        fused_cosine = _check(fused, work, meta, reference)
        if fused_cosine >= MIN_COSINE:
            chosen, cosine = fused, fused_cosine
        else:
            log.info("fused ONNX graph off by %.6f: keeping the plain one", 1 - fused_cosine)
    if cosine < MIN_COSINE:
        raise EmbeddingModelError(f"the ONNX export's vectors differ from the model's (cosine {cosine:.5f})")
    os.replace(chosen, work / "model.onnx")
    for leftover in (plain, work / "fused.onnx"):
        leftover.unlink(missing_ok=True)
    meta |= {"fused": chosen.name == "fused.onnx", "min_cosine": round(float(cosine), 7)}
    (work / "meta.json").write_text(json.dumps(meta, indent=1))


def _fuse(plain: Path, work: Path, model) -> Path | None:
    config = getattr(getattr(model[0], "auto_model", None), "config", None)
    kind = _FUSABLE.get(getattr(config, "model_type", ""))
    if config is None or kind is None:
        return None
    try:
        from onnxruntime.transformers import optimizer

        optimised = optimizer.optimize_model(str(plain), model_type=kind, num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size)
        optimised.save_model_to_file(str(work / "fused.onnx"))
    except Exception as exc:
        log.info("onnxruntime's optimiser could not fuse %s: %s", kind, exc)
        return None
    return work / "fused.onnx"


def _check(graph: Path, folder: Path, meta: dict, reference: np.ndarray) -> float:
    vectors = OnnxRunner(graph, folder, meta, threads=0).run(PROBES)
    return float(np.min(np.sum(vectors * reference, axis=1)))


class OnnxRunner:
    """One onnxruntime session over an exported graph and its tokenizer."""

    def __init__(self, graph: Path, folder: Path, meta: dict, threads: int) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: one per core
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: a reply being generated on the same cores keeps them.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self._inputs = list(meta["inputs"])
        self._max_length = int(meta["max_length"])

    def run(self, texts: Sequence[str]) -> np.ndarray:
        return self.infer(self.encode(texts))

    def encode(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's inputs for a batch, padded to its longest text. Not thread-safe: a fast tokenizer changes
        its padding settings inside each call (two threads at once fail with "Already borrowed")."""
        encoded = self._tokenizer(list(texts), padding=True, truncation=True, max_length=self._max_length,
                                  return_tensors="np")
        return {name: encoded[name].astype(np.int64) for name in self._inputs}

    def infer(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """Unit vectors of an encoded batch; any number of threads at once (onnxruntime sessions are)."""
        vectors = self._session.run(None, feed)[0].astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


class OnnxEmbedder:
    """An Embedder (memory/embedder.py) over the cached export. A call's texts are sorted by length and cut in
    batches (each padded to about its own length, as sentence-transformers does), and the batches run side by
    side, one single-threaded onnxruntime run per core: small matrices split across two threads spend much of
    their time waiting for each other (bench-embed-runtime: 2-25% more messages a second this way)."""

    runtime = "onnxruntime"

    def __init__(self, model: str, source: str, cache_dir: Path, batch_size: int = 16, workers: int = 0,
                 threads: int = 1, graph: Path | None = None):
        self.name = model
        self.batch_size = batch_size
        self._lock = threading.Lock()
        folder = ensure_exported(source, cache_dir)
        meta = json.loads((folder / "meta.json").read_text())
        self.dim = int(meta["dim"])
        self.fused = bool(meta.get("fused"))
        self.folder = folder
        # threads (a run's, 0 = all cores) and graph (another graph of this export): bench-embed-runtime's
        # alternatives, one batch at a time on every core and int8 variants
        self._runner = OnnxRunner(graph or folder / "model.onnx", folder, meta, threads=threads)
        self._pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                                        thread_name_prefix="engram-onnx")

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [order[start:start + self.batch_size] for start in range(0, len(order), self.batch_size)]
        with self._lock:
            feeds = [self._runner.encode([texts[i] for i in part]) for part in parts]
            if len(feeds) == 1:  # a query, a message: no hand-over to the pool
                results = [self._runner.infer(feeds[0])]
            else:
                results = list(self._pool.map(self._runner.infer, feeds))
        for part, vectors in zip(parts, results, strict=True):
            out[part] = vectors
        return out
