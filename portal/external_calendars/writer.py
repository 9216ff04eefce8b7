"""The worker's calendar writer: sessions written into practitioners' calendars by the
one leased-work runner the calendar refresher and the webhook dispatcher use
(leases.LeasedWorkRunner), apart from the queue's threads.

Writing a session into a practitioner's calendar waits on their server, so it holds none
of the Huey threads that send email and run the periodic jobs. The rows are written by a
database trigger, which no Python sees commit, so the runner looks for due rows itself:
at least every `idle_seconds` (one indexed MIN over the pending rows), sooner when a retry
falls due. Every write has its own deadline (PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Flask

from ..leases import LeasedWorkRunner
from . import writes

log = logging.getLogger(__name__)


class Writer(LeasedWorkRunner):
    name = "calendar-writer"
    worker_name = "calendar-write"
    # A session changed by a web process (the trigger) is written within it.
    idle_seconds = 5.0

    def __init__(self, app: Flask):
        super().__init__(app, int(app.config["PORTAL_CALENDAR_THREADS"]))

    def due(self, now: datetime, free: int, busy: Counter[int]) -> Iterable[tuple[int, tuple]]:
        # A leased row is not leased again until its lease runs out: no write twice at once.
        lease, ids = writes.claim_due(free, now=now)
        return [(row_id, (lease,)) for row_id in ids]

    def next_due(self, now: datetime) -> datetime | None:
        return writes.next_due(now)

    def work(self, key: int, *args: Any) -> None:
        (lease,) = args
        writes.write_one(key, lease, writes.WriteResult())
