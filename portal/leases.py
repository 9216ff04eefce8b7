"""Claiming queued rows under a lease: the one way the outbox and outbound webhooks
hand work to workers.

A queue table has `id`, `next_attempt_at` and `claimed_until`. A worker takes due rows
by one conditional UPDATE that stamps its lease (the claim's token) on them; on
PostgreSQL it picks them FOR UPDATE SKIP LOCKED, so two workers never hold the same
row, and a worker killed mid-batch leaves rows whose lease simply runs out. Outcomes are
recorded by the caller only where `claimed_until` still equals its lease.

LeasedWorkRunner is the worker's loop around such claims for work done in threads of
its own (calendar reads, outbound webhook sends).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import func, or_, select, update

from .database import utcnow, write_transaction
from .extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")


def unclaimed(model: Any, now: datetime):
    """No worker holds the row: never claimed, or its lease has run out."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def claim(
    model: Any, *conditions, limit: int, now: datetime, lease: datetime, due_at: Any = None
) -> list[int]:
    """Stamp `lease` on up to `limit` free rows meeting `conditions`, oldest due first
    (by `due_at`, the model's `next_attempt_at` unless given); returns their ids in order."""
    due = (
        select(model.id)
        .where(*conditions, unclaimed(model, now))
        .order_by(model.next_attempt_at if due_at is None else due_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with write_transaction():
        # The repeated condition makes the claim safe where no row lock is taken
        # (SQLite serialises writers instead): a row another worker just leased fails it.
        claimed = db.session.scalars(
            update(model)
            .where(model.id.in_(due.scalar_subquery()), unclaimed(model, now))
            .values(claimed_until=lease)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(claimed)


def next_claimable(model: Any, pending, now: datetime) -> datetime | None:
    """When a pending row next becomes claimable: its retry time, or the end of the
    lease another (perhaps dead) worker holds it under."""
    waiting = db.session.scalar(
        select(func.min(model.next_attempt_at)).where(pending, unclaimed(model, now))
    )
    leased = db.session.scalar(
        select(func.min(model.claimed_until)).where(pending, model.claimed_until >= now)
    )
    return min((t for t in (waiting, leased) if t is not None), default=None)


def while_leased(rows: Sequence[T], lease: datetime, lease_seconds: float) -> Iterator[T]:
    """Hand out rows only while a good part of the lease is left: past it, another
    worker may have claimed the rest, and sending them too would send them twice."""
    margin = timedelta(seconds=lease_seconds / 3)
    for index, row in enumerate(rows):
        if utcnow() > lease - margin:
            log.info("lease running out: %d row(s) left for the next claim", len(rows) - index)
            return
        yield row


class LeasedWorkRunner:
    """One thread that leases work falling due and hands each piece to a thread of its
    own, at most `threads` at once, then sleeps until the next piece is due or until
    woken (a finishing thread wakes it; so may a Huey task). The worker process runs
    these beside its consumer for work that waits on other people's servers (calendar
    reads, outbound webhooks), so that work never holds the queue's threads.

    A subclass says what is due (`due`), when more will be (`next_due`) and how one piece
    is done (`work`). Pieces are keyed (a calendar, an endpoint); `busy` counts the
    threads at work on each key. Work threads are daemons: one cut short by the process's
    exit leaves a lease that runs out, and its work is leased again.
    """

    name = "runner"
    worker_name = "runner-worker"
    # The longest sleep without a wake-up: work made due by another process is found
    # within it.
    idle_seconds = 60.0

    def __init__(self, app: Flask, threads: int):
        self.app = app
        self.threads = threads
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._busy: Counter[int] = Counter()
        self._thread: threading.Thread | None = None

    def due(self, now: datetime, free: int, busy: Counter[int]) -> Iterable[tuple[int, tuple]]:
        """Lease up to `free` pieces of due work: (key, the arguments `work` takes)."""
        raise NotImplementedError

    def next_due(self, now: datetime) -> datetime | None:
        raise NotImplementedError

    def work(self, key: int, *args: Any) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop handing out work (threads at work finish or are cut short at exit)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            # Cleared before looking, so a wake-up that comes while looking is kept.
            self._wake.clear()
            try:
                wait = self._hand_out()
            except Exception:  # noqa: BLE001 - a database outage must not end the loop
                log.exception("%s: handing out work failed; trying again shortly", self.name)
                wait = 5.0
            self._wake.wait(wait)

    def _hand_out(self) -> float:
        """Start threads for due work; returns how long to sleep."""
        with self.app.app_context():
            try:
                now = utcnow()
                with self._lock:
                    free = self.threads - sum(self._busy.values())
                    busy = Counter(self._busy)
                if free > 0:
                    for key, args in self.due(now, free, busy):
                        self._start_worker(key, args)
                next_at = self.next_due(now)
            finally:
                db.session.remove()
        if next_at is None or next_at <= now:
            # Nothing due, or due work waits for a thread: a finishing thread wakes us.
            return self.idle_seconds
        return min(max((next_at - now).total_seconds(), 0.05), self.idle_seconds)

    def _start_worker(self, key: int, args: tuple) -> None:
        with self._lock:
            self._busy[key] += 1
        threading.Thread(
            target=self._work_on, args=(key, args), name=self.worker_name, daemon=True
        ).start()

    def _work_on(self, key: int, args: tuple) -> None:
        try:
            with self.app.app_context():
                try:
                    self.work(key, *args)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the lease runs out and the work is leased again
            log.exception("%s: work on %s failed", self.name, key)
        finally:
            with self._lock:
                self._busy[key] -= 1
                if not self._busy[key]:
                    del self._busy[key]
            self.wake()
