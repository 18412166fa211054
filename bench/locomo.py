"""The LoCoMo long-term memory benchmark (Maharana et al., ACL 2024), read for Engram's evaluations.

One loader for every command that reads a LoCoMo-format file (eval-locomo, bench-recall): conversations of turns
with the time each was said, and questions with the ids of the turns that answer them. The file itself is not
part of the repository (CC BY-NC 4.0, evaluation use only): its path is an argument of each command.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from bot.errors import EngramError

CATEGORIES = ("1", "2", "3", "4", "5")
CATEGORY_NAMES = {"1": "multi-hop", "2": "temporal", "3": "open-domain", "4": "single-hop", "5": "adversarial"}
HEADLINE = ("1", "2", "3", "4")  # category 5 (unanswerable) stays out of "overall"

_DIA_ID = re.compile(r"D:?(\d+):(\d+)")
_SESSION_TIME_FORMAT = "%I:%M %p on %d %B, %Y"


@dataclass
class Turn:
    dia_id: str
    speaker: str
    text: str
    created_at: float


@dataclass
class Question:
    question: str
    category: str
    evidence: list[str]
    answer: str = ""


@dataclass
class Conversation:
    name: str
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    dropped_evidence: int = 0  # evidence ids that named no turn of this conversation

    @property
    def last_time(self) -> float:
        return max(t.created_at for t in self.turns)


# ----- loading -------------------------------------------------------------------------------------------------
def parse_session_time(text: str) -> float:
    """'1:56 pm on 8 May, 2023' -> Unix time (read as UTC)."""
    try:
        parsed = datetime.strptime(" ".join(text.split()), _SESSION_TIME_FORMAT)
    except ValueError:
        raise EngramError(f"unreadable session date {text!r} (expected e.g. '1:56 pm on 8 May, 2023')") from None
    return parsed.replace(tzinfo=timezone.utc).timestamp()


def canonical_id(text: str) -> str | None:
    """'D30:05' -> 'D30:5', 'D:11:26' -> 'D11:26'; None if the text does not read as a turn id."""
    match = _DIA_ID.fullmatch(text.strip())
    return f"D{int(match[1])}:{int(match[2])}" if match else None


def message_id(dia_id: str) -> int:
    """A stable message id for a turn: 'D12:7' -> 120007 (session * 10000 + turn)."""
    canonical = canonical_id(dia_id)
    if canonical is None:
        raise ValueError(f"not a LoCoMo turn id: {dia_id!r}")
    session, turn = canonical[1:].split(":")
    return int(session) * 10000 + int(turn)


def dia_id_of(message_id: int) -> str:
    return f"D{message_id // 10000}:{message_id % 10000}"


def normalise_evidence(raw: list[str], known: set[str]) -> tuple[list[str], int]:
    """Canonical evidence turn ids and the count of entries dropped.

    Each entry is split on ';' (e.g. 'D8:6; D9:17'); each piece that reads as D<session>:<turn> (a stray colon
    as in 'D:11:26' tolerated) is rewritten without zero padding ('D30:05' -> 'D30:5'); pieces that do not read
    as a turn id, or name no turn of the conversation, are dropped. Duplicates are kept once.
    """
    out: list[str] = []
    dropped = 0
    for entry in raw:
        for piece in str(entry).split(";"):
            dia_id = canonical_id(piece)
            if dia_id is None or dia_id not in known:
                dropped += 1
            elif dia_id not in out:
                out.append(dia_id)
    return out, dropped


def turn_text(turn: dict) -> str:
    """The text the bot stores for a turn: a shared photo's caption is appended to the message text."""
    text = turn.get("text", "")
    caption = turn.get("blip_caption")
    return f"{text} [image: {caption}]" if caption else text


def load(path: str | Path) -> list[Conversation]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EngramError(f"cannot read LoCoMo file {path}: {exc}") from None
    conversations = []
    for index, sample in enumerate(data):
        conv = sample["conversation"]
        out = Conversation(name=sample.get("sample_id", f"conversation-{index + 1}"))
        sessions = sorted(
            (int(key.split("_")[1]), key) for key in conv if re.fullmatch(r"session_\d+", key) and conv[key]
        )
        for _number, key in sessions:
            start = parse_session_time(conv[f"{key}_date_time"])
            for offset, turn in enumerate(conv[key]):
                dia_id = canonical_id(turn["dia_id"])
                if dia_id is None:
                    raise EngramError(f"{out.name}: not a LoCoMo turn id: {turn['dia_id']!r}")
                # Turns of a session are a few seconds apart, in order: the dataset gives only the session time.
                out.turns.append(Turn(dia_id, turn["speaker"], turn_text(turn), start + 10.0 * offset))
        known = {t.dia_id for t in out.turns}
        for qa in sample.get("qa", []):
            evidence, dropped = normalise_evidence(qa.get("evidence", []), known)
            out.dropped_evidence += dropped
            out.questions.append(Question(qa["question"], str(qa["category"]), evidence,
                                          str(qa.get("answer", qa.get("adversarial_answer", "")))))
        conversations.append(out)
    return conversations
