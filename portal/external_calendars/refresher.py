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
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Flask

from ..leases import LeasedWorkRunner
from . import sync

log = logging.getLogger(__name__)


class Refresher(LeasedWorkRunner):
    name = "calendar-refresher"
    worker_name = "calendar-reader"
    # A calendar made due by another process ("refresh now") is read within it.
    idle_seconds = 15.0

    def __init__(self, app: Flask):
        super().__init__(app, int(app.config["PORTAL_CALENDAR_THREADS"]))

    def start(self) -> None:
        super().start()
        log.info("calendar refresher started: %d reader(s)", self.threads)

    def due(self, now: datetime, free: int, busy: Counter[int]) -> Iterable[tuple[int, tuple]]:
        # One reader per calendar: the ones being read are not leased again.
        lease, ids = sync.claim_due(free, now=now, busy=tuple(busy))
        return [(calendar_id, (lease,)) for calendar_id in ids]

    def next_due(self, now: datetime) -> datetime | None:
        return sync.next_due()

    def work(self, key: int, *args: Any) -> None:
        (lease,) = args
        sync.refresh(key, lease=lease)
