"""Stop strings applied to a stream of text chunks, for backends whose library does not trim them itself."""

from __future__ import annotations


class StopScanner:
    """Passes text through until a stop string appears; the stop string and what follows are never emitted.

    A chunk may end with the first half of a stop string ("...\\nUs" before "er:"), so text that could still
    become a stop string is held back until the next chunk decides it.
    """

    def __init__(self, stops: list[str] | None):
        self.stops = [s for s in (stops or []) if s]
        self.hit = False
        self._pending = ""

    def feed(self, text: str) -> str:
        """Text that is safe to emit now ('' if nothing is)."""
        if self.hit:
            return ""
        self._pending += text
        if not self.stops:
            out, self._pending = self._pending, ""
            return out
        found = [i for i in (self._pending.find(s) for s in self.stops) if i >= 0]
        if found:
            self.hit = True
            out, self._pending = self._pending[: min(found)], ""
            return out
        held = self._partial_stop_length()
        cut = len(self._pending) - held
        out, self._pending = self._pending[:cut], self._pending[cut:]
        return out

    def flush(self) -> str:
        """What was held back, once the stream has ended without a stop string."""
        out, self._pending = ("" if self.hit else self._pending), ""
        return out

    def _partial_stop_length(self) -> int:
        """Length of the longest end of the pending text that is the beginning of some stop string."""
        best = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:n]):
                    best = n
                    break
        return best
