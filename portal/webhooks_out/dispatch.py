"""The worker's webhook senders: threads of their own, apart from the queue's.

Outbound webhooks wait on other people's servers; emails, hold releases and the other
periodic jobs must not wait behind them. So the worker process runs a dispatcher
beside its Huey consumer: one thread that watches the delivery table and hands each
endpoint with due rows to a sender thread, at most PORTAL_WEBHOOKS_THREADS senders at
once and at most PORTAL_WEBHOOKS_PER_ENDPOINT of them on any one endpoint. A sender
takes one batch of its endpoint's rows and returns, so endpoints take turns, the one
waiting longest first; a black-holed endpoint holds no more than its share.

The dispatcher sleeps until the next row falls due (a retry goes at its time, not at the
next minute), or until woken: the Huey task a commit enqueues, and the minute's
backstop, only wake it, and return at once.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from flask import Flask

from ..database import utcnow
from ..extensions import db
from . import delivery

log = logging.getLogger(__name__)

# The longest sleep without a wake-up: rows written by a process that could not wake
# the worker are found within it.
IDLE_SECONDS = 60.0


class Dispatcher:
    def __init__(self, app: Flask):
        self.app = app
        self.threads = int(app.config["PORTAL_WEBHOOKS_THREADS"])
        self.per_endpoint = int(app.config["PORTAL_WEBHOOKS_PER_ENDPOINT"])
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Sender threads at work, per endpoint.
        self._busy: Counter[int] = Counter()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._thread.start()
        log.info(
            "webhook dispatcher started: %d sender(s), %d per endpoint",
            self.threads,
            self.per_endpoint,
        )

    def stop(self) -> None:
        """Stop handing out work. Senders are daemon threads: one cut short by the
        process's exit leaves rows whose lease runs out, and they go again."""
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
                wait = self._dispatch()
            except Exception:  # noqa: BLE001 - a database outage must not end the loop
                log.exception("webhook dispatch failed; trying again shortly")
                wait = 5.0
            self._wake.wait(wait)

    def _dispatch(self) -> float:
        """Start senders for due endpoints; returns how long to sleep."""
        with self.app.app_context():
            try:
                now = utcnow()
                with self._lock:
                    free = self.threads - sum(self._busy.values())
                    full = [e for e, n in self._busy.items() if n >= self.per_endpoint]
                if free > 0:
                    for endpoint_id in delivery.due_endpoints(now, limit=free, busy=full):
                        self._start_sender(endpoint_id)
                next_at = delivery.next_due(now)
            finally:
                db.session.remove()
        if next_at is None or next_at <= now:
            # Nothing due, or due rows wait for a sender: a finishing sender wakes us.
            return IDLE_SECONDS
        return min(max((next_at - now).total_seconds(), 0.05), IDLE_SECONDS)

    def _start_sender(self, endpoint_id: int) -> None:
        with self._lock:
            self._busy[endpoint_id] += 1
        threading.Thread(
            target=self._send, args=(endpoint_id,), name="webhook-sender", daemon=True
        ).start()

    def _send(self, endpoint_id: int) -> None:
        try:
            with self.app.app_context():
                try:
                    delivery.deliver_batch(endpoint_id=endpoint_id)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the rows' lease runs out and they go again
            log.exception("webhook sender for endpoint %s failed", endpoint_id)
        finally:
            with self._lock:
                self._busy[endpoint_id] -= 1
                if not self._busy[endpoint_id]:
                    del self._busy[endpoint_id]
            self.wake()
