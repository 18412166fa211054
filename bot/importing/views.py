"""How an import's progress and summary read, for the terminal and for Telegram (plain text in both)."""

from __future__ import annotations

from bot.importing.run import Progress, Summary, counts_text
from bot.text import plural


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_text(p: Progress) -> str:
    """'Importing Family: 12,000 of 100,000 messages (12%), 180 msg/s, about 8 min 09 s to go'."""
    share = 100 * p.done // p.total if p.total else 100
    return (f"Importing {p.chat}: {p.done:,} of {plural(p.total, 'message')} ({share}%), {p.rate:.0f} msg/s, "
            f"about {duration(p.eta)} to go")


def summary_text(s: Summary) -> str:
    chats = ", ".join(f"{name} → chat {target}" for name, target in s.chats)
    counts = counts_text(s)
    lines = [
        f"Dry run, nothing stored: {chats}" if s.dry_run else chats,
        f"{counts[0].upper()}{counts[1:]} ({duration(s.seconds)})",
    ]
    if s.media:
        names = {"voice": "voice messages", "video_note": "video notes", "audio": "audio files", "photo": "pictures"}
        lines.append("Read from media: " + ", ".join(f"{names.get(kind, kind)} {n:,}" for kind, n in
                                                    s.media.most_common()))
    if s.skipped:
        lines.append("Skipped: " + ", ".join(f"{kind} {n:,}" for kind, n in s.skipped.most_common()))
    lines += [f"Error: {e}" for e in s.errors]
    if s.error_count > len(s.errors):
        lines.append(f"… and {plural(s.error_count - len(s.errors), 'more error')}")
    return "\n".join(lines)
