"""The worker's calendar readers: threads of their own, apart from the queue's.

Reading a practitioner's calendar waits on someone else's server, so it must not hold
the Huey threads that send email and run the periodic jobs, and one slow server must
not hold the others. The worker process runs a refresher beside its consumer: one
thread that leases the calendars falling due (portal/leases.py, so two workers never
read the same one) and hands each to a reader thread of its own, at most
PORTAL_CALENDAR_THREADS at once. Each read has its own deadline
(PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS), so a reader always comes back.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from flask import Flask

from ..database import utcnow
from ..extensions import db
from . import sync

log = logging.getLogger(__name__)

# The longest sleep: a calendar made due by another process ("refresh now") is read
# within it.
IDLE_SECONDS = 15.0


class Refresher:
    def __init__(self, app: Flask):
        self.app = app
        self.threads = int(app.config["PORTAL_CALENDAR_THREADS"])
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        # Calendars being read now, by this process.
        self._reading: set[int] = set()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="calendar-refresher", daemon=True)
        self._thread.start()
        log.info("calendar refresher started: %d reader(s)", self.threads)

    def stop(self) -> None:
        """Stop handing out calendars. A reader cut short by the process's exit leaves a
        lease that runs out, and the calendar is read again."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                wait = self._hand_out()
            except Exception:  # noqa: BLE001 - a database outage must not end the loop
                log.exception("calendar refresh round failed; trying again shortly")
                wait = 5.0
            self._wake.wait(wait)

    def _hand_out(self) -> float:
        """Start readers for due calendars; returns how long to sleep."""
        with self.app.app_context():
            try:
                now = utcnow()
                with self._lock:
                    free = self.threads - len(self._reading)
                    reading = tuple(self._reading)
                if free > 0:
                    lease, ids = sync.claim_due(free, now=now, busy=reading)
                    for calendar_id in ids:
                        self._start_reader(calendar_id, lease)
                next_at = sync.next_due()
            finally:
                db.session.remove()
        if next_at is None or next_at <= now:
            # Nothing due, or due calendars wait for a reader: a finishing reader wakes us.
            return IDLE_SECONDS
        return min(max((next_at - now).total_seconds(), 0.05), IDLE_SECONDS)

    def _start_reader(self, calendar_id: int, lease: datetime) -> None:
        with self._lock:
            self._reading.add(calendar_id)
        threading.Thread(
            target=self._read, args=(calendar_id, lease), name="calendar-reader", daemon=True
        ).start()

    def _read(self, calendar_id: int, lease: datetime) -> None:
        try:
            with self.app.app_context():
                try:
                    sync.refresh(calendar_id, lease=lease)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the lease runs out and the calendar is read again
            log.exception("reading calendar %s failed", calendar_id)
        finally:
            with self._lock:
                self._reading.discard(calendar_id)
            self.wake()
