"""`eval-paired A.jsonl B.jsonl`: two runs of the same questions compared question by question.

Each file holds one scored reply per line, as `eval-locomo --answers --out` writes them (`conversation`,
`question`, `category`, `score`). Questions present in both files are paired (a repeated question by its order of
appearance); the difference of the means (A - B) gets a 95% confidence interval from a paired bootstrap: the
paired questions resampled with replacement, the mean difference recomputed each time, its 2.5th and 97.5th
percentiles kept. An interval that holds 0 means the two runs cannot be told apart on these questions. Per
category too, and how many questions each run scored higher.

    ./engram eval-locomo PATH --answers --categories 1 2 3 4 --out onnx.jsonl
    ENGRAM_LLM__RUNTIME=transformers ./engram eval-locomo PATH --answers --categories 1 2 3 4 --out tf.jsonl
    ./engram eval-paired onnx.jsonl tf.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from bench.locomo import CATEGORY_NAMES, HEADLINE
from bot.errors import EngramError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", help="the first run's replies (JSON lines with conversation, question, score)")
    parser.add_argument("b", help="the second run's replies, the same questions")
    parser.add_argument("--categories", nargs="+", default=list(HEADLINE),
                        help="categories counted in 'overall' (default: %(default)s)")
    parser.add_argument("--resamples", type=int, default=10000, help="bootstrap resamples (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="the bootstrap's random seed (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def read_scores(path: str | Path) -> dict[tuple, dict]:
    """{(conversation, question, occurrence): row} of a replies file; a clear error for a file that is not one."""
    rows: dict[tuple, dict] = {}
    seen: Counter = Counter()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EngramError(f"cannot read {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            base = (str(row["conversation"]), str(row["question"]))
            float(row["score"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EngramError(f"{path}:{number}: not a scored reply (conversation, question, score)") from exc
        seen[base] += 1
        rows[(*base, seen[base])] = row
    return rows


def bootstrap(differences: list[float], resamples: int, rng: np.random.Generator) -> tuple[float, float]:
    """95% percentile interval of the mean of `differences`, resampled with replacement."""
    values = np.asarray(differences, dtype=np.float64)
    means = np.concatenate([values[rng.integers(0, len(values), size=(min(1000, resamples - done), len(values)))]
                            .mean(axis=1) for done in range(0, resamples, 1000)])
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def compare(a: dict[tuple, dict], b: dict[tuple, dict], categories: list[str], resamples: int = 10000,
            seed: int = 0) -> dict:
    keys = [k for k in a if k in b]
    if not keys:
        raise EngramError("the two files share no question")
    rng = np.random.default_rng(seed)
    groups = {"overall": [k for k in keys if a[k]["category"] in categories]}
    groups |= {c: [k for k in keys if a[k]["category"] == c] for c in sorted({a[k]["category"] for k in keys})}
    result: dict = {"paired": len(keys), "only_a": len(a) - len(keys), "only_b": len(b) - len(keys),
                    "categories": categories, "resamples": resamples, "groups": {}}
    for name, group in groups.items():
        if not group:
            continue
        diffs = [float(a[k]["score"]) - float(b[k]["score"]) for k in group]
        low, high = bootstrap(diffs, resamples, rng)
        result["groups"][name] = {
            "n": len(group), "a": sum(float(a[k]["score"]) for k in group) / len(group),
            "b": sum(float(b[k]["score"]) for k in group) / len(group), "difference": sum(diffs) / len(diffs),
            "ci95": [low, high], "a_higher": sum(d > 0 for d in diffs), "b_higher": sum(d < 0 for d in diffs),
            "same": sum(d == 0 for d in diffs)}
    return result


def format_table(result: dict, a_name: str, b_name: str) -> str:
    lines = [f"A = {a_name}\nB = {b_name}\n{result['paired']} questions in both "
             f"(only in A {result['only_a']}, only in B {result['only_b']}); 95% interval: paired bootstrap, "
             f"{result['resamples']} resamples",
             f"{'group':<16} {'n':>4} {'A':>6} {'B':>6} {'A - B':>7} {'95% interval':>17} {'A higher':>9} "
             f"{'B higher':>9} {'same':>5}"]
    for name, g in result["groups"].items():
        every = "1-4" if result["categories"] == list(HEADLINE) else ",".join(result["categories"])
        label = f"overall {every}" if name == "overall" else f"{name} {CATEGORY_NAMES.get(name, '')}".strip()
        lines.append(f"{label:<16} {g['n']:>4} {g['a']:>6.3f} {g['b']:>6.3f} {g['difference']:>+7.3f} "
                     f"{'[' + format(g['ci95'][0], '+.3f') + ', ' + format(g['ci95'][1], '+.3f') + ']':>17} "
                     f"{g['a_higher']:>9} {g['b_higher']:>9} {g['same']:>5}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    result = compare(read_scores(args.a), read_scores(args.b), args.categories, args.resamples, args.seed)
    print(json.dumps(result | {"a": args.a, "b": args.b}) if args.json else format_table(result, args.a, args.b))
    return 0
