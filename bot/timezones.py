"""Time zones by IANA name ("Europe/Lisbon"): one check for the config, /timezone and reminder parsing."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo | None:
    """The zone named `name` (surrounding spaces ignored), or None if there is no such zone."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a zone name at all ("../x", "")
        return None
