"""Benchmark: the notification outbox and its worker, against a local SMTP server.

For each backend (SQLite; PostgreSQL when --postgres or TEST_DATABASE_URL is given) it
builds a fresh migrated database, starts aiosmtpd on 127.0.0.1 and real
`flask --app portal worker` processes, and reports:

- delivery throughput: MESSAGES messages queued in one commit, then delivered by one
  worker process and by two (each with one consumer thread); messages/s between the
  first and the last arrival, so process start-up is not counted;
- commit-to-delivery latency: with one worker running, MESSAGES messages committed one
  transaction each, as fast as one writer can; p50/p99 of (arrival at the SMTP server
  - the commit's return);
- the outbox's cost to a seat purchase: PURCHASES workshop-seat purchases in-process, one
  writer, as the API buys them (booking.purchase_by_ids), with the outbox write (and the
  worker wake-up after commit) and without it (both of the outbox's writers, notify() and
  notify_all(), replaced by no-ops; each round checks how many rows it wrote), alternating
  rounds in the same run; bookings/s.

    .venv/bin/python bench/notifications.py
    .venv/bin/python bench/notifications.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing here is a test. Figures also go to bench/results/ as JSON.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from bench import backends  # noqa: E402
from portal import booking, create_app  # noqa: E402
from portal.core.transactions import unit_of_work  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Notification,
    NotificationKind,
    NotificationStatus,
    Role,
    Service,
    ServiceType,
    User,
)
from portal.notifications import outbox  # noqa: E402
from tests.fixtures.smtp import SmtpServer  # noqa: E402
from tests.fixtures.worker import WorkerProcess  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", 1_000))
PURCHASES = int(os.environ.get("BENCH_PURCHASES", 600))
ROUNDS = 3
SENDER = "Estuary Portal <portal@estuary.test>"


class TimedInbox:
    """Arrival time of each Message-ID at the SMTP server."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        now = time.monotonic()
        for line in envelope.original_content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.arrivals.setdefault(line.split(b":", 1)[1].strip().decode(), now)
                break
        return "250 OK"

    def wait(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(self.arrivals)} of {count} arrived")
            time.sleep(0.05)


def migrate(url: str, settings: dict) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", **settings})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def seed(count: int) -> tuple[User, list[User], Service]:
    practitioner = User(
        email="bench-practitioner@example.com", name="Bench P", role=Role.PRACTITIONER
    )
    practitioner.password_hash = "-"  # never signs in
    db.session.add(practitioner)
    db.session.flush()
    clients = []
    for n in range(count):
        client = User(email=f"bench-client-{n}@example.com", name=f"Client {n}", role=Role.CLIENT)
        client.password_hash = "-"  # never signs in
        clients.append(client)
    db.session.add_all(clients)
    workshop = Service(
        name="Bench workshop",
        service_type=ServiceType.WORKSHOP,
        price_cents=1000,
        duration_minutes=60,
        max_participants=count + 10,
        primary_practitioner_id=practitioner.id,
    )
    db.session.add(workshop)
    db.session.commit()
    return practitioner, clients, workshop


def queue_messages(client: User, count: int, one_commit: bool) -> list[tuple[str, float]]:
    """(Message-ID header, commit time) per message."""
    domain = "estuary.test"

    @unit_of_work
    def write(n: int):
        return [
            outbox.notify(NotificationKind.INVITATION, client, url="http://portal.test/x")
            for _ in range(n)
        ]

    if one_commit:
        ids = write(count)
        done = time.monotonic()
        return [(f"<{message_id}@{domain}>", done) for message_id in ids]
    committed = []
    for _ in range(count):
        (message_id,) = write(1)
        committed.append((f"<{message_id}@{domain}>", time.monotonic()))
    return committed


