"""Every SQL statement about reminders. Synchronous: call on the memory thread (Memory.call) or with a Store.

Times are Unix seconds (UTC). Knows nothing of Telegram: a delivered reminder is a message id and a text.

Delivery protocol, and what a crash at each point means
-------------------------------------------------------
1. claim():     pending -> sending, with a fresh token (one commit). Only one claimer can win.
2. the caller sends the message.
3. record_delivery(): the delivered text is stored as a message of the chat whose meta carries the token
   (one commit: this row is the proof that step 2 happened), then the reminder is marked sent, or set back to
   pending at its next occurrence (a second commit).

On start, recover() looks at every reminder left in 'sending':
- its delivery message exists -> it was delivered: finish step 3, nothing is sent again;
- it does not -> the crash came between the claim and the delivery message: during the HTTP call or the few
  milliseconds after it. Whether Telegram showed the message cannot be known (the Bot API has no idempotency
  key and no way to list sent messages). The policy decides: 'resend' (the default: at least once; the resent
  text says it may be a repeat) or 'drop' (at most once: marked failed, never resent).
A lost reminder (the pills) costs more than a duplicate that says it may be one, hence the default.
"""

from __future__ import annotations

from dataclasses import dataclass

from memory.db import transaction
from memory.models import Message

COLUMNS = (
    "id, chat_id, created_by, text, due_at, recurrence, timezone, status, created_at, claim_token, attempts, "
    "deliveries, last_sent_at, last_message_id, last_error, resend_unknown"
)
ACTIVE = ("pending", "sending")


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
    def from_row(cls, row) -> "Reminder":
        values = list(row)
        values[-1] = bool(values[-1])
        return cls(*values)


def _one(conn, sql: str, args) -> Reminder | None:
    row = conn.execute(sql, args).fetchone()
    return Reminder.from_row(row) if row else None


def _many(conn, sql: str, args=()) -> list[Reminder]:
    return [Reminder.from_row(r) for r in conn.execute(sql, args).fetchall()]


# ----- creating and reading -----------------------------------------------------------------------------------

def create(conn, *, chat_id: int, created_by: int | None, text: str, due_at: float, recurrence: str | None,
           timezone: str, now: float) -> Reminder:
    with transaction(conn):
        rowid = conn.execute(
            "INSERT INTO reminders (chat_id, created_by, text, due_at, recurrence, timezone, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chat_id, created_by, text, due_at, recurrence, timezone, now),
        ).lastrowid
    return get(conn, rowid)


