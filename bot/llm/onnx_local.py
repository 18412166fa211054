"""The fast local runtime: the same model, exported once to onnxruntime-genai and run in this process.

transformers spends most of a token on per-operation overhead on a small CPU (11-16 tokens/s for SmolLM2-135M
on two cores); onnxruntime-genai runs the same decoder with fused kernels and a preallocated attention cache at
the memory's speed (docs/BENCHMARKS.md, `./engram bench-llm`). The export (bot/llm/onnx_export.py) is made once
from the folder transformers loads (the converted GGUF for the bundled model) into `llm.cache_dir`, written under
a temporary name and renamed only once its check passed, world-readable (the Docker image's user reads what the
build wrote); a cached export that does not load is made again, once.

OnnxLLM is a TransformersLLM: the queue (one generation at a time, in arrival order), the worker thread, the
cancel relay, stop strings and count_tokens (the model's own Hugging Face tokenizer and chat template) are that
class's; only loading and the token loop differ. With `llm.runtime: auto` a model that cannot be exported (an
architecture the builder does not know, a hub name not downloaded, no onnxruntime-genai) is run by transformers
after a log line; with `llm.runtime: onnx` that is an error.

The prefix cache: the generator keeps its attention cache between generations. A new prompt that starts with
tokens of the last prompt (the fixed system prompt and worked examples; for a follow-up the whole earlier
prompt) rewinds it to the shared length (`Generator.rewind_to`) and appends only the rest. Only prompt tokens are
reused, never the reply's: a reply's tokens went through the decode path one at a time, whose results differ in
the last bits from the prompt path's, so a follow-up appends the earlier reply again with its new question. With
pieces that start at even positions and hold at least two tokens (bot/llm/onnx_export.py `prefill_chunks`,
`reusable`), the cached state is bit for bit the one a prompt computed from nothing would have — the export's
check proves it for each export — so greedy replies do not depend on what was cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import Device, DType, LLMRuntime, OnnxPrecision
from bot.errors import LLMError, LLMUnavailable
from bot.llm.local import _DONE, GenerationStats, TransformersLLM, _first_line
from bot.llm.model_files import BUNDLED_NAME, ensure_converted, resolve_source
from bot.llm.onnx_export import EXPORT_VERSION, Progress, build, prefill_chunks, reusable
from bot.llm.prefix_cache import MIN_REUSE_TOKENS

log = logging.getLogger(__name__)

# Prompt tokens appended at a time, so a cancel is seen within one piece's compute (~0.1 s). Measured against the
# whole prompt at once (537 tokens, one core's CPU time): 128 1.18-1.24 s, 64 1.22-1.29, 256 1.26-1.29, whole
# 1.36-1.43 (the attention kernel computes a piece's full square before masking its upper half).
PREFILL_CHUNK = 128


def available() -> bool:
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError:
        return False
    return True


def export_folder(source: Path, cache_dir: Path, precision: OnnxPrecision) -> Path:
    """Where the export of a model folder is cached: named after the model, what its files are and the precision."""
    import onnxruntime_genai

    digest = hashlib.sha256()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(source)}:{path.stat().st_size}:{int(path.stat().st_mtime)}".encode())
    digest.update(f"{EXPORT_VERSION}:{onnxruntime_genai.__version__}:{precision.value}".encode())
    return cache_dir / f"{source.name}-genai-{precision.value}-{digest.hexdigest()[:12]}"


def ensure_exported(source: Path, cache_dir: Path, precision: OnnxPrecision,
                    progress: Progress | None = None) -> tuple[Path, bool]:
    """The checked export of `source` (made now if missing or half-made). Returns (folder, made_now); raises
    LLMUnavailable with the reason when the model cannot be exported or its export fails the check. The
    conversion's steps go to `progress` (a progress bar), else to the log, a line every quarter or so."""
    if not available():
        raise LLMUnavailable("onnxruntime-genai is not installed (pip install onnxruntime-genai)")
    target = export_folder(source, cache_dir, precision)
    if (target / "meta.json").is_file():
        return target, False
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache_dir))
    except OSError as exc:
        raise LLMUnavailable(f"llm.cache_dir is not writable: {cache_dir} ({exc.strerror})") from exc
    started = time.perf_counter()
    log.warning("converting the language model for onnxruntime-genai once (%s, about a minute): %s -> %s",
                precision.value, source, target)
    try:
        meta = build(source, work, precision.value, progress=progress or _log_progress())
        _world_readable(work)
        if target.exists():  # half-made by an older run (no meta.json), or made meanwhile by another process
            if (target / "meta.json").is_file():
                shutil.rmtree(work, ignore_errors=True)
                return target, False
            shutil.rmtree(target, ignore_errors=True)
        os.replace(work, target)
    except RuntimeError as exc:
        raise LLMUnavailable(f"cannot export {source.name} to onnxruntime-genai: {exc}") from exc
    except OSError as exc:
        raise LLMUnavailable(f"cannot write the export to {cache_dir}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.warning("converted in %.0f s (check: %s greedy replies identical of %s, top-1 agreement %.2f)",
                time.perf_counter() - started, meta.get("identical_greedy"), meta.get("probes"),
                meta.get("top1_agreement", 0))
    return target, True


