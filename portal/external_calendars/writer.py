"""The worker's calendar writer: one thread of its own, apart from the queue's.

Writing a session into a practitioner's calendar waits on their server, so it holds none
of the Huey threads that send email and run the periodic jobs. The rows are written by a
database trigger, which no Python sees commit, so the writer looks for due rows itself:
at least every IDLE_SECONDS (one indexed MIN over the pending rows), sooner when a retry
falls due. Every write has its own deadline (PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS).

Kept small on purpose: the calendar refresher (refresher.py) and the webhook dispatcher
are being merged into one shared runner, which this loop should join.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from ..database import utcnow
from ..extensions import db
from . import writes

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0
BATCH = 20


class Writer:
    def __init__(self, app: Flask):
        self.app = app
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="calendar-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """A write cut short leaves a lease that runs out; the row is written again."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                wait = self._round()
            except Exception:  # noqa: BLE001 - a database outage must not end the loop
                log.exception("calendar write round failed; trying again shortly")
                wait = IDLE_SECONDS
            self._stopping.wait(wait)

    def _round(self) -> float:
        with self.app.app_context():
            try:
                result = writes.write_due(BATCH)
                if result.written + result.deleted + result.unchanged + result.failed >= BATCH:
                    return 0.0
                now = utcnow()
                next_at = writes.next_due(now)
            finally:
                db.session.remove()
        if next_at is None:
            return IDLE_SECONDS
        return min(max((next_at - now).total_seconds(), 0.05), IDLE_SECONDS)
