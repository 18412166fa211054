"""Voice messages, video notes, audio files and pictures made into text, on this machine.

speech.py reads speech with faster-whisper (CTranslate2, int8 on a CPU), ocr.py reads the text inside a picture
with Tesseract, service.py runs both one at a time off the event loop, behind replies, and texts.py words what a
front end stores and shows for them. Front ends (handlers/media.py, the importer) only talk to `Media`.
"""

from bot.media.service import Media, Transcript, build_media
from bot.media.texts import MEDIA_KINDS, VOICE_KINDS, medium_name

__all__ = ["MEDIA_KINDS", "VOICE_KINDS", "Media", "Transcript", "build_media", "medium_name"]