def get(conn, reminder_id: int) -> Reminder | None:
    return _one(conn, f"SELECT {COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))


def pending_for_chat(conn, chat_id: int) -> list[Reminder]:
    """The chat's reminders still to come (including one being sent right now), soonest first."""
    return _many(
        conn, f"SELECT {COLUMNS} FROM reminders WHERE chat_id = ? AND status IN ('pending', 'sending') "
        "ORDER BY due_at, id", (chat_id,),
    )


def all_pending(conn) -> list[Reminder]:
    return _many(conn, f"SELECT {COLUMNS} FROM reminders WHERE status = 'pending' ORDER BY due_at, id")


def due(conn, now: float) -> list[Reminder]:
    return _many(conn, f"SELECT {COLUMNS} FROM reminders WHERE status = 'pending' AND due_at <= ? "
                       "ORDER BY due_at, id", (now,))


def cancel(conn, chat_id: int, reminder_id: int) -> Reminder | None:
    """Cancel one of this chat's reminders; None if there is no such active reminder in this chat.

    A reminder being sent right now can be cancelled too: record_delivery() then leaves it cancelled, so a
    recurring one does not come back.
    """
    with transaction(conn):
        changed = conn.execute(
            "UPDATE reminders SET status = 'cancelled' WHERE id = ? AND chat_id = ? "
            "AND status IN ('pending', 'sending')", (reminder_id, chat_id),
        ).rowcount
    return get(conn, reminder_id) if changed else None


# ----- delivery -----------------------------------------------------------------------------------------------

def claim(conn, reminder_id: int, token: str, now: float) -> Reminder | None:
    """pending -> sending if it is due; None if someone else has it, it was cancelled, or it is not due yet."""
    with transaction(conn):
        changed = conn.execute(
            "UPDATE reminders SET status = 'sending', claim_token = ?, claimed_at = ?, attempts = attempts + 1 "
            "WHERE id = ? AND status = 'pending' AND due_at <= ?", (token, now, reminder_id, now),
        ).rowcount
    return get(conn, reminder_id) if changed else None


def release(conn, reminder_id: int, token: str, error: str) -> bool:
    """The send failed (network, flood limit): back to pending at the same due time, to be retried."""
    with transaction(conn):
        return conn.execute(
            "UPDATE reminders SET status = CASE WHEN status = 'sending' THEN 'pending' ELSE status END, "
            "claim_token = NULL, last_error = ? WHERE id = ? AND claim_token = ?", (error, reminder_id, token),
        ).rowcount == 1


def fail(conn, reminder_id: int, token: str | None, error: str) -> bool:
    """Give up on a reminder for good (the chat is gone, the bot was blocked, the outcome policy said drop)."""
    with transaction(conn):
        return conn.execute(
            "UPDATE reminders SET status = CASE WHEN status = 'sending' THEN 'failed' ELSE status END, "
            "claim_token = NULL, last_error = ? WHERE id = ? AND claim_token IS ?", (error, reminder_id, token),
        ).rowcount == 1


def mark_delivered(conn, reminder_id: int, token: str, message_id: int, sent_at: float,
                   next_due: float | None) -> bool:
    """sending -> sent (one-shot) or -> pending at next_due (recurring). Cancelled meanwhile stays cancelled."""
    with transaction(conn):
        return conn.execute(
            "UPDATE reminders SET deliveries = deliveries + 1, last_sent_at = ?, last_message_id = ?, "
            "claim_token = NULL, last_error = NULL, resend_unknown = 0, "
            "due_at = CASE WHEN status = 'sending' AND ? IS NOT NULL THEN ? ELSE due_at END, "
            "status = CASE WHEN status <> 'sending' THEN status WHEN ? IS NULL THEN 'sent' ELSE 'pending' END "
            "WHERE id = ? AND claim_token = ?",
            (sent_at, message_id, next_due, next_due, next_due, reminder_id, token),
        ).rowcount == 1


def delivery_message(reminder: Reminder, token: str, message_id: int, text: str, sent_at: float,
                     late: bool) -> Message:
    """The chat message that records a delivery, so recall can answer "what did you remind me about?"."""
    meta = {"kind": "reminder", "reminder_id": reminder.id, "reminder_token": token, "late": late}
    return Message(reminder.chat_id, message_id, text, role="assistant", created_at=sent_at, meta=meta)


def record_delivery(store, reminder: Reminder, token: str, message: Message, next_due: float | None) -> bool:
    """Store the delivery message (the commit point, see the module docstring), then mark the reminder."""
    store.add(message)
    return mark_delivered(store.conn, reminder.id, token, message.message_id, message.created_at, next_due)


def delivered_message_id(conn, chat_id: int, token: str) -> tuple[int, float] | None:
    """(message id, sent at) of the delivery that carried this claim token, if it was stored."""
    row = conn.execute(
        "SELECT message_id, created_at FROM messages WHERE chat_id = ? AND meta IS NOT NULL "
        "AND json_extract(meta, '$.reminder_token') = ?", (chat_id, token),
    ).fetchone()
    return (row[0], row[1]) if row else None


def unresolved(conn) -> list[Reminder]:
    """Reminders left in 'sending' by a crash."""
    return _many(conn, f"SELECT {COLUMNS} FROM reminders WHERE status = 'sending' ORDER BY due_at, id")


def requeue_unknown(conn, reminder_id: int, token: str) -> bool:
    """'resend' policy: back to pending, flagged so the resent text says it may be a repeat."""
    with transaction(conn):
        return conn.execute(
            "UPDATE reminders SET status = 'pending', claim_token = NULL, resend_unknown = 1, "
            "last_error = 'outcome unknown after a restart' WHERE id = ? AND claim_token = ? AND status = 'sending'",
            (reminder_id, token),
        ).rowcount == 1
