"""Keep a streamed reply a reply: no speaker label in front, no transcript continued, no line said twice.

A small model shown a chat sometimes writes the next lines of it instead of an answer ("U1001: who brings the
cake?", the same line four times). The filter sits between the model's stream and the user:
- a label at the very start ("Engram:", "Assistant:", a speaker's name and a colon) is dropped;
- the reply ends where a new line starts with such a label, or repeats a line already written;
- with `max_sentences`, it ends after that many sentences (a small model's later sentences mostly ramble);
- a reply that starts by saying the question back loses it (the start is held while it could still be one).
The first line streams as it comes (after the few characters that decide about a label: only a start that could
still become one is held); later lines are held
until they are complete, since only then can they be checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LABEL = re.compile(r"^\s*([A-Za-z][\w .'-]{0,30}|U\d+)\s*:\s*")
GENERIC_LABELS = {"user", "assistant", "engram", "bot", "ai", "a", "answer", "reply", "you", "me", "i"}
DECIDE_CHARS = 34  # enough to see a label's colon
ECHO_MIN_WORDS = 3
_SENTENCE_END = re.compile(r"([.!?]+)(?=\s)")
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "mt", "prof"}


class ReplyFilter:
    def __init__(self, names: Iterable[str] = (), max_sentences: int = 0, question: str = ""):
        self.max_sentences = max_sentences  # 0: no limit
        # the message answered, if it is a real question (a greeting said back is fine): a reply starting with it
        # drops it
        self._question = _plain(question) if len(question.split()) >= ECHO_MIN_WORDS else ""
        self._echo = ""  # the start of the first line, held while it could still be the question
        self._echo_done = not self._question
        self._shown = ""  # everything let through so far
        self._scanned = 0  # where the search for the next sentence end resumes
        self._sentences = 0
        self._ends: list[int] = []
        self.labels = GENERIC_LABELS | {n.strip().lower() for n in names if n.strip()}
        self.stopped = False
        self._head = ""  # the start, until the label question is decided
        self._decided = False
        self._line = ""  # a later line being held until complete
        self._lines: list[str] = []  # lines written so far (normalised)
        self._first_line_open = True

    def _is_label(self, text: str) -> int:
        """Length of a speaker label at the start of `text` (0 if none)."""
        match = LABEL.match(text)
        if match is None:
            return 0
        label = match[1].strip().lower()
        return match.end() if label in self.labels or re.fullmatch(r"u\d+", label) else 0

    def _may_become_label(self, head: str) -> bool:
        """True while the start could still turn out to be a label: "Ana" might go on as "Ana:"."""
        start = head.strip().lower()
        if ":" in head or "\n" in head.strip() or len(head) >= DECIDE_CHARS:
            return False
        return not start or any(label.startswith(start) for label in self.labels) or bool(
            re.fullmatch(r"u\d*", start))

    def feed(self, chunk: str) -> str:
        if self.stopped:
            return ""
        out = []
        if not self._decided:
            self._head += chunk
            if self._may_become_label(self._head):
                return ""
            self._decided = True
            head, self._head = self._head, ""
            head = head[self._is_label(head):].lstrip()
            chunk = head
        for piece in re.split(r"(\n)", chunk):
            if self.stopped:
                break
            if piece == "\n":
                out.append(self._end_line())
            elif self._first_line_open:
                piece = self._unecho(piece)
                self._line += piece
                out.append(piece)
            else:
                self._line += piece
        return self._limit("".join(out))

    def _unecho(self, text: str) -> str:
        """First-line text, held while it could still be the question said back, and dropped if it was."""
        if self._echo_done:
            return text
        held = self._echo + text
        plain = _plain(held)
        if self._question.startswith(plain):
            self._echo = held  # still a prefix of the question: wait
            return ""
        self._echo, self._echo_done = "", True
        if plain.startswith(self._question):  # the whole question, then more: drop it with its punctuation
            end = re.search(r"[.?!]+\s*", held)
            if end is not None:
                return held[end.end():]
        return held

    def _limit(self, text: str) -> str:
        """`text`, cut after the last sentence allowed (then the reply is over)."""
        if not self.max_sentences or not text:
            self._shown += text
            return text
        before = len(self._shown)
        combined = self._shown + text
        for match in _SENTENCE_END.finditer(combined, self._scanned):
            self._scanned = match.end()
            sentence = combined[self._last_end():match.start() + 1]
            words = sentence.split()
            if len(words) < 2 or words[-1].rstrip(".!?").lower() in _ABBREVIATIONS or re.fullmatch(
                    r"[A-Z]\.", words[-1]):
                continue  # "Hello!" leads into its sentence; "Dr." and "J." end none
            self._sentences += 1
            self._ends.append(match.start() + len(match[1]))
            if self._sentences >= self.max_sentences:
                self.stopped = True
                self._shown = combined[:match.start() + len(match[1])]
                return self._shown[before:]
        self._shown = combined
        return text

    def _last_end(self) -> int:
        return self._ends[-1] if self._ends else 0

    def _end_line(self) -> str:
        """A line ended: the first one was already shown; a later one is shown now if it passes."""
        line, self._line = self._line, ""
        if self._first_line_open:
            self._first_line_open = False
            self._lines.append(_norm(line))
            return ""  # the newline itself waits for the next line that passes
        if self._is_label(line) or (_norm(line) and _norm(line) in self._lines):
            self.stopped = True
            return ""
        if not _norm(line):
            return ""
        self._lines.append(_norm(line))
        return "\n" + line

    def finish(self) -> str:
        """What was held back when the stream ended."""
        if self.stopped:
            return ""
        if not self._decided:
            self._decided = True
            head, self._head = self._head, ""
            return self._limit(head[self._is_label(head):].lstrip())
        if self._first_line_open:
            held, self._echo, self._echo_done = self._echo, "", True
            return "" if _plain(held) == self._question else self._limit(held)
        if not self._line.strip():
            return ""
        return self._limit(self._end_line())


def _plain(text: str) -> str:
    """Lower-case words only: how the question and the reply's start are compared."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def _norm(line: str) -> str:
    return " ".join(line.lower().split())
