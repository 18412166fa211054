"""Engram's message catalogues with Babel: `./engram i18n` (or `python scripts/i18n.py`).

    extract   every _("…"), ngettext("…", "…", n) and N_("…") of bot/ and handlers/ into bot/locale/engram.pot
    update    merge the .pot into each bot/locale/<lang>/LC_MESSAGES/engram.po (new texts appear untranslated)
    compile   write each engram.mo from its .po (the .mo files are committed: see bot/i18n.py)

With no argument: all three, in that order. Translate by editing the .po files, then run `compile`.
tests/test_i18n.py fails when the .pot misses a text of the code, a translation drops a placeholder, a catalogue
translates under 80% of the template, or a .mo does not match its .po.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bot" / "locale"
POT = LOCALE / "engram.pot"


def run(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract() -> None:
    run("extract", "-F", str(LOCALE / "babel.cfg"), "-k", "N_", "--no-location", "--sort-output", "-w", "120",
        "--project", "Engram", "--copyright-holder", "Engram", "-o", str(POT), str(ROOT))


def update() -> None:
    run("update", "-i", str(POT), "-d", str(LOCALE), "-D", "engram", "--no-fuzzy-matching", "--ignore-obsolete",
        "-w", "120")


def compile_() -> None:
    run("compile", "-d", str(LOCALE), "-D", "engram", "--statistics")


def main(argv: list[str]) -> int:
    steps = {"extract": extract, "update": update, "compile": compile_}
    for step in argv or list(steps):
        if step not in steps:
            print(f"unknown step {step!r}: {', '.join(steps)}", file=sys.stderr)
            return 2
        steps[step]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
