"""`bench-voice`: speech to text and the text in pictures, measured on material no one here recorded.

Speech: sentences in six languages spoken by espeak-ng and encoded as Telegram encodes a voice message (OGG/Opus
48 kHz mono, bench/speech_clips.py), transcribed by each model asked for (`--models`: the default `base`, and a
bigger one by name or folder) in a fresh process each, so its peak memory is its own: word error rate per language
(lowercase, punctuation dropped), whether the language was heard right, and the real-time factor (seconds of work
per second of audio) on the sentences and on one voice note of about a minute. The sentences were never used to
tune anything (espeak-ng's voice and rate were picked on another sentence).

While a reply is written: the bundled language model's first token and a 32-token reply, idle and while the
long note is being transcribed, with the transcription yielding between pieces (as Engram runs it) and without.

Pictures: lines of known text drawn with Pillow in three fonts and five languages, read by Tesseract: character
error rate and seconds per picture.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import statistics
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

from bench.common import load_average, markdown_table, peak_rss_mb, say
from bench.speech_clips import FONTS, picture, speak

SENTENCES = {
    "en": ["The spare key is under the blue flower pot.",
           "Please remind me to call my sister tomorrow evening.",
           "We are meeting at the train station before lunch.",
           "My new phone number is written on the kitchen calendar.",
           "The doctor said I should drink more water and sleep longer."],
    "de": ["Der Schlüssel liegt unter dem blauen Blumentopf.",
           "Bitte erinnere mich morgen Abend an meine Schwester.",
           "Wir treffen uns vor dem Mittagessen am Bahnhof.",
           "Das Wetter wird am Wochenende sonnig und warm."],
    "fr": ["La clé est sous le pot de fleurs bleu.",
           "Nous nous retrouvons à la gare avant le déjeuner.",
           "Le médecin m'a dit de boire plus d'eau.",
           "Il fera beau et chaud ce week-end."],
    "es": ["La llave está debajo de la maceta azul.",
           "Nos vemos en la estación de tren antes del almuerzo.",
           "El médico dijo que debo beber más agua.",
           "Mañana por la noche tengo que llamar a mi hermana."],
    "ru": ["Ключ лежит под синим цветочным горшком.",
           "Мы встречаемся на вокзале перед обедом.",
           "Врач сказал, что нужно пить больше воды.",
           "Завтра вечером я позвоню сестре."],
    "it": ["La chiave è sotto il vaso di fiori blu.",
           "Ci vediamo alla stazione prima di pranzo.",
           "Il medico ha detto di bere più acqua.",
           "Domani sera devo chiamare mia sorella."],
}
PICTURES = {
    "eng": ["Boarding pass: flight to Zurich", "Gate closes twenty minutes before departure",
            "Receipt: two coffees and a croissant"],
    "deu": ["Rechnung für die Reparatur der Küche", "Bitte bis Freitag überweisen"],
    "fra": ["Billet de train pour Marseille", "Voiture douze, place quarante"],
    "spa": ["Entrada para el concierto del sábado", "Puerta norte, fila siete"],
    "rus": ["Квитанция об оплате за электричество", "Срок оплаты до конца месяца"],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", default="base",
                        help="comma-separated media.model values: base (bundled), a faster-whisper name or a folder")
    parser.add_argument("--beam-size", type=int, default=None, help="media.beam_size (default: the config's)")
    parser.add_argument("--threads", type=int, default=None, help="media.threads (default: the config's)")
    parser.add_argument("--no-llm", action="store_true", help="skip the first-token measurement")
    parser.add_argument("--no-ocr", action="store_true", help="skip the pictures")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text.lower()).replace("ё", "е")
    return re.sub(r"[^\w\s']|_", " ", text).replace("'", " ").split()


def edit_distance(a: list, b: list) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


def error_rate(reference: list, hypothesis: list) -> tuple[int, int]:
    """(edits, length of the reference): summed over clips, their ratio is the corpus error rate."""
    return edit_distance(reference, hypothesis), len(reference)


def make_clips(folder: Path) -> dict:
    """Every sentence as a voice note, and one of about a minute (the English ones, twice, with pauses)."""
    clips: dict = {"sentences": [], "long": None}
    for language, sentences in SENTENCES.items():
        for n, sentence in enumerate(sentences):
            path = speak(sentence, folder / f"{language}{n}.ogg", language)
            clips["sentences"].append({"language": language, "text": sentence, "path": str(path)})
    long_text = " ".join(SENTENCES["en"] * 2 + SENTENCES["en"][:3])
    clips["long"] = {"text": long_text, "path": str(speak(long_text, folder / "long.ogg", "en"))}
    # replies are timed while this one is transcribed: long enough for every round to fall inside it
    clips["longer"] = str(speak(" ".join([long_text] * 3), folder / "longer.ogg", "en"))
    return clips


# How the language is chosen: media.language "" (the model hears it), the six languages as candidates, or given.
LANGUAGE_MODES = {"heard": "", "among six": ",".join(SENTENCES), "given": None}


def measure_model(model: str, cache_dir: str, clips: dict, beam_size: int, threads: int) -> dict:
    """In a fresh process: load the model, transcribe every clip in each language mode, the long one last;
    figures and peak memory."""
    from bot.config import Config
    from bot.media.speech import Speech

    config = Config()
    speech = Speech(model, Path(cache_dir), compute_type=config.media.compute_type, beam_size=beam_size,
                    threads=threads, max_seconds=config.media.max_seconds)
    started = time.perf_counter()
    speech.load()
    load_s = time.perf_counter() - started
    figures = {"model": model, "threads": speech.threads, "beam_size": beam_size, "load_s": round(load_s, 2)}
    for mode, setting in LANGUAGE_MODES.items():
        figures[mode] = sentence_figures(speech, clips, setting)
    long = speech.transcribe(Path(clips["long"]["path"]), language="en")
    edits, length = error_rate(words(clips["long"]["text"]), words(long.text))
    return figures | {
        "long_audio_s": round(long.duration, 1), "long_s": round(long.seconds, 1),
        "long_rtf": round(long.seconds / long.duration, 3), "long_wer": round(edits / length, 3),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def sentence_figures(speech, clips: dict, setting: str | None) -> dict:
    """WER per language and the real-time factor over the sentences, the language chosen as `setting` says
    (None: each clip's own language given)."""
    per_language: dict[str, dict] = {}
    audio = work = 0.0
    for clip in clips["sentences"]:
        speech.languages = [clip["language"]] if setting is None else [c for c in setting.split(",") if c]
        transcript = speech.transcribe(Path(clip["path"]))
        edits, length = error_rate(words(clip["text"]), words(transcript.text))
        entry = per_language.setdefault(clip["language"], {"edits": 0, "words": 0, "heard_right": 0, "clips": 0,
                                                           "examples": []})
        entry["edits"] += edits
        entry["words"] += length
        entry["audio"] = entry.get("audio", 0.0) + transcript.duration
        entry["work"] = entry.get("work", 0.0) + transcript.seconds
        entry["clips"] += 1
        entry["heard_right"] += transcript.language == clip["language"]
        if edits and len(entry["examples"]) < 2:
            entry["examples"].append(transcript.text)
        audio += transcript.duration
        work += transcript.seconds
    return {"languages": {lang: {"wer": round(e["edits"] / e["words"], 3), "language_heard_right":
                                 f"{e['heard_right']}/{e['clips']}", "rtf": round(e["work"] / e["audio"], 3),
                                 "examples": e["examples"]}
                          for lang, e in per_language.items()},
            "audio_s": round(audio, 1), "rtf": round(work / audio, 3)}


async def first_tokens(config, long_clip: Path, rounds: int = 7) -> dict:
    """The bundled LLM's reply (first token, and 32 tokens in all): idle, and while the long note is transcribed,
    with the transcription yielding to replies between its pieces (as Engram runs it) or not."""
    from bot.llm import build_llm, settings_from_config
    from bot.media.service import build_media

    llm = build_llm(config)
    await llm.start()
    settings = settings_from_config(config)
    settings.max_new_tokens = 32
    writing = threading.Event()
    messages = [{"role": "system", "content": "You are a helpful assistant. Answer in two sentences."},
                {"role": "user", "content": "Tell me something about the sea."}]

    async def one() -> tuple[float, float]:
        started = time.perf_counter()
        first = None
        writing.set()
        try:
            async for _ in llm.stream(messages, settings, asyncio.Event()):
                first = first or time.perf_counter() - started
        finally:
            writing.clear()
        return first or float("nan"), time.perf_counter() - started

    async def series(task: asyncio.Future | None = None) -> list[tuple[float, float]]:
        """`rounds` replies (idle), or as many as come while `task` (a transcription) runs, at most `rounds`."""
        out: list[tuple[float, float]] = []
        while len(out) < rounds and (task is None or not task.done()):
            await asyncio.sleep(0.7 if task else 0.3)  # let the transcription take the cores again
            timed = await one()
            if task is None or not task.done():
                out.append(timed)
        return out

    for _ in range(2):  # the first generations warm the model's caches
        await one()
    figures: dict = {"idle": await series()}
    for mode in ("yielding", "not_yielding"):
        media = build_media(config, replies_writing=(writing.is_set if mode == "yielding" else lambda: False))
        assert media.speech is not None
        media.speech.load()
        task = asyncio.ensure_future(media.transcribe(long_clip, language="en"))
        await asyncio.sleep(1.5)  # decoded and at work
        figures[mode] = await series(task)
        figures[f"{mode}_replies"] = len(figures[mode])
        transcript = await task
        figures[f"{mode}_transcription_s"] = round(transcript.seconds, 1)
        media.stop()
    await llm.stop()
    out: dict = {"rounds": rounds, "llm": llm.name}
    for key, value in figures.items():
        if isinstance(value, list) and value:
            out[key] = {"first_token_s": round(statistics.median(v[0] for v in value), 3),
                        "reply_32_tokens_s": round(statistics.median(v[1] for v in value), 3)}
        else:
            out[key] = value
    return out


def measure_ocr(folder: Path) -> dict:
    from bot.media.ocr import Ocr, tesseract_languages

    installed = tesseract_languages()
    if installed is None:
        return {"error": "tesseract-ocr is not installed"}
    out: dict = {}
    for language, lines in PICTURES.items():
        if language not in installed:
            out[language] = {"error": f"tesseract-ocr-{language} is not installed"}
            continue
        ocr = Ocr(language)
        edits = length = 0
        seconds = []
        for font in FONTS:
            data = picture(lines, folder / f"{language}-{font}.png", font=font)
            text, took = ocr.read(data)
            seconds.append(took)
            reference = unicodedata.normalize("NFC", " ".join(" ".join(lines).split()))
            e, n = error_rate(list(reference), list(" ".join(text.split())))
            edits += e
            length += n
        out[language] = {"cer": round(edits / length, 3), "pictures": len(FONTS),
                         "seconds_per_picture": round(statistics.median(seconds), 2)}
    return out


def main(args: argparse.Namespace) -> int:
    from bot.config import load_config

    config = load_config(args.config)
    cache_dir = str(config.resolve(config.llm.cache_dir))
    beam = args.beam_size or config.media.beam_size
    threads = args.threads if args.threads is not None else config.media.threads
    report: dict = {"machine": {"cores": os.cpu_count(), "load_average_before": load_average()}}
    with tempfile.TemporaryDirectory(prefix="engram-bench-voice-") as work:
        folder = Path(work)
        say("speaking the clips (espeak-ng, opusenc)…")
        clips = make_clips(folder)
        report["models"] = []
        context = multiprocessing.get_context("spawn")
        for model in [m.strip() for m in args.models.split(",") if m.strip()]:
            say(f"transcribing with {model}…")
            with context.Pool(1) as pool:
                report["models"].append(pool.apply(measure_model, (model, cache_dir, clips, beam, threads)))
        if not args.no_llm:
            say("first tokens, idle and while transcribing…")
            report["replies"] = asyncio.run(first_tokens(config, Path(clips["longer"])))
        if not args.no_ocr:
            say("reading pictures (tesseract)…")
            report["ocr"] = measure_ocr(folder)
    report["machine"]["load_average_after"] = load_average()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(tables(report))
    return 0


def wer_cell(figures: dict) -> str:
    return f"{figures['wer']:.1%} ({figures['language_heard_right']}, RTF {figures['rtf']})"


def tables(report: dict) -> str:
    out = [f"cores: {report['machine']['cores']}, load average before {report['machine']['load_average_before']},"
           f" after {report['machine']['load_average_after']}"]
    for m in report["models"]:
        modes = list(LANGUAGE_MODES)
        rows = [(lang, *(wer_cell(m[mode]["languages"][lang]) for mode in modes)) for lang in SENTENCES]
        rows.append(("real-time factor", *(m[mode]["rtf"] for mode in modes)))
        out.append(markdown_table(rows, ("WER (language right, real-time factor)",
                                         *(f"language {mode}" for mode in modes)),
                                  f"{m['model']} (beam {m['beam_size']}, {m['threads']} threads), sentences of "
                                  f"{m['heard']['audio_s']} s in all"))
        out.append(f"\nload {m['load_s']} s · a {m['long_audio_s']} s voice note in {m['long_s']} s (real-time factor"
                   f" {m['long_rtf']}, WER {m['long_wer']:.1%}) · peak memory {m['peak_rss_mb']} MB")
    if "replies" in report:
        f = report["replies"]
        rows = [(label, f[key]["first_token_s"], f[key]["reply_32_tokens_s"]) for key, label in
                (("idle", "idle"), ("yielding", "while transcribing, yielding (Engram)"),
                 ("not_yielding", "while transcribing, not yielding"))]
        out.append(markdown_table(rows, ("a reply of the bundled model", "first token, s", "32 tokens, s"),
                                  f"Replies while a voice note is transcribed (medians of up to {f['rounds']}: "
                                  f"{f['yielding_replies']} and {f['not_yielding_replies']} fell inside the "
                                  f"{f['yielding_transcription_s']} and {f['not_yielding_transcription_s']} s "
                                  "transcriptions)"))
    if "ocr" in report:
        rows = [(lang, f"{f['cer']:.1%}" if "cer" in f else f["error"], f.get("seconds_per_picture", ""))
                for lang, f in report["ocr"].items()]
        out.append(markdown_table(rows, ("language", "CER", "s / picture"), "Text in pictures (Tesseract)"))
    return "\n".join(out)
