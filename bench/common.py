"""What every benchmark prints besides its figures: the machine's load, progress, tables, memory use."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how quiet the shared machine was during a run."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def say(text: str) -> None:
    """Progress, on stderr: stdout holds only the results (tables or JSON)."""
    print(text, file=sys.stderr, flush=True)


def markdown_table(rows: Iterable[Sequence[object]], header: Sequence[str], title: str | None = None) -> str:
    lines = [f"\n### {title}\n"] if title else []
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def rss_mb() -> float:
    """Resident memory of this process now (MB)."""
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """The most resident memory this process has had (MB)."""
    return _status_kb("VmHWM") / 1024


def _status_kb(field: str) -> float:
    """A memory figure from /proc/self/status (Linux); falls back to getrusage's peak elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    import resource

    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
