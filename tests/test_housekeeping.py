"""Housekeeping: an online backup while another thread writes, pruning, checkpoint, retention."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

from bot.config import HousekeepingConfig
from bot.housekeeping import Housekeeping
from memory import HashEmbedder, Message, Store
from memory.maintenance import backup_database, list_backups, prune_backups


def test_backup_while_writing_holds_everything_committed_before_it(tmp_path):
    path = tmp_path / "engram.db"
    seed = Store.open(path, HashEmbedder(dim=64))
    # Enough data (~2 MB) that the copy takes a while and the writer commits while it runs.
    seed.messages.add_many([Message(2, i, f"older message {i} " + "x" * 400) for i in range(1, 2001)])
    seed.close()
    committed: list[int] = []  # message ids whose transaction has committed, in order
    stop = threading.Event()

    def writer():
        store = Store.open(path, HashEmbedder(dim=64))  # its own connection, like the memory thread
        n = 0
        try:
            while not stop.is_set():
                n += 1
                store.messages.add(Message(1, n, f"message number {n} about the weather", created_at=1e9 + n))
                committed.append(n)
        finally:
            store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 100:  # let the WAL fill up first
            time.sleep(0.01)
        before = len(committed)
        backup = backup_database(path, tmp_path / "backups", keep=3)
        during = len(committed)
        time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert during > before  # the writer kept committing while the backup ran (WAL: readers do not block it)

    copy = Store.open(backup, HashEmbedder(dim=64))  # opens cleanly: schema, vectors and model record
    try:
        ids = {m["message_id"] for m in copy.messages.export(1)}
        assert copy.messages.count(2) == 2000
        assert set(committed[:before]) <= ids
        assert ids <= set(committed)  # nothing half-written
        check = copy.maintenance.check()
        assert check["integrity"] == "ok" and check["consistent"]
        assert check["journal_mode"] == "wal"  # Store.open switched it back
        hits = copy.search.recall(1, "message number 5 about the weather", k=3)
        assert hits and hits[0].message.message_id in ids
    finally:
        copy.close()
    assert not backup.with_name(backup.name + ".partial").exists()


def test_backup_is_a_single_file_and_old_ones_are_pruned(tmp_path, store):
    store.messages.add(Message(1, 1, "hello"))
    t = datetime(2026, 5, 13, 4, 0, tzinfo=timezone.utc)
    made = [backup_database(store.path, tmp_path / "b", keep=2, now=t + timedelta(days=d)) for d in range(4)]
    assert list_backups(tmp_path / "b") == made[-2:]
    assert not any(p.name.endswith(("-wal", "-shm")) for p in (tmp_path / "b").iterdir())
    (tmp_path / "b" / "engram-20000101-000000.db.partial").write_bytes(b"interrupted")
    assert [p.name for p in prune_backups(tmp_path / "b", 1)] == [made[2].name, "engram-20000101-000000.db.partial"]


def test_checkpoint_empties_the_wal(store):
    store.messages.add_many([Message(1, i, f"text {i}") for i in range(1, 50)])
    wal = store.path + "-wal"
    assert os.path.getsize(wal) > 0
    busy, log_pages, done = store.maintenance.checkpoint()
    assert busy == 0 and log_pages == done
    assert os.path.getsize(wal) == 0
    assert store.maintenance.check()["busy_timeout_ms"] == 30000  # restored after the checkpoint lowered it


async def test_jobs_through_memory(memory, tmp_path):
    now = datetime(2026, 5, 13, 12, 0, tzinfo=timezone.utc)
    old, new = now - timedelta(days=40), now - timedelta(days=2)
    await memory.messages.remember_many([Message(1, 1, "old", created_at=old.timestamp()),
                                         Message(1, 2, "new", created_at=new.timestamp())])
    config = HousekeepingConfig(retention_days=0)
    keeper = Housekeeping(memory, config, backup_dir=tmp_path / "bk", clock=lambda: now)
    assert await keeper.apply_retention() == 0  # off by default
    config.retention_days = 30
    assert await keeper.apply_retention() == 1
    assert [m.text for m in await memory.messages.recent(1, 10)] == ["new"]
    assert (await keeper.checkpoint())[0] == 0
    backup = await keeper.backup()
    assert backup.name == "engram-20260513-120000.db" and backup.exists()