def free_cores(sample: float = 0.3) -> int:
    """Cores this process may use minus the ones other processes keep busy right now, at least 1.

    Measured over a short sample of /proc/stat, less this process's own use (a start that is loading the embedder
    is not "other work"): the 1-minute load average lags by a minute, and on 2 cores its rounding alone made an
    idle machine (load 0.5 after the previous run) give the model 1 thread and half its speed (docs/BENCHMARKS.md).
    A core counts as busy when other processes use at least 0.6 of it."""
    cores = len(os.sched_getaffinity(0))
    return max(1, min(cores, (os.cpu_count() or cores) - int(busy_elsewhere(sample) + 0.4)))


def busy_elsewhere(seconds: float) -> float:
    """How many cores' worth of CPU other processes used over the next `seconds` (Linux; 0 where /proc is not)."""
    try:
        busy0, total0 = _cpu_ticks()
        own0 = _own_seconds()
        time.sleep(seconds)
        busy1, total1 = _cpu_ticks()
        own1 = _own_seconds()
    except (OSError, ValueError, IndexError):
        return 0.0
    if total1 <= total0:
        return 0.0
    machine = (busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1)  # cores busy, this process included
    return max(0.0, machine - (own1 - own0) / seconds)


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat's first line (idle and iowait are not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _world_readable(folder: Path) -> None:
    folder.chmod(0o755)  # mkdtemp made it private
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def source_folder(model: str, cache_dir: Path) -> Path:
    """The Hugging Face folder the builder reads: the converted GGUF, a local folder, or a downloaded hub model."""
    source = resolve_source(model)
    if source.kind == "gguf":
        folder, _ = ensure_converted(Path(source.location), cache_dir)
        return folder
    if source.kind == "folder":
        return Path(source.location)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(source.location, local_files_only=True))
    except Exception as exc:
        raise LLMUnavailable(f"{model!r} is not downloaded: {_first_line(exc)}") from exc


