"""Benchmark: a password-reset email's latency while an outbound webhook endpoint is a
black hole (it accepts connections and never answers).

For each backend (SQLite; PostgreSQL when --postgres or TEST_DATABASE_URL is given) it
builds a fresh migrated database, starts aiosmtpd and a black-hole endpoint on 127.0.0.1
and a real `flask --app portal worker` (two threads, PORTAL_WEBHOOKS_TIMEOUT_SECONDS=3),
queues DELIVERIES webhook deliveries to the black hole in two commits (two wake-ups),
then asks for RESETS password resets one after another and reports how long each email
took from the request's commit to its arrival at the SMTP server. An email that has not
arrived after WAIT seconds is reported as "> WAIT".

    .venv/bin/python bench/webhook_black_hole.py
    .venv/bin/python bench/webhook_black_hole.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing here is a test. Figures also go to bench/results/ as JSON.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import backends  # noqa: E402
from bench.notifications import migrate  # noqa: E402
from portal import accounts, create_app  # noqa: E402
from portal.booking import events  # noqa: E402
from portal.database import utcnow, write_transaction  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role, User, WebhookEventType  # noqa: E402
from portal.webhooks_out.endpoints import register_endpoint  # noqa: E402
from tests.fixtures.smtp import SmtpServer  # noqa: E402
from tests.fixtures.webhook_receiver import BlackHole  # noqa: E402
from tests.fixtures.worker import WorkerProcess  # noqa: E402

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", 500))
RESETS = int(os.environ.get("BENCH_RESETS", 5))
WAIT = float(os.environ.get("BENCH_WAIT", 120))


def seed() -> tuple[User, User]:
    practitioner = User(email="bench-p@example.com", name="Bench P", role=Role.PRACTITIONER)
    client = User(email="bench-c@example.com", name="Bench C", role=Role.CLIENT)
    for user in (practitioner, client):
        user.password_hash = "-"  # never signs in
    db.session.add_all([practitioner, client])
    db.session.commit()
    return practitioner, client


def queue_deliveries(practitioner: User, count: int) -> None:
    """`count` deliveries to the practitioner's endpoint, in two commits: two wake-ups."""
    for half in (count // 2, count - count // 2):
        with write_transaction():
            now = utcnow()
            for n in range(half):
                events.emit(
                    WebhookEventType.BOOKING_CREATED,
                    practitioner_id=practitioner.id,
                    data={"booking_id": n},
                    now=now,
                )


def run(url: str, name: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        smtp = SmtpServer()
        smtp.start()
        hole = BlackHole().start()
        settings = {
            "PORTAL_WORKER_QUEUE_URL": f"sqlite:///{tmp / 'queue.db'}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp.port,
            "MAIL_DEFAULT_SENDER": "Estuary Portal <portal@estuary.test>",
            "PORTAL_BASE_URL": "http://portal.test",
            "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
            "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
            "PORTAL_WEBHOOKS_TIMEOUT_SECONDS": 3,
        }
        migrate(url, settings)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", **settings})
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            **{k: str(v) for k, v in settings.items()},
        }
        worker = WorkerProcess(env, tmp / "worker.log", threads=2)
        figures: dict = {"backend": name, "deliveries": DELIVERIES}
        try:
            with app.app_context():
                practitioner, client = seed()
                register_endpoint(practitioner, hole.url, [WebhookEventType.BOOKING_CREATED])
                worker.start()
                time.sleep(3)  # the worker is up and polling
                queue_deliveries(practitioner, DELIVERIES)
                time.sleep(2)  # its threads (or its webhook senders) have taken the work
                waits = []
                for _n in range(RESETS):
                    before = len(smtp.to(client.email))
                    asked = time.monotonic()
                    accounts.request_password_reset(client.email)
                    try:
                        smtp.wait_until(lambda _m, b=before: len(smtp.to(client.email)) > b, WAIT)
                    except AssertionError:
                        waits.append(f"> {WAIT:.0f} s")
                        break
                    waits.append(round(time.monotonic() - asked, 2))
                figures["reset_email_seconds"] = waits
                figures["black_hole_connections"] = hole.connections
                db.session.remove()
                db.engine.dispose()
        finally:
            worker.stop()
            hole.stop()
            smtp.stop()
        return figures


if __name__ == "__main__":
    backends.main(run, "webhook_black_hole", __doc__)
