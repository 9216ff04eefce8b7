"""The worker's default queue, an SQLite file beside the database."""

from __future__ import annotations

from portal.worker import build_huey


def test_the_sqlite_queue_skips_the_fsync_per_commit_and_keeps_its_tasks(tmp_path):
    """A web request wakes the worker by writing a task here: synchronous=NORMAL in WAL
    mode (consistent through a power cut) instead of FULL, whose fsync cost 5 ms (#19)."""
    url = f"sqlite:///{tmp_path / 'worker-queue.db'}"
    queue = build_huey(url)
    conn = queue.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL

    @queue.task(name="ping")
    def ping():
        return None

    ping()
    ping.schedule(delay=60)
    # Another process (the worker) opens the file afresh and finds both (a task with a
    # delay waits in the queue too, until the consumer reads its time).
    worker_side = build_huey(url)
    assert worker_side.pending_count() == 2