def throughput(app, env, tmp: Path, client: User, workers: int) -> float:
    inbox = TimedInbox()
    smtp = SmtpServer()
    smtp.inbox = inbox
    smtp.start()
    env = {**env, "MAIL_PORT": str(smtp.port)}
    app.config["MAIL_PORT"] = smtp.port
    try:
        ids = [i for i, _ in queue_messages(client, MESSAGES, one_commit=True)]
        processes = [
            WorkerProcess(env, tmp / f"worker-{workers}-{n}.log", threads=1) for n in range(workers)
        ]
        for process in processes:
            process.start()
        inbox.wait(MESSAGES)
        for process in processes:
            process.stop()
        times = sorted(inbox.arrivals[i] for i in ids)
        return (len(times) - 1) / (times[-1] - times[0])
    finally:
        smtp.stop()


def latency(app, env, tmp: Path, client: User) -> dict:
    inbox = TimedInbox()
    smtp = SmtpServer()
    smtp.inbox = inbox
    smtp.start()
    env = {**env, "MAIL_PORT": str(smtp.port)}
    app.config["MAIL_PORT"] = smtp.port
    process = WorkerProcess(env, tmp / "worker-latency.log", threads=1)
    process.start()
    time.sleep(3)  # the worker is up and polling before the first commit
    try:
        committed = queue_messages(client, MESSAGES, one_commit=False)
        inbox.wait(MESSAGES)
    finally:
        process.stop()
        smtp.stop()
    waits = sorted((inbox.arrivals[i] - at) * 1000 for i, at in committed)
    return {
        "p50_ms": round(statistics.median(waits), 1),
        "p99_ms": round(waits[int(len(waits) * 0.99) - 1], 1),
        "max_ms": round(waits[-1], 1),
    }


def purchases(clients: list[User], workshop: Service) -> dict:
    """Bookings/s with and without the outbox, alternating rounds in one run."""
    per_round = PURCHASES // (2 * ROUNDS)
    rates: dict[str, list[float]] = {"with outbox": [], "without outbox": []}
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    pool = iter(clients)
    for n in range(ROUNDS):
        for label in ("without outbox", "with outbox"):
            session = booking.create_session(
                workshop, start_time=start + timedelta(hours=3 * (2 * n + (label == "with outbox")))
            )
            buyers = [next(pool) for _ in range(per_round)]
            written = outbox_rows()
            with silenced() if label == "without outbox" else nullcontext():
                began = time.perf_counter()
                for buyer in buyers:
                    booking.purchase_by_ids(buyer, workshop.id, service_session_id=session.id)
                rates[label].append(per_round / (time.perf_counter() - began))
            written = outbox_rows() - written
            # A comparison whose "without" wrote rows (or whose "with" wrote none) is moot.
            if (written == 0) != (label == "without outbox"):
                raise SystemExit(f"{label}: {written} outbox rows for {per_round} purchases")
    return {label: round(statistics.median(r), 1) for label, r in rates.items()}


def silenced():
    """The outbox's writers as no-ops: purchases write through notify_all, others notify."""
    stack = ExitStack()
    stack.enter_context(mock.patch.object(outbox, "notify", lambda *a, **k: ""))
    stack.enter_context(mock.patch.object(outbox, "notify_all", lambda notices: []))
    return stack


def outbox_rows() -> int:
    return db.session.scalar(select(func.count(Notification.id)))


def run(url: str, name: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        settings = {
            "PORTAL_WORKER_QUEUE_URL": f"sqlite:///{tmp / 'queue.db'}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_DEFAULT_SENDER": SENDER,
            "PORTAL_BASE_URL": "http://portal.test",
        }
        migrate(url, settings)
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "MAIL_PORT": 1, **settings}
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            **{k: str(v) for k, v in settings.items()},
        }
        figures = {"backend": name}
        with app.app_context():
            _practitioner, clients, workshop = seed(PURCHASES + 10)
            figures["purchases_per_second"] = purchases(clients, workshop)
            # The purchases' own messages are not part of the delivery figures.
            db.session.execute(update(Notification).values(status=NotificationStatus.SKIPPED))
            db.session.commit()
            recipient = clients[-1]
            for workers in (1, 2):
                rate = throughput(app, env, tmp, recipient, workers)
                figures[f"delivered_per_second_{workers}_worker"] = round(rate, 1)
            figures["commit_to_delivery"] = latency(app, env, tmp, recipient)
            db.session.remove()
            db.engine.dispose()
        return figures


if __name__ == "__main__":
    backends.main(run, "notifications", __doc__)
