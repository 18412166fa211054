"""Every SQL statement about reminders: `Reminders`, bound to the store's connection (Store.reminders), called
on the memory thread (Memory's async reminder methods).

Times are Unix seconds (UTC). Knows nothing of Telegram: a delivered reminder is a message id and a text.

Delivery protocol, and what a crash at each point means
-------------------------------------------------------
1. claim():     pending -> sending, with a fresh token (one commit). Only one claimer can win.
2. the caller sends the message.
3. record_delivery(): the delivered text is stored as a message of the chat whose meta carries the token
   (one commit: this row is the proof that step 2 happened), then the reminder is marked sent, or set back to
   pending at its next occurrence (a second commit).

On start, Reminders.recover() looks at every reminder left in 'sending':
- its delivery message exists -> it was delivered: finish step 3, nothing is sent again;
- it does not -> the crash came between the claim and the delivery message: during the HTTP call or the few
  milliseconds after it. Whether Telegram showed the message cannot be known (the Bot API has no idempotency
  key and no way to list sent messages). The policy decides: 'resend' (the default: at least once; the resent
  text says it may be a repeat) or 'drop' (at most once: marked failed, never resent).
A lost reminder (the pills) costs more than a duplicate that says it may be one, hence the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from memory.db import transaction
from memory.models import Message, UnknownOutcome

COLUMNS = (
    "id, chat_id, created_by, text, due_at, recurrence, timezone, status, created_at, claim_token, attempts, "
    "deliveries, last_sent_at, last_message_id, last_error, resend_unknown"
)


@dataclass(frozen=True)
class Reminder:
    id: int
    chat_id: int
    created_by: int | None
    text: str
    due_at: float
    recurrence: str | None
    timezone: str
    status: str
    created_at: float
    claim_token: str | None = None
    attempts: int = 0
    deliveries: int = 0
    last_sent_at: float | None = None
    last_message_id: int | None = None
    last_error: str | None = None
    resend_unknown: bool = False

    @classmethod
    def from_row(cls, row) -> Reminder:
        values = list(row)
        values[-1] = bool(values[-1])
        return cls(*values)


def delivery_message(reminder: Reminder, token: str, message_id: int, text: str, sent_at: float,
                     late: bool) -> Message:
    """The chat message that records a delivery, so recall can answer "what did you remind me about?"."""
    meta = {"kind": "reminder", "reminder_id": reminder.id, "reminder_token": token, "late": late}
    return Message(reminder.chat_id, message_id, text, role="assistant", created_at=sent_at, meta=meta)


# When a recurring reminder fires next after a delivery at a time: the recurrence rules live with the app.
NextOccurrence = Callable[[Reminder, float], "float | None"]


class Reminders:
    """The reminders table. `add_message` stores a delivery message (Store.add) in the caller's database."""

    def __init__(self, conn, add_message: Callable[[Message], Message]):
        self._conn = conn
        self._add_message = add_message

    def _one(self, sql: str, args) -> Reminder | None:
        row = self._conn.execute(sql, args).fetchone()
        return Reminder.from_row(row) if row else None

    def _many(self, sql: str, args=()) -> list[Reminder]:
        return [Reminder.from_row(r) for r in self._conn.execute(sql, args).fetchall()]

    def _update(self, sql: str, args) -> int:
        with transaction(self._conn):
            return self._conn.execute(sql, args).rowcount

    # ----- creating and reading ---------------------------------------------------------------------------------
    def create(self, *, chat_id: int, created_by: int | None, text: str, due_at: float, recurrence: str | None,
               timezone: str, now: float) -> Reminder:
        with transaction(self._conn):
            rowid = self._conn.execute(
                "INSERT INTO reminders (chat_id, created_by, text, due_at, recurrence, timezone, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, created_by, text, due_at, recurrence, timezone, now),
            ).lastrowid
        created = self.get(rowid)
        assert created is not None
        return created

    def get(self, reminder_id: int) -> Reminder | None:
        return self._one(f"SELECT {COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))

    def pending_for_chat(self, chat_id: int) -> list[Reminder]:
        """The chat's reminders still to come (including one being sent right now), soonest first."""
        return self._many(f"SELECT {COLUMNS} FROM reminders WHERE chat_id = ? AND status IN ('pending', 'sending') "
                          "ORDER BY due_at, id", (chat_id,))

    def all_pending(self) -> list[Reminder]:
        return self._many(f"SELECT {COLUMNS} FROM reminders WHERE status = 'pending' ORDER BY due_at, id")

    def due(self, now: float) -> list[Reminder]:
        return self._many(f"SELECT {COLUMNS} FROM reminders WHERE status = 'pending' AND due_at <= ? "
                          "ORDER BY due_at, id", (now,))

    def cancel(self, chat_id: int, reminder_id: int) -> Reminder | None:
        """Cancel one of this chat's reminders; None if there is no such active reminder in this chat.

        A reminder being sent right now can be cancelled too: mark_delivered() then leaves it cancelled, so a
        recurring one does not come back.
        """
        changed = self._update("UPDATE reminders SET status = 'cancelled' WHERE id = ? AND chat_id = ? "
                               "AND status IN ('pending', 'sending')", (reminder_id, chat_id))
        return self.get(reminder_id) if changed else None

    # ----- delivery ---------------------------------------------------------------------------------------------
    def claim(self, reminder_id: int, token: str, now: float) -> Reminder | None:
        """pending -> sending if it is due; None if someone else has it, it was cancelled, or it is not due yet."""
        changed = self._update(
            "UPDATE reminders SET status = 'sending', claim_token = ?, claimed_at = ?, attempts = attempts + 1 "
            "WHERE id = ? AND status = 'pending' AND due_at <= ?", (token, now, reminder_id, now))
        return self.get(reminder_id) if changed else None

    def release(self, reminder_id: int, token: str, error: str) -> bool:
        """The send failed (network, flood limit): back to pending at the same due time, to be retried."""
        return self._update(
            "UPDATE reminders SET status = CASE WHEN status = 'sending' THEN 'pending' ELSE status END, "
            "claim_token = NULL, last_error = ? WHERE id = ? AND claim_token = ?", (error, reminder_id, token)) == 1

    def fail(self, reminder_id: int, token: str | None, error: str) -> bool:
        """Give up on a reminder for good (the chat is gone, the bot was blocked, the outcome policy said drop)."""
        return self._update(
            "UPDATE reminders SET status = CASE WHEN status = 'sending' THEN 'failed' ELSE status END, "
            "claim_token = NULL, last_error = ? WHERE id = ? AND claim_token IS ?", (error, reminder_id, token)) == 1

    def mark_delivered(self, reminder_id: int, token: str, message_id: int, sent_at: float,
                       next_due: float | None) -> bool:
        """sending -> sent (one-shot) or -> pending at next_due (recurring). Cancelled meanwhile stays cancelled."""
        return self._update(
            "UPDATE reminders SET deliveries = deliveries + 1, last_sent_at = ?, last_message_id = ?, "
            "claim_token = NULL, last_error = NULL, resend_unknown = 0, "
            "due_at = CASE WHEN status = 'sending' AND ? IS NOT NULL THEN ? ELSE due_at END, "
            "status = CASE WHEN status <> 'sending' THEN status WHEN ? IS NULL THEN 'sent' ELSE 'pending' END "
            "WHERE id = ? AND claim_token = ?",
            (sent_at, message_id, next_due, next_due, next_due, reminder_id, token)) == 1

    def record_delivery(self, reminder: Reminder, token: str, message: Message, next_due: float | None) -> bool:
        """Store the delivery message (the commit point, see the module docstring), then mark the reminder."""
        self._add_message(message)
        return self.mark_delivered(reminder.id, token, message.message_id, message.created_at, next_due)

    def delivered_message_id(self, chat_id: int, token: str) -> tuple[int, float] | None:
        """(message id, sent at) of the delivery that carried this claim token, if it was stored."""
        row = self._conn.execute(
            "SELECT message_id, created_at FROM messages WHERE chat_id = ? AND meta IS NOT NULL "
            "AND json_extract(meta, '$.reminder_token') = ?", (chat_id, token),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def unresolved(self) -> list[Reminder]:
        """Reminders left in 'sending' by a crash."""
        return self._many(f"SELECT {COLUMNS} FROM reminders WHERE status = 'sending' ORDER BY due_at, id")

    def requeue_unknown(self, reminder_id: int, token: str) -> bool:
        """'resend' policy: back to pending, flagged so the resent text says it may be a repeat."""
        return self._update(
            "UPDATE reminders SET status = 'pending', claim_token = NULL, resend_unknown = 1, "
            "last_error = 'outcome unknown after a restart' WHERE id = ? AND claim_token = ? AND status = 'sending'",
            (reminder_id, token)) == 1

    def recover(self, unknown_outcome: UnknownOutcome | str, next_occurrence: NextOccurrence) -> dict[str, int]:
        """On start: resolve every reminder a crash left in 'sending' (see the module docstring).

        `next_occurrence(reminder, after)` gives a recurring reminder's next due time after a delivery at `after`.
        """
        resend = UnknownOutcome(unknown_outcome) is UnknownOutcome.RESEND
        finished = requeued = dropped = 0
        for reminder in self.unresolved():
            token = reminder.claim_token or ""
            delivered = self.delivered_message_id(reminder.chat_id, token)
            if delivered is not None:  # it was sent and recorded: only the final mark is missing
                message_id, sent_at = delivered
                self.mark_delivered(reminder.id, token, message_id, sent_at,
                                    next_occurrence(reminder, max(sent_at, reminder.due_at)))
                finished += 1
            elif resend:
                self.requeue_unknown(reminder.id, token)
                requeued += 1
            else:
                self.fail(reminder.id, token, "outcome unknown after a restart; not resent")
                dropped += 1
        return {"finished": finished, "resent": requeued, "dropped": dropped}
