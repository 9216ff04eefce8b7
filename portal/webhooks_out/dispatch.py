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
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Flask

from ..leases import LeasedWorkRunner
from . import delivery

log = logging.getLogger(__name__)


class Dispatcher(LeasedWorkRunner):
    name = "webhook-dispatcher"
    worker_name = "webhook-sender"
    # Rows written by a process that could not wake the worker are found within it.
    idle_seconds = 60.0

    def __init__(self, app: Flask):
        super().__init__(app, int(app.config["PORTAL_WEBHOOKS_THREADS"]))
        self.per_endpoint = int(app.config["PORTAL_WEBHOOKS_PER_ENDPOINT"])

    def start(self) -> None:
        super().start()
        log.info(
            "webhook dispatcher started: %d sender(s), %d per endpoint",
            self.threads,
            self.per_endpoint,
        )

    def due(self, now: datetime, free: int, busy: Counter[int]) -> Iterable[tuple[int, tuple]]:
        full = [e for e, n in busy.items() if n >= self.per_endpoint]
        return [(e, ()) for e in delivery.due_endpoints(now, limit=free, busy=full)]

    def next_due(self, now: datetime) -> datetime | None:
        return delivery.next_due(now)

    def work(self, key: int, *args: Any) -> None:
        # One batch of the endpoint's rows, then back: endpoints take turns.
        delivery.deliver_batch(endpoint_id=key)
