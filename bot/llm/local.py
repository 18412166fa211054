"""The `transformers` backend: a causal LM with a chat template, run in this process.

Loading and generating run on one worker thread owned by the model, never on the event loop. Generations are
served one at a time in arrival order: on two cores, two concurrent generations would each run at less than
half speed, so a queue gives the first chat its answer sooner and the second no later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Device, DType
from bot.errors import GenerationCancelled, LLMError, LLMUnavailable
from bot.llm.base import ChatMessage, GenerationSettings
from bot.llm.model_files import BUNDLED_NAME, discard, ensure_converted, resolve_source
from bot.llm.prefix_cache import PrefixCache
from bot.llm.stops import StopScanner

log = logging.getLogger(__name__)

_DONE = object()  # end-of-stream marker the worker puts on the chunk queue


@dataclass
class GenerationStats:
    """Timings of the last generation, for logs and the benchmark."""

    prompt_tokens: int = 0
    reused_tokens: int = 0  # prompt tokens whose attention cache came from the previous generation
    new_tokens: int = 0
    first_token_seconds: float = 0.0  # from the start of the worker's job to the first generated token
    total_seconds: float = 0.0

    @property
    def decode_tokens_per_second(self) -> float:
        decode_time = self.total_seconds - self.first_token_seconds
        return (self.new_tokens - 1) / decode_time if self.new_tokens > 1 and decode_time > 0 else 0.0


class TransformersLLM:
    """A Hugging Face causal LM. `model` is a hub name, a local folder, a .gguf file, or 'smollm2-135m'."""

    def __init__(
        self,
        model: str = BUNDLED_NAME,
        *,
        device: Device | str = Device.CPU,
        dtype: DType | str = DType.BFLOAT16,
        threads: int = 0,
        cache_dir: str | os.PathLike = ".cache/models",
        context_window: int = 2048,
        prefix_cache: bool = True,
    ):
        self.name = model
        self.context_window = context_window
        self.device = Device(device)
        self.dtype = DType(dtype)
        self.threads = threads
        self.cache_dir = Path(cache_dir)
        self.use_prefix_cache = prefix_cache
        self.loaded_from: str = ""  # "cache", "converted", or the folder/name given
        self.load_seconds: float = 0.0
        self.last_stats: GenerationStats | None = None
        # Extra keyword arguments for generate(), for benchmarks (e.g. min_new_tokens for a fixed decode length).
        self.extra_generate_options: dict = {}
        self._model: Any = None  # a transformers model and tokenizer once loaded (their stubs are not precise)
        self._tokenizer: Any = None
        self._executor: ThreadPoolExecutor | None = None
        self._model_lock = threading.Lock()  # the worker's guard: never two generate() calls at once
        # A fast tokenizer must not encode and decode on two threads at once ("Already borrowed"): prompts are
        # counted on any thread (the assistant trims them off the event loop), text is decoded on the worker.
        self._tokenizer_lock = threading.Lock()
        self._queue_lock: asyncio.Lock | None = None
        self._queue_loop: asyncio.AbstractEventLoop | None = None
        self._prefix = PrefixCache()

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._model is not None:
            return
        async with self._queue():
            if self._model is None:
                await asyncio.get_running_loop().run_in_executor(self._worker(), self._load)

    async def stop(self) -> None:
        async with self._queue():
            self._model = self._tokenizer = None
            self._prefix.clear()
            if self._executor is not None:
                self._executor.shutdown(wait=False)
                self._executor = None

    def _worker(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")
        return self._executor

    def _queue(self) -> asyncio.Lock:
        """The FIFO lock generations wait on; one per event loop (tests may run several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._queue_lock is None or self._queue_loop is not loop:
            self._queue_lock, self._queue_loop = asyncio.Lock(), loop
        return self._queue_lock

    def _load(self) -> None:
        import torch

        started = time.perf_counter()
        torch.set_num_threads(self.threads if self.threads > 0 else len(os.sched_getaffinity(0)))
        source = resolve_source(self.name)
        if source.kind == "gguf":
            folder, converted = ensure_converted(Path(source.location), self.cache_dir)
            try:
                self._load_from(str(folder))
            except LLMUnavailable:
                if converted:
                    raise
                discard(folder)  # a cache that cannot be read: convert again, once
                folder, _ = ensure_converted(Path(source.location), self.cache_dir)
                self._load_from(str(folder))
            self.loaded_from = "converted" if converted else "cache"
        else:
            self._load_from(source.location)
            self.loaded_from = source.location
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s (%s, %s) in %.1f s", self.name, self.loaded_from, self.dtype, self.load_seconds)

    def _load_from(self, location: str) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = self.device.value
        if self.device is Device.AUTO:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = "auto" if self.dtype is DType.AUTO else getattr(torch, self.dtype.value)
        try:
            tokenizer = AutoTokenizer.from_pretrained(location)
            model: Any = AutoModelForCausalLM.from_pretrained(location, dtype=dtype)
            model.to(device)
        except (OSError, ValueError, RuntimeError, ImportError) as exc:
            raise LLMUnavailable(
                f"cannot load language model {self.name!r}: {_first_line(exc)}. Set llm.model to a local model "
                f"folder, a Hugging Face name already downloaded (offline: HF_HUB_OFFLINE=1), or {BUNDLED_NAME!r}."
            ) from exc
        if not tokenizer.chat_template:
            raise LLMUnavailable(f"language model {self.name!r} has no chat template: use an instruction-tuned model")
        model.eval()
        self._model, self._tokenizer = model, tokenizer

    # -- tokens ------------------------------------------------------------------------------------------------

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Exact: the messages rendered with the model's chat template, including the assistant header."""
        return len(self._prompt_ids(messages))

    def _prompt_ids(self, messages: list[ChatMessage]) -> list[int]:
        if self._tokenizer is None:
            raise LLMUnavailable("the language model is not loaded yet (await llm.start() first)")
        with self._tokenizer_lock:
            encoded = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)

    # -- generation --------------------------------------------------------------------------------------------

    async def stream(
        self,
        messages: list[ChatMessage],
        settings: GenerationSettings | None = None,
        cancel: asyncio.Event | None = None,
    ) -> AsyncIterator[str]:
        settings = settings or GenerationSettings()
        if self._model is None:
            raise LLMUnavailable("the language model is not loaded yet (await llm.start() first)")
        async with self._queue():
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled("the reply was cancelled")
            loop = asyncio.get_running_loop()
            # Tokenised on the worker (free while we hold the queue): a few milliseconds kept off the event loop.
            prompt = await loop.run_in_executor(self._worker(), self._encode_for_generation, messages)
            chunks: asyncio.Queue = asyncio.Queue()
            halt = threading.Event()
            job = loop.run_in_executor(self._worker(), self._generate, prompt, settings, halt, loop, chunks)
            relay = asyncio.create_task(_relay(cancel, halt)) if cancel is not None else None
            stops = StopScanner(settings.stop)
            try:
                while (chunk := await chunks.get()) is not _DONE:
                    if cancel is not None and cancel.is_set():
                        halt.set()  # chunks already queued are dropped: nothing is shown after a cancel
                        break
                    text = stops.feed(chunk)
                    if text:
                        yield text
                    if stops.hit:
                        halt.set()
                        break
                await job  # worker errors surface here
                if cancel is not None and cancel.is_set():
                    raise GenerationCancelled("the reply was cancelled")
                tail = stops.flush()
                if tail:
                    yield tail
            finally:
                halt.set()  # reached early only when the consumer stopped reading or an error occurred
                if relay is not None:
                    relay.cancel()
                if not job.done():
                    await asyncio.wait({job})  # keep the queue closed until the worker has let go of the model

    def _encode_for_generation(self, messages: list[ChatMessage]) -> list[int]:
        try:
            return self._prompt_ids(messages)
        except LLMError:
            raise
        except Exception as exc:  # e.g. a chat template that rejects a system message
            raise LLMError(f"the model's chat template rejected the prompt: {_first_line(exc)}") from exc

    def _generate(self, prompt, settings, halt, loop, chunks) -> None:
        """Runs on the worker thread; pushes text chunks to `chunks` and always ends with _DONE."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

        started = time.perf_counter()
        stats = GenerationStats()

        tokenizer_lock = self._tokenizer_lock

        class Streamer(TextStreamer):
            def put(self, value):
                if not self.next_tokens_are_prompt:
                    if stats.new_tokens == 0:
                        stats.first_token_seconds = time.perf_counter() - started
                    stats.new_tokens += value.numel()
                with tokenizer_lock:
                    super().put(value)

            def end(self):
                with tokenizer_lock:
                    super().end()

            def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                if text:
                    loop.call_soon_threadsafe(chunks.put_nowait, text)

        class Halt(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                import torch

                return torch.full((input_ids.shape[0],), halt.is_set(), dtype=torch.bool, device=input_ids.device)

        try:
            with self._model_lock:
                self._run_generate(prompt, settings, stats, Streamer(self._tokenizer, skip_prompt=True,
                                   skip_special_tokens=True), StoppingCriteriaList([Halt()]))
            stats.total_seconds = time.perf_counter() - started
            self.last_stats = stats
        except LLMError:
            raise
        except Exception as exc:  # anything else the library raises is translated here
            log.exception("generation failed")
            raise LLMError("the language model could not generate a reply") from exc
        finally:
            loop.call_soon_threadsafe(chunks.put_nowait, _DONE)

    def _run_generate(self, prompt, settings, stats, streamer, stopping) -> None:
        import torch

        stats.prompt_tokens = len(prompt)
        budget = self.context_window - len(prompt)
        if budget < 1:
            raise LLMError(f"the prompt ({len(prompt)} tokens) does not fit the context window ({self.context_window})")
        past, stats.reused_tokens = self._prefix.take(prompt) if self.use_prefix_cache else (None, 0)
        device = self._model.device
        options = dict(
            input_ids=torch.tensor([prompt], device=device),
            attention_mask=torch.ones((1, len(prompt)), dtype=torch.long, device=device),
            max_new_tokens=min(settings.max_new_tokens, budget),
            streamer=streamer,
            stopping_criteria=stopping,
            pad_token_id=self._tokenizer.pad_token_id or self._tokenizer.eos_token_id,
            return_dict_in_generate=True,
        )
        if settings.temperature > 0:
            options.update(do_sample=True, temperature=settings.temperature, top_p=0.95, top_k=0)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if settings.repetition_penalty != 1.0:
            options["repetition_penalty"] = settings.repetition_penalty
        if past is not None:
            options["cache"] = past
        options.update(self.extra_generate_options)
        try:
            with torch.inference_mode():
                out = self._model.generate(**options)
        except (RuntimeError, ValueError, IndexError) as exc:
            self._prefix.clear()
            log.exception("generation failed")
            raise LLMError("the language model failed while generating a reply") from exc
        if self.use_prefix_cache:
            self._prefix.keep(out.sequences[0].tolist(), out.cache)


async def _relay(cancel: asyncio.Event, halt: threading.Event) -> None:
    """Forward the caller's asyncio cancel event to the worker thread's stop flag."""
    await cancel.wait()
    halt.set()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