def _log_progress() -> Progress:
    """Progress as log lines: one when a step crosses a quarter of the way (and the stage's name changes)."""
    shown: list = [-1, ""]  # the quarter and the stage last logged

    def report(done: int, total: int, what: str) -> None:
        quarter = 4 * done // max(total, 1)
        if quarter > shown[0] or what != shown[1]:
            shown[:] = [quarter, what]
            log.warning("%s the language model: %d%% (%d/%d)", what, 100 * done // max(total, 1), done, total)

    return report


class OnnxLLM(TransformersLLM):
    """A local chat model run by onnxruntime-genai (transformers for what cannot be exported, in auto mode)."""

    def __init__(
        self,
        model: str = BUNDLED_NAME,
        *,
        runtime: LLMRuntime | str = LLMRuntime.AUTO,
        precision: OnnxPrecision | str = OnnxPrecision.INT8,
        device: Device | str = Device.CPU,
        dtype: DType | str = DType.BFLOAT16,
        threads: int = 0,
        cache_dir: str | os.PathLike = ".cache/models",
        context_window: int = 2048,
        prefix_cache: bool = True,
    ):
        super().__init__(model, device=device, dtype=dtype, threads=threads, cache_dir=cache_dir,
                         context_window=context_window, prefix_cache=prefix_cache)
        self.runtime_setting = LLMRuntime(runtime)
        self.precision = OnnxPrecision(precision)
        self.runtime: LLMRuntime | None = None  # what runs once started: ONNX or TRANSFORMERS
        self.threads_used = 0
        self.export: Path | None = None
        self.export_meta: dict = {}
        self._og: Any = None  # the onnxruntime_genai module, once loaded
        self._generator: Any = None  # kept between generations: its attention cache is the prefix cache
        self._generator_key: tuple = ()
        self._tokens: list[int] = []  # the prompt the kept generator computed (its reply is never reused)
        self.progress: Progress | None = None  # the one-time conversion's steps (a progress bar); None: the log

    # -- loading -----------------------------------------------------------------------------------------------

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            if self.device is Device.CUDA:
                raise LLMUnavailable("the onnx runtime is set up for the CPU here (llm.device: cuda)")
            self._load_onnx()
        except LLMUnavailable as exc:
            if self.runtime_setting is LLMRuntime.ONNX:
                raise LLMUnavailable(f"llm.runtime is 'onnx' but {exc} (set llm.runtime: auto or transformers)"
                                     ) from exc
            log.warning("running %s with transformers instead of onnxruntime-genai: %s", self.name, exc)
            super()._load()
            self.runtime = LLMRuntime.TRANSFORMERS
            return
        self.runtime = LLMRuntime.ONNX
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s (onnxruntime-genai %s, %s, %d threads) in %.1f s", self.name, self.precision.value,
                 self.loaded_from, self.threads_used, self.load_seconds)

    def _load_onnx(self) -> None:
        source = source_folder(self.name, self.cache_dir)
        folder, made = ensure_exported(source, self.cache_dir, self.precision, self.progress)
        try:
            self._open(folder)
        except LLMUnavailable:
            if made:
                raise
            log.warning("removing unreadable onnxruntime-genai export %s", folder)
            shutil.rmtree(folder, ignore_errors=True)  # a damaged cache: export again, once
            folder, made = ensure_exported(source, self.cache_dir, self.precision, self.progress)
            self._open(folder)
        self.loaded_from = "converted" if made else "cache"

    def _open(self, folder: Path) -> None:
        import onnxruntime_genai as og
        from transformers import AutoTokenizer

        threads = self.threads if self.threads > 0 else free_cores()
        try:
            meta = json.loads((folder / "meta.json").read_text())
            config = og.Config(str(folder))
            # onnxruntime-genai 0.18 passes no session config entry (session.intra_op.allow_spinning) to the CPU
            # provider: its threads spin while waiting for each other, and on a busy machine a thread more than the
            # free cores halves the speed (bench-llm at load 3.4 on 2 cores: 1 thread 50 tokens/s, 2 threads 25).
            # So the threads are the cores free when the model is loaded.
            config.overlay(json.dumps({"model": {"decoder": {"session_options": {
                "intra_op_num_threads": threads, "inter_op_num_threads": 1}}}}))
            model = og.Model(config)
            tokenizer = AutoTokenizer.from_pretrained(str(folder))
        except Exception as exc:  # a missing or damaged file: onnxruntime-genai raises RuntimeError, json others
            raise LLMUnavailable(f"cannot load the onnxruntime-genai export {folder}: {_first_line(exc)}") from exc
        if not tokenizer.chat_template:
            raise LLMUnavailable(f"language model {self.name!r} has no chat template: use an instruction-tuned model")
        self._og, self._model, self._tokenizer = og, model, tokenizer
        self.threads_used = threads
        self.export, self.export_meta = folder, meta
        self._stop_ids = {i for i in (tokenizer.eos_token_id, *_config_eos(folder)) if i is not None}

    async def stop(self) -> None:
        async with self._queue():
            self._generator, self._tokens = None, []
        await super().stop()

    # -- generation --------------------------------------------------------------------------------------------

    def _generate(self, prompt, settings, halt, loop, chunks) -> None:
        """Runs on the worker thread; pushes text chunks to `chunks` and always ends with _DONE."""
        if self.runtime is not LLMRuntime.ONNX:
            return super()._generate(prompt, settings, halt, loop, chunks)
        started = time.perf_counter()
        stats = GenerationStats(prompt_tokens=len(prompt))
        try:
            with self._model_lock:
                budget = self.context_window - len(prompt)
                if budget < 1:
                    raise LLMError(f"the prompt ({len(prompt)} tokens) does not fit the context window "
                                   f"({self.context_window})")
                generator = self._generator_for(prompt, settings, stats, halt)
                decoder = IncrementalDecoder(self._tokenizer, self._tokenizer_lock)
                limit = min(settings.max_new_tokens, budget)
                while stats.new_tokens < limit and not halt.is_set() and not generator.is_done():
                    generator.generate_next_token()
                    token = int(generator.get_next_tokens()[0])
                    if stats.new_tokens == 0:
                        stats.first_token_seconds = time.perf_counter() - started
                    stats.new_tokens += 1
                    if token in self._stop_ids:
                        break
                    text = decoder.add(token)
                    if text:
                        loop.call_soon_threadsafe(chunks.put_nowait, text)
                tail = decoder.flush()
                if tail and not halt.is_set():
                    loop.call_soon_threadsafe(chunks.put_nowait, tail)
                if not self.use_prefix_cache:
                    self._generator, self._tokens = None, []
            stats.total_seconds = time.perf_counter() - started
            self.last_stats = stats
        except LLMError:
            raise
        except Exception as exc:  # anything onnxruntime-genai raises is translated here
            self._generator, self._tokens = None, []
            log.exception("generation failed")
            raise LLMError("the language model could not generate a reply") from exc
        finally:
            loop.call_soon_threadsafe(chunks.put_nowait, _DONE)

    def _generator_for(self, prompt: list[int], settings, stats: GenerationStats, halt):
        """A generator whose state ends with `prompt`: the kept one rewound to the shared prefix, or a new one."""
        key = (settings.temperature, settings.repetition_penalty)
        generator, shared = None, 0
        if self.use_prefix_cache and self._generator is not None and self._generator_key == key:
            shared = reusable(self._tokens, prompt)
            if shared >= MIN_REUSE_TOKENS:
                generator = self._generator
                generator.rewind_to(shared)
            else:
                shared = 0
        self._generator, self._tokens = None, []  # until the prompt is in: a failure leaves no half state behind
        if generator is None:
            generator = self._new_generator(settings, len(prompt))
        stats.reused_tokens = shared
        for begin, end in prefill_chunks(shared, len(prompt), PREFILL_CHUNK):
            if halt.is_set():
                break
            generator.append_tokens(prompt[begin:end])
        else:
            self._generator, self._generator_key, self._tokens = generator, key, list(prompt)
        return generator if self._generator is not None else _Finished()

    def _new_generator(self, settings, prompt_tokens: int):
        og = self._og
        params = og.GeneratorParams(self._model)
        options: dict[str, Any] = {"max_length": self.context_window + 1}
        if "min_new_tokens" in self.extra_generate_options:  # benchmarks: the same decode length for every variant
            options["min_length"] = prompt_tokens + int(self.extra_generate_options["min_new_tokens"])
        if settings.temperature > 0:
            options.update(do_sample=True, temperature=settings.temperature, top_p=0.95, top_k=50)
        else:
            options.update(do_sample=False)
        if settings.repetition_penalty != 1.0:
            options["repetition_penalty"] = settings.repetition_penalty
        params.set_search_options(**options)
        return og.Generator(self._model, params)


