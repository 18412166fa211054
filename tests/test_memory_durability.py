"""A process killed in the middle of writing leaves a consistent database: whole batches or nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from test_memory_store import consistent

from memory import HashEmbedder, Store

WRITER = textwrap.dedent(
    """
    import sys
    from memory import HashEmbedder, Message, Store
    store = Store.open(sys.argv[1], HashEmbedder(64))
    batch = 0
    while True:
        store.messages.add_many([Message(1, batch * 50 + i, f"message {batch} {i} " + "words " * 20)
                                 for i in range(50)], batch_size=50)
        batch += 1
        print(batch, flush=True)
    """
)


def test_kill_mid_batch_leaves_whole_batches(tmp_path):
    path = tmp_path / "crash.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line and int(line) >= 5:
                break
        time.sleep(0.013)  # land somewhere inside a later batch
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    store = Store.open(path, HashEmbedder(64))
    try:
        count = consistent(store)
        assert count >= 250 and count % 50 == 0
        ids = sorted(m["message_id"] for m in store.messages.export(1))
        assert ids == list(range(count))
        assert store.maintenance.check()["integrity"] == "ok"
    finally:
        store.close()
