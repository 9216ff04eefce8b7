"""Prometheus metrics (prometheus_client), served at GET /metrics.

Under gunicorn every worker is its own process: gunicorn.conf.py points
PROMETHEUS_MULTIPROC_DIR at a fresh directory before the workers start, each worker
writes its counters there, and a scrape, whichever worker answers it, adds them all
up (prometheus_client's multiprocess mode). Without it (flask run, tests) the
process's own registry is served.

Figures that live in the database (the outbox backlog) are read at scrape time, so
every worker and every instance reports the same truth.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from flask import Flask, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import Insert

REQUESTS = Counter(
    "portal_http_requests_total",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request's start to its answer, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEAT_PURCHASES = Counter(
    "portal_seat_purchases_total",
    "Bookings holding a seat in a session, counted when committed (workshop seats, course "
    "enrollments, 1-on-1 sessions, seats given from the roster).",
)
REFUSALS = Counter(
    "portal_refusals_total",
    "API error answers, by their code (session_full, rate_limited, database_unavailable...).",
    ["code"],
)
WEBHOOK_LAG = Histogram(
    "portal_livekit_webhook_lag_seconds",
    "From LiveKit stamping a webhook event to the portal having stored it (to be applied "
    "by the worker at once, or by the next reader of attendance).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
# The outbox (the notification worker's table, once its migration has run): rows still
# to deliver and the oldest of them, read at scrape time.
OUTBOX_BACKLOG_SQL = text(
    "SELECT count(*), min(created_at) FROM notifications WHERE status = 'pending'"
)


def record_refusal(code: str) -> None:
    REFUSALS.labels(code=code).inc()


def record_webhook_received(stamped_at: datetime) -> None:
    WEBHOOK_LAG.observe(max(0.0, (datetime.now(UTC) - stamped_at).total_seconds()))


# -- seat purchases: counted from the INSERTs into bookings that a transaction commits,
# whichever domain path wrote them, and forgotten when it rolls back.

_PENDING_SEATS = "portal_pending_seat_inserts"


@event.listens_for(Engine, "after_execute")
def _note_seat_inserts(conn, clauseelement, multiparams, params, execution_options, result):
    if not isinstance(clauseelement, Insert) or clauseelement.table.name != "bookings":
        return
    # The compiled parameters hold every row's values, bound or written into the statement.
    rows = getattr(result.context, "compiled_parameters", None) or []
    seats = sum(1 for row in rows if row.get("service_session_id") is not None)
    if seats:
        conn.info[_PENDING_SEATS] = conn.info.get(_PENDING_SEATS, 0) + seats


@event.listens_for(Engine, "commit")
def _count_committed_seats(conn):
    seats = conn.info.pop(_PENDING_SEATS, 0)
    if seats:
        SEAT_PURCHASES.inc(seats)


@event.listens_for(Engine, "rollback")
def _forget_rolled_back_seats(conn):
    # A connection the database dropped is being rolled back without it: its info went
    # with it, and reading conn.info would only raise PendingRollbackError.
    if not conn.invalidated:
        conn.info.pop(_PENDING_SEATS, None)


class DatabaseCollector:
    """Reads the outbox backlog at scrape time (absent until the table exists)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def collect(self):
        try:
            with self.engine.connect() as conn:
                pending, oldest = conn.execute(OUTBOX_BACKLOG_SQL).one()
        except DBAPIError:
            # No outbox table yet, or the database is down: /readyz says which.
            return
        yield GaugeMetricFamily(
            "portal_outbox_backlog", "Outbox messages not yet delivered.", value=pending
        )
        if oldest is not None:
            if isinstance(oldest, str):  # SQLite hands back its text form
                oldest = datetime.fromisoformat(oldest)
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            yield GaugeMetricFamily(
                "portal_outbox_oldest_pending_seconds",
                "Age of the oldest undelivered outbox message.",
                value=(datetime.now(UTC) - oldest).total_seconds(),
            )


def exposition(engine: Engine) -> tuple[bytes, str]:
    """The text a scrape gets: every worker's counters plus the database's figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        processes = generate_latest(registry)
    else:
        processes = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector(engine))
    return processes + generate_latest(database), CONTENT_TYPE_LATEST


# Any other method a client makes up shares one label, for the same reason as unmatched URLs.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def register_request_metrics(app: Flask) -> None:
    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count_request(response):
        started = g.pop("metrics_started", None)
        # Unmatched URLs share one label, or every scanner's guess would be a new series.
        endpoint = request.endpoint or "unmatched"
        method = request.method if request.method in METHODS else "other"
        REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