class _Finished:
    """Stands for a generator whose prompt was cancelled half-way: generates nothing."""

    def is_done(self) -> bool:
        return True


class IncrementalDecoder:
    """Text of a growing token list, handed out as it becomes final.

    The whole list is decoded each time (a reply is at most a few hundred tokens): byte-level BPE and SentencePiece
    put a word's leading space in its token and a multi-byte character may span tokens, so decoding tokens one by
    one would lose spaces or split characters. A decode that ends in U+FFFD (a character still incomplete) is
    held back until the next token completes it."""

    def __init__(self, tokenizer, lock) -> None:
        self._tokenizer, self._lock = tokenizer, lock
        self._ids: list[int] = []
        self._sent = 0  # characters handed out

    def add(self, token: int) -> str:
        self._ids.append(token)
        with self._lock:
            text = self._tokenizer.decode(self._ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""
        new, self._sent = text[self._sent:], len(text)
        return new

    def flush(self) -> str:
        if not self._ids:
            return ""
        with self._lock:
            text = self._tokenizer.decode(self._ids, skip_special_tokens=True)
        new, self._sent = text[self._sent:], len(text)
        return new


def _config_eos(folder: Path) -> list[int]:
    try:
        eos = json.loads((folder / "genai_config.json").read_text())["model"]["eos_token_id"]
    except (OSError, ValueError, KeyError):
        return []
    return eos if isinstance(eos, list) else [eos]
