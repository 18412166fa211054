"""How an import's progress and summary read, for the terminal and for Telegram (plain text in both)."""

from __future__ import annotations

from bot.i18n import N_, _, number
from bot.importing.run import Progress, Summary, counts_text
from bot.text import plural


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    if seconds >= 60:
        return _("{minutes} min {seconds} s").format(minutes=seconds // 60, seconds=f"{seconds % 60:02d}")
    return _("{seconds} s").format(seconds=seconds)


def progress_text(p: Progress) -> str:
    """'Importing Family: 12,000 of 100,000 messages (12%), 180 msg/s, about 8 min 09 s to go'."""
    share = 100 * p.done // p.total if p.total else 100
    return _("Importing {chat}: {done} of {messages} ({share}%), {rate} msg/s, about {left} to go").format(
        chat=p.chat, done=number(p.done), messages=plural(p.total, "message"), share=share, rate=f"{p.rate:.0f}",
        left=duration(p.eta))


def summary_text(s: Summary) -> str:
    chats = ", ".join(_("{name} → chat {id}").format(name=name, id=target) for name, target in s.chats)
    counts = counts_text(s)
    lines = [
        _("Dry run, nothing stored: {chats}").format(chats=chats) if s.dry_run else chats,
        f"{counts[0].upper()}{counts[1:]} ({duration(s.seconds)})",
    ]
    if s.media:
        names = {"voice": N_("voice messages"), "video_note": N_("video notes"), "audio": N_("audio files"),
                 "photo": N_("pictures")}
        lines.append(_("Read from media: {counts}").format(counts=", ".join(
            f"{_(names[kind]) if kind in names else kind} {number(n)}" for kind, n in s.media.most_common())))
    if s.skipped:
        lines.append(_("Skipped: {counts}").format(counts=", ".join(
            f"{kind} {number(n)}" for kind, n in s.skipped.most_common())))
    lines += [_("Error: {error}").format(error=e) for e in s.errors]
    if s.error_count > len(s.errors):
        lines.append(_("… and {errors}").format(errors=plural(s.error_count - len(s.errors), "more error")))
    return "\n".join(lines)
