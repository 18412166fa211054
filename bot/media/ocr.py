"""The text inside a picture (a screenshot, a receipt, a ticket, a note), read by Tesseract through pytesseract.

Tesseract is a program (Debian's tesseract-ocr and its tesseract-ocr-<lang> packages), not a Python wheel: when
it is missing, pictures are kept by their caption only, and the log says so once.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import time

from bot.errors import MediaError
from bot.i18n import N_

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # a bigger "picture" is refused rather than decoded (a decompression bomb)
MIN_WORD_CONFIDENCE = 60  # Tesseract's 0-100; below it a "word" is mostly noise read from a photo's texture


def tesseract_languages() -> set[str] | None:
    """The languages the installed Tesseract reads, or None when Tesseract is not installed."""
    if shutil.which("tesseract") is None:
        return None
    try:
        import pytesseract

        return set(pytesseract.get_languages(config=""))
    except Exception:
        return None


class Ocr:
    """Reads text from picture bytes. Synchronous: service.Media runs it on its one worker thread."""

    def __init__(self, languages: str):
        installed = tesseract_languages() or set()
        wanted = [lang for lang in languages.split("+") if lang]
        missing = [lang for lang in wanted if lang not in installed]
        if missing:
            log.warning("Tesseract has no data for %s (install tesseract-ocr-%s): reading pictures without it",
                        ", ".join(missing), missing[0])
        self.languages = "+".join(lang for lang in wanted if lang in installed) or "eng"

    def read(self, data: bytes) -> tuple[str, float]:
        """(the text in the picture, seconds taken): words Tesseract is fairly sure of, in their lines.
        MediaError for bytes that are not a picture."""
        import pytesseract
        from PIL import Image, UnidentifiedImageError

        started = time.perf_counter()
        try:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise MediaError(N_("the picture is too large to read ({width}×{height})"), width=image.width,
                                 height=image.height)
            image.load()
        except MediaError:
            raise
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            raise MediaError(N_("the file is not a picture I can read")) from None
        gray = image.convert("L")
        table = pytesseract.image_to_data(gray, lang=self.languages, output_type=pytesseract.Output.DICT)
        lines: dict[tuple[int, int, int], list[str]] = {}
        for n, word in enumerate(table["text"]):
            word = word.strip()
            if word and float(table["conf"][n]) >= MIN_WORD_CONFIDENCE:
                key = (table["block_num"][n], table["par_num"][n], table["line_num"][n])
                lines.setdefault(key, []).append(word)
        text = "\n".join(" ".join(words) for _key, words in sorted(lines.items()))
        return re.sub(r"[ \t]+", " ", text).strip(), time.perf_counter() - started
