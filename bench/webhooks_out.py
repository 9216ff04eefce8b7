"""Benchmark: outbound webhook deliveries per second to a receiver on 127.0.0.1.

Queues N events through the domain's own `emit` (one delivery each, to one endpoint),
then drains the outbox with one delivery run, and again with two runs at once (two
threads, each claiming its own batches), against a receiver in another process that
answers 204. Prints deliveries/s and checks that every webhook-id arrived exactly once.

    .venv/bin/python bench/webhooks_out.py              # SQLite
    .venv/bin/python bench/webhooks_out.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

The PostgreSQL URL names a server to connect to; the benchmark creates its own database
next to it and drops it. Run by hand; nothing here is a test.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.booking import events  # noqa: E402
from portal.database import utcnow, write_transaction  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role, User, WebhookEventType  # noqa: E402
from portal.webhooks_out import delivery  # noqa: E402
from portal.webhooks_out.endpoints import register_endpoint  # noqa: E402


def serve(port_out, ids_out) -> None:
    """The receiver: records each webhook-id, answers 204."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            ids_out.put(self.headers["webhook-id"])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def queue_events(app, practitioner_id: int, count: int) -> None:
    with app.app_context(), write_transaction():
        now = utcnow()
        for n in range(count):
            events.emit(
                WebhookEventType.BOOKING_CREATED,
                practitioner_id=practitioner_id,
                data={"booking_id": n, "status": "confirmed"},
                now=now,
            )


def drain(app, runs: int) -> float:
    barrier = threading.Barrier(runs)

    def run():
        with app.app_context():
            barrier.wait()
            delivery.deliver_due()
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def collect(ids_in, expected: int) -> list[str]:
    return [ids_in.get(timeout=30) for _ in range(expected)]


def bench(url: str, count: int, label: str) -> None:
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
            "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
        }
    )
    ports, ids = multiprocessing.Queue(), multiprocessing.Queue()
    receiver = multiprocessing.Process(target=serve, args=(ports, ids), daemon=True)
    receiver.start()
    port = ports.get(timeout=10)
    try:
        with app.app_context():
            upgrade()
            owner = User(
                email="bench@example.com",
                name="Bench",
                role=Role.PRACTITIONER,
                # Made by the operator: a confirmed address may register endpoints.
                email_verified_at=utcnow(),
            )
            owner.set_password("bench bench bench")
            db.session.add(owner)
            db.session.commit()
            register_endpoint(owner, f"http://127.0.0.1:{port}/hook", ["booking.created"])
            owner_id = owner.id
        for runs in (1, 2):
            queue_events(app, owner_id, count)
            elapsed = drain(app, runs)
            received = collect(ids, count)
            assert len(set(received)) == count, "a webhook-id arrived twice"
            print(
                f"{label}: {count} deliveries, {runs} run(s) at once: "
                f"{elapsed:.2f}s, {count / elapsed:.0f} deliveries/s"
            )
        with app.app_context():
            db.engine.dispose()
    finally:
        receiver.terminate()
        receiver.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--postgres", help="a PostgreSQL URL to create a database next to")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{tmp}/bench.db", args.count, "SQLite")
    if args.postgres:
        admin_url = make_url(args.postgres).set(drivername="postgresql+psycopg")
        name = f"portal_bench_webhooks_{uuid.uuid4().hex[:6]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin_url.set(database=name).render_as_string(hide_password=False)
            bench(url, args.count, "PostgreSQL")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
