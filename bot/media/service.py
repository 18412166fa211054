"""Speech and pictures to text for every front end, one piece of work at a time, off the event loop.

Transcribing is CPU work that competes with the language model: one worker thread does it (and OCR), so two
recordings never run at once, and between the ~30-second pieces of a recording it waits while a reply is being
written (`replies_writing`), so a typed question is answered as fast as when nothing is transcribed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.config import Config, MediaConfig
from bot.errors import MediaError
from bot.i18n import N_
from bot.media import texts
from bot.media.ocr import Ocr, tesseract_languages
from bot.media.speech import Speech, Transcript

log = logging.getLogger(__name__)

__all__ = ["Media", "Transcript", "build_media"]


class Media:
    """Transcribes recordings and reads pictures, one at a time, on its own thread."""

    def __init__(self, config: MediaConfig, cache_dir: Path, replies_writing: Callable[[], bool] = lambda: False):
        self.config = config
        self.speech = Speech(config.model, cache_dir, device=config.device.value, compute_type=config.compute_type,
                             threads=config.threads, beam_size=config.beam_size, language=config.language,
                             max_seconds=config.max_seconds) if config.transcribe else None
        self.ocr: Ocr | None = None
        if config.ocr:
            if tesseract_languages() is None:
                log.warning("Tesseract is not installed (apt-get install tesseract-ocr): pictures are kept by "
                            "their caption only")
            else:
                self.ocr = Ocr(config.ocr_languages)
        self.replies_writing = replies_writing  # set again once the assistant exists
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engram-media")
        self.transcribed = 0  # recordings transcribed since start (tests, /stats)

    @property
    def transcribes(self) -> bool:
        return self.speech is not None

    async def warm_up(self) -> None:
        """Load the speech model now (assembling the bundled one the first time), not at the first voice message."""
        if self.speech is not None:
            try:
                await self._run(self.speech.load)
            except MediaError as exc:
                log.warning("%s", exc)

    async def transcribe(self, path: Path, *, language: str | None = None, hotwords: str | None = None,
                         progress: Callable[[float], None] | None = None) -> Transcript:
        """The words spoken in an audio or video file; MediaError with the reason, in words, when it cannot be."""
        if self.speech is None:
            raise MediaError(N_("transcription is turned off (media.transcribe)"))
        log.info("transcribing %s", path.name)
        loop = asyncio.get_running_loop()
        heard = None if progress is None else (lambda share: loop.call_soon_threadsafe(progress, share))
        transcript = await self._run(self.speech.transcribe, path, language=language, hotwords=hotwords,
                                     pause=lambda: self.replies_writing(), progress=heard)
        self.transcribed += 1
        log.info("transcribed %s: %.1f s of audio in %.1f s (%s)", path.name, transcript.duration, transcript.seconds,
                 transcript.language)
        return transcript

    async def read_picture(self, data: bytes) -> str:
        """The text inside a picture ('' when none is found or OCR is off); MediaError if it is no picture."""
        if self.ocr is None:
            return ""
        text, _seconds = await self._run(self.ocr.read, data)
        return text

    async def text_of_file(self, path: Path, kind: str, caption: str = "", duration: float | None = None
                           ) -> tuple[str, dict]:
        """(the text to store, meta to add) for a recording or picture file (the importer's --media): the
        transcript or the text read, after the caption; what cannot be read is said in the text, as live."""
        try:
            if kind in texts.VOICE_KINDS:
                transcript = await self.transcribe(path)
                return texts.transcribed_text(transcript.text, caption), {
                    "media": texts.DONE, "language": transcript.language, "duration": round(transcript.duration, 1)}
            data = await asyncio.to_thread(path.read_bytes)
            return texts.picture_text(caption, await self.read_picture(data)), {"media": texts.DONE}
        except MediaError as exc:
            failed = {"media": texts.FAILED, "error": str(exc)}
            if kind in texts.VOICE_KINDS:
                return texts.failed_text(kind, duration, str(exc), caption), failed
            return caption, failed

    async def _run(self, function, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: function(*args, **kwargs))

    def stop(self) -> None:
        """Drop the work not started; the transcription under way ends at its next piece (so a shutdown does not
        wait for a long recording)."""
        if self.speech is not None:
            self.speech.stopping.set()
        self._worker.shutdown(wait=False, cancel_futures=True)


def build_media(config: Config, replies_writing: Callable[[], bool] = lambda: False) -> Media:
    """Media for this config: the speech model is cached beside the other converted models."""
    return Media(config.media, config.resolve(config.llm.cache_dir), replies_writing)
