"""How an import's progress and summary read, for the terminal and for Telegram (plain text in both)."""

from __future__ import annotations

from bot.importing.run import Progress, Summary


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(p: Progress) -> str:
    """'Importing Family: 12,000 of 100,000 messages (12%), 180 msg/s, about 8 min 09 s to go'."""
    share = 100 * p.done // p.total if p.total else 100
    return (f"Importing {p.chat}: {p.done:,} of {p.total:,} messages ({share}%), {p.rate:.0f} msg/s, "
            f"about {duration(p.eta)} to go")


def summary_text(s: Summary) -> str:
    chats = ", ".join(f"{name} → chat {target}" for name, target in s.chats)
    verb = "would be imported" if s.dry_run else "imported"
    lines = [
        f"{'Dry run: ' if s.dry_run else ''}{chats}",
        f"{s.imported:,} messages {verb}, {s.present:,} already present, "
        f"{sum(s.skipped.values()):,} skipped, {s.error_count:,} errors ({duration(s.seconds)})",
    ]
    if s.skipped:
        lines.append("Skipped: " + ", ".join(f"{kind} {n:,}" for kind, n in s.skipped.most_common()))
    lines += [f"Error: {e}" for e in s.errors]
    if s.error_count > len(s.errors):
        lines.append(f"… and {s.error_count - len(s.errors)} more errors")
    return "\n".join(lines)
