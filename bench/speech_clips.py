"""Speech no one here recorded, for tests and bench-voice: text spoken by espeak-ng (Debian's espeak-ng) and
encoded as Telegram encodes a voice message (OGG/Opus, 48 kHz, mono) by opusenc (opus-tools) or ffmpeg; and
pictures of known text drawn with Pillow. scripts/setup.sh installs the programs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

# espeak-ng voices that Whisper base reads well at this rate (words a minute): measured in docs/BENCHMARKS.md
RATE = 140
VOICES = {"en": "en-us", "de": "de", "fr": "fr-fr", "es": "es", "ru": "ru", "it": "it", "pt": "pt"}


class MissingTool(RuntimeError):
    pass


def need(program: str, package: str) -> str:
    found = shutil.which(program)
    if found is None:
        raise MissingTool(f"{program} is not installed (apt-get install {package}; scripts/setup.sh does it)")
    return found


def speak(text: str, out: Path, language: str = "en", rate: int = RATE) -> Path:
    """`text` spoken in `language` as an OGG/Opus voice note at `out` (its .wav beside it is removed)."""
    wav = out.with_suffix(".wav")
    subprocess.run([need("espeak-ng", "espeak-ng"), "-v", VOICES.get(language, language), "-s", str(rate),
                    "-w", str(wav), text], check=True, capture_output=True)
    encode(wav, out)
    wav.unlink()
    return out


def encode(wav: Path, out: Path) -> Path:
    """A WAV file as `out`'s suffix says: .ogg as Telegram sends a voice message (Opus in OGG, 48 kHz, mono);
    .mp4 as a round video note (H.264 240x240 and AAC); .mp3, .m4a as audio files."""
    if out.suffix in (".mp4", ".mp3", ".m4a"):
        video = ["-f", "lavfi", "-i", "color=c=teal:s=240x240:r=15", "-shortest", "-c:v", "libx264",
                 "-pix_fmt", "yuv420p"] if out.suffix == ".mp4" else []
        audio = ["-c:a", "libmp3lame"] if out.suffix == ".mp3" else ["-c:a", "aac"]
        subprocess.run([need("ffmpeg", "ffmpeg"), "-v", "error", "-y", "-i", str(wav), *video, "-ac", "1", *audio,
                        str(out)], check=True, capture_output=True)
        return out
    if shutil.which("opusenc"):
        subprocess.run(["opusenc", "--quiet", "--bitrate", "32", "--downmix-mono", str(wav), str(out)],
                       check=True, capture_output=True)
    else:
        subprocess.run([need("ffmpeg", "ffmpeg"), "-v", "error", "-y", "-i", str(wav), "-ac", "1", "-ar", "48000",
                        "-c:a", "libopus", "-b:a", "32k", str(out)], check=True, capture_output=True)
    return out


def soundless_video(out: Path, seconds: float = 2.0) -> Path:
    """An MP4 with pictures and no sound track (a video note that cannot be transcribed)."""
    subprocess.run([need("ffmpeg", "ffmpeg"), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=teal:s=240x240:r=15", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    str(out)], check=True, capture_output=True)
    return out


def silence(out: Path, seconds: float) -> Path:
    """`seconds` of silence as an OGG/Opus voice note."""
    subprocess.run([need("ffmpeg", "ffmpeg"), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "anullsrc=r=48000:cl=mono", "-t", str(seconds), "-c:a", "libopus", "-b:a", "16k", str(out)],
                   check=True, capture_output=True)
    return out


def duration(path: Path) -> float:
    """Seconds of audio in a file (what Telegram reports as a voice message's duration)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf")


def font_path(name: str) -> str | None:
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF", "/usr/share/fonts"):
        path = Path(folder) / name
        if path.is_file():
            return str(path)
    return None


def picture(lines: list[str], out: Path | None = None, font: str = "DejaVuSans.ttf", size: int = 28) -> bytes:
    """A screenshot-like PNG of these lines, dark on light, drawn with Pillow (its own font if `font` is missing)."""
    import io

    from PIL import Image, ImageDraw, ImageFont

    path = font_path(font)
    face = ImageFont.truetype(path, size) if path else ImageFont.load_default(size)
    width = max(int(face.getlength(line)) for line in lines) + 80
    height = (size + 16) * len(lines) + 60
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    for n, line in enumerate(lines):
        draw.text((40, 30 + n * (size + 16)), line, fill=(20, 20, 30), font=face)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    if out is not None:
        out.write_bytes(buffer.getvalue())
    return buffer.getvalue()
