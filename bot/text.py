"""Text made to fit: the one-line shortening that the prompt (memories quoted) and the views (lists) both use."""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
