"""SQLite writers queue on BEGIN IMMEDIATE by polling the lock (portal.database)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from portal.database import _begin_immediate


@pytest.fixture
def connections(tmp_path):
    path = tmp_path / "lock.db"
    opened = []

    def connect():
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.close()


def busy_timeout(conn) -> int:
    return conn.execute("PRAGMA busy_timeout").fetchone()[0]


def test_a_queued_writer_gets_the_lock_once_it_is_released(connections):
    holder, waiter = connections(), connections()
    holder.execute("CREATE TABLE seats (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO seats DEFAULT VALUES")
    waiting = threading.Event()
    outcome = {}

    def queue():
        waiting.set()
        try:
            _begin_immediate(waiter, 30_000)
            outcome["count"] = waiter.execute("SELECT count(*) FROM seats").fetchone()[0]
            waiter.execute("INSERT INTO seats DEFAULT VALUES")
            waiter.execute("COMMIT")
        except Exception as exc:  # reported to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=queue)
    thread.start()
    waiting.wait()
    holder.execute("COMMIT")
    thread.join(timeout=30)

    assert "error" not in outcome, outcome
    # It began after the holder committed, so it saw the holder's row.
    assert outcome["count"] == 1
    assert holder.execute("SELECT count(*) FROM seats").fetchone()[0] == 2
    assert busy_timeout(waiter) == 30_000


def test_a_writer_gives_up_with_database_is_locked_after_the_busy_timeout(connections):
    holder, waiter = connections(), connections()
    holder.execute("CREATE TABLE seats (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _begin_immediate(waiter, 50)

    assert not waiter.in_transaction
    # Its ordinary statements still wait the configured time, not zero.
    assert busy_timeout(waiter) == 50
    holder.execute("ROLLBACK")
