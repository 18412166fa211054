"""Reminders on a real SQLite file: the SQL (create, list, cancel, due, claim), crash recovery, and the service
with a fake `send` on both of its timers: a real PTB JobQueue (Telegram's) and asyncio's (the terminal chat's).
The Telegram end-to-end tests live in test_reminders_e2e.py, the terminal's in test_terminal_commands.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from telegram.ext import ApplicationBuilder

from bot.reminders.parse import parse_reminder
from bot.reminders.service import ChatScope, DeliveryRejected, ReminderService, next_occurrence
from bot.reminders.timers import AsyncioTimers, JobQueueTimers
from memory.reminders import delivery_message

T0 = 1_800_000_000.0  # a fixed "now" for the SQL-level tests


def add(store, due=T0 + 60, *, chat_id=1, text="call Ana", recurrence=None, tz="UTC"):
    return store.reminders.create(chat_id=chat_id, created_by=7, text=text, due_at=due, recurrence=recurrence,
                      timezone=tz, now=T0)


# ----- SQL -------------------------------------------------------------------------------------------------------

def test_create_list_cancel_due(store):
    a = add(store, T0 + 60, text="later")
    b = add(store, T0 - 5, text="overdue")
    c = add(store, T0 + 30, chat_id=2, text="other chat")
    assert [r.text for r in store.reminders.pending_for_chat(1)] == ["overdue", "later"]
    assert [r.id for r in store.reminders.due(T0)] == [b.id]
    assert store.reminders.cancel(2, a.id) is None  # another chat's reminder cannot be cancelled from here
    assert store.reminders.cancel(1, a.id).status == "cancelled"
    assert store.reminders.cancel(1, a.id) is None  # twice: nothing left to cancel
    assert [r.id for r in store.reminders.pending_for_chat(1)] == [b.id]
    assert {r.id for r in store.reminders.all_pending()} == {b.id, c.id}


def test_claim_is_exclusive_and_only_when_due(store):
    r = add(store, T0)
    assert store.reminders.claim(r.id, "early", T0 - 1) is None  # not due yet
    first = store.reminders.claim(r.id, "tok-1", T0)
    assert first.status == "sending" and first.claim_token == "tok-1" and first.attempts == 1
    assert store.reminders.claim(r.id, "tok-2", T0 + 1) is None  # a second timer loses
    cancelled = add(store, T0)
    store.reminders.cancel(1, cancelled.id)
    assert store.reminders.claim(cancelled.id, "tok-3", T0) is None


def test_delivery_one_shot_and_recurring(store):
    once, daily = add(store, T0), add(store, T0, recurrence="daily 08:00")
    store.reminders.claim(once.id, "a", T0)
    store.reminders.claim(daily.id, "b", T0)
    assert not store.reminders.mark_delivered(once.id, "wrong-token", 11, T0, None)
    assert store.reminders.mark_delivered(once.id, "a", 11, T0, None)
    assert store.reminders.mark_delivered(daily.id, "b", 12, T0, T0 + 86400)
    once, daily = store.reminders.get(once.id), store.reminders.get(daily.id)
    assert (once.status, once.deliveries, once.last_message_id) == ("sent", 1, 11)
    assert (daily.status, daily.due_at, daily.deliveries, daily.claim_token) == ("pending", T0 + 86400, 1, None)


def test_cancel_while_sending_is_not_undone_by_the_delivery(store):
    r = add(store, T0, recurrence="interval 3600")
    store.reminders.claim(r.id, "t", T0)
    assert store.reminders.cancel(1, r.id) is not None
    assert store.reminders.mark_delivered(r.id, "t", 5, T0, T0 + 3600)
    assert store.reminders.get(r.id).status == "cancelled"


def test_release_puts_it_back_for_a_retry(store):
    r = add(store, T0)
    store.reminders.claim(r.id, "t", T0)
    assert store.reminders.release(r.id, "t", "timeout")
    back = store.reminders.get(r.id)
    assert (back.status, back.last_error, back.due_at) == ("pending", "timeout", T0)
    assert store.reminders.claim(r.id, "t2", T0 + 15).attempts == 2


def test_recover_finishes_a_recorded_delivery_without_resending(store):
    r = add(store, T0, recurrence="interval 3600")
    claimed = store.reminders.claim(r.id, "tok", T0)
    store.messages.add(delivery_message(claimed, "tok", 99, "Reminder: call Ana", T0 + 1, False))
    # ... and the process died before mark_delivered
    assert store.reminders.recover("resend", next_occurrence) == {"finished": 1, "resent": 0, "dropped": 0}
    after = store.reminders.get(r.id)
    assert (after.status, after.deliveries, after.last_message_id, after.due_at) == ("pending", 1, 99, T0 + 3600)


@pytest.mark.parametrize("policy, status, flagged", [("resend", "pending", True), ("drop", "failed", False)])
def test_recover_unknown_outcome_follows_the_policy(store, policy, status, flagged):
    r = add(store, T0)
    store.reminders.claim(r.id, "tok", T0)  # died during the HTTP call: no delivery message
    report = store.reminders.recover(policy, next_occurrence)
    assert report["resent" if policy == "resend" else "dropped"] == 1
    after = store.reminders.get(r.id)
    assert (after.status, after.resend_unknown) == (status, flagged)


def test_migration_from_the_previous_version(tmp_path):
    """A database made by m001 alone gains the reminders table, and its messages stay."""
    from memory import db, migrations

    conn = db.connect(tmp_path / "old.db")
    migrations.migrate(conn, migrations.MIGRATIONS[:1])
    conn.execute("INSERT INTO messages (chat_id, message_id, role, text, created_at) VALUES (1, 1, 'user', 'hi', 0)")
    assert migrations.migrate(conn) == [f.__name__ for f in migrations.MIGRATIONS[1:]]
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM reminders").fetchone()[0] == 0
    conn.close()


# ----- the service on a real JobQueue, and on asyncio ------------------------------------------------------------

class FakeChat:
    """Records what the service sends; can be told to fail."""

    def __init__(self):
        self.sent: list[tuple[int, str]] = []
        self.fail_with: Exception | None = None
        self.arrived = asyncio.Event()

    async def send(self, chat_id: int, text: str) -> int:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((chat_id, text))
        self.arrived.set()
        return 1000 + len(self.sent)

    async def wait_for(self, n: int, timeout: float = 10.0) -> None:
        async def enough():
            while len(self.sent) < n:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(enough(), timeout)


@pytest.fixture(params=["jobqueue", "asyncio"])
async def job_queue(request):
    """The service's timers: PTB's JobQueue (Telegram) or plain asyncio (the terminal chat)."""
    if request.param == "asyncio":
        timers = AsyncioTimers()
        yield timers
        await timers.close()
        return
    app = ApplicationBuilder().token("123456:" + "A" * 35).build()  # never talks to Telegram
    await app.job_queue.start()
    yield JobQueueTimers(app.job_queue)
    await app.job_queue.stop(wait=False)


def shifted_clock(offset: float):
    return lambda: datetime.now(timezone.utc) + timedelta(seconds=offset)


async def test_reminder_fires_once_and_is_remembered(memory, job_queue):
    chat = FakeChat()
    service = ReminderService(memory, job_queue, chat.send, "UTC", sweep_seconds=0.2)
    await service.start()
    parsed = parse_reminder("in 1 seconds call Ana", "UTC", datetime.now(timezone.utc))
    reminder = await service.create(5, 7, parsed)
    await chat.wait_for(1)
    await asyncio.sleep(0.6)  # several sweeps later: still once
    assert chat.sent == [(5, "⏰ call Ana")]
    stored = await memory.messages.recent(5, 10)
    assert [(m.role, m.text, m.message_id) for m in stored] == [("assistant", "Reminder: call Ana", 1001)]
    assert stored[0].meta["reminder_id"] == reminder.id
    assert (await service.pending(5)) == []
    await service.stop()


async def test_recurring_repeats_until_cancelled(memory, job_queue):
    chat = FakeChat()
    service = ReminderService(memory, job_queue, chat.send, "UTC", min_interval=1, sweep_seconds=0)
    await service.start()
    parsed = parse_reminder("every 1 second blink", "UTC", datetime.now(timezone.utc), min_interval=1)
    reminder = await service.create(5, 7, parsed)
    await chat.wait_for(3)
    assert await service.cancel(5, reminder.id) is not None
    count = len(chat.sent)
    await asyncio.sleep(2.2)
    assert len(chat.sent) == count and {t for _, t in chat.sent} == {"⏰ blink"}
    await service.stop()


async def test_restart_delivers_missed_late_and_pending_on_time(memory, job_queue):
    chat = FakeChat()
    first = ReminderService(memory, job_queue, chat.send, "UTC", sweep_seconds=0)
    await first.start()
    now = datetime.now(timezone.utc)
    await first.create(5, 7, parse_reminder("in 30 minutes missed one", "UTC", now))
    await first.create(5, 7, parse_reminder("in 3604 seconds future one", "UTC", now))
    await first.stop()  # the bot goes down; an hour passes
    second = ReminderService(memory, job_queue, chat.send, "UTC", clock=shifted_clock(3600), sweep_seconds=0)
    report = await second.start()
    assert (report["scheduled"], report["overdue"]) == (2, 1)
    await chat.wait_for(1)
    assert chat.sent == [(5, "⏰ (late) missed one")]
    assert len(chat.sent) == 1  # the other is not due yet ...
    await chat.wait_for(2)  # ... until ~4 s after the "restart"
    assert chat.sent[1] == (5, "⏰ future one")
    await asyncio.sleep(0.3)
    assert len(chat.sent) == 2
    await second.stop()


async def test_crash_mid_send_is_resent_once_flagged(memory, job_queue):
    chat = FakeChat()
    past = datetime.now(timezone.utc).timestamp() - 5
    r = await memory.reminders.add(chat_id=5, created_by=7, text="pills", due_at=past, recurrence=None,
                                   timezone="UTC", now=past)
    await memory.reminders.claim(r.id, "dead-process", past + 1)  # claimed, then the crash
    service = ReminderService(memory, job_queue, chat.send, "UTC", sweep_seconds=0)
    assert (await service.start())["resent"] == 1
    await chat.wait_for(1)
    await asyncio.sleep(0.3)
    assert chat.sent == [(5, "⏰ (late, resent after a restart: you may have had it already) pills")]
    await service.stop()


async def test_send_failures_retry_or_give_up(memory, job_queue, monkeypatch):
    monkeypatch.setattr("bot.reminders.service.RETRY_DELAYS", (0.3,))
    chat = FakeChat()
    service = ReminderService(memory, job_queue, chat.send, "UTC", sweep_seconds=0)
    await service.start()
    now = datetime.now(timezone.utc)
    chat.fail_with = ConnectionError("network down")
    flaky = await service.create(5, 7, parse_reminder("in 1 seconds flaky", "UTC", now))
    await asyncio.sleep(1.2)
    assert chat.sent == []
    chat.fail_with = None  # the network is back: the retry delivers it
    await chat.wait_for(1)
    assert chat.sent == [(5, "⏰ flaky")]
    chat.fail_with = DeliveryRejected("Forbidden: bot was blocked by the user")
    blocked = await service.create(5, 7, parse_reminder("in 1 seconds blocked", "UTC", datetime.now(timezone.utc)))
    await asyncio.sleep(1.6)
    states = [await memory.reminders.get(flaky.id), await memory.reminders.get(blocked.id)]
    assert [(x.status, x.attempts) for x in states] == [("sent", 2), ("failed", 1)]
    await service.stop()


async def test_a_service_delivers_only_the_chats_it_serves(memory):
    """The terminal's service (only its chat) and Telegram's (every chat but the terminal's) share a database:
    each delivers its own chats' reminders, at start and on the sweep, and leaves the others pending."""
    timers = AsyncioTimers()
    terminal, telegram = FakeChat(), FakeChat()
    past = datetime.now(timezone.utc).timestamp() - 5
    for chat_id in (0, 5):
        await memory.reminders.add(chat_id=chat_id, created_by=None, text=f"for {chat_id}", due_at=past,
                                  recurrence=None, timezone="UTC", now=past)
    mine = ReminderService(memory, timers, terminal.send, "UTC", sweep_seconds=0.2,
                           chats=ChatScope(only=frozenset({0})))
    await mine.start()
    await terminal.wait_for(1)
    await asyncio.sleep(0.5)  # a sweep or two: chat 5's overdue reminder stays for Telegram
    assert terminal.sent == [(0, "⏰ (late) for 0")]
    assert [r.text for r in await memory.reminders.pending()] == ["for 5"]
    theirs = ReminderService(memory, timers, telegram.send, "UTC", sweep_seconds=0,
                             chats=ChatScope(besides=frozenset({0})))
    await theirs.start()
    await telegram.wait_for(1)
    assert telegram.sent == [(5, "⏰ (late) for 5")]
    await mine.stop()
    await theirs.stop()
    await timers.close()
