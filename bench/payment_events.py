"""Benchmark: Stripe payment events, taken in by the webhook and applied by the worker.

Builds a fresh migrated database (SQLite in a temporary folder, or PostgreSQL with
--postgres URL: a database of its own, dropped after), starts localstripe on 127.0.0.1,
books ORDERS seats (one pending order each) and pays each order's payment intent by card
there, then POSTs one signed payment_intent.succeeded per order through the Flask test
client (as one gunicorn sync worker would), and applies the backlog with
booking.apply_payment_events as the worker does: for each event, the payment intent is
fetched again from Stripe (localstripe here, over HTTP) and the order confirmed in one
unit of work. Reports events/s taken in and applied, the SQL statements per applied
event, and paid bookings/s end to end: from the seat booked, through its payment intent
created and paid at Stripe and the event taken in, to the event applied and the booking
confirmed (with its receipt numbered and queued).

    .venv/bin/python bench/payment_events.py
    .venv/bin/python bench/payment_events.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing in the suite asserts a time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal import booking  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Order, OrderStatus, Role  # noqa: E402
from tests.fixtures.app import make_app  # noqa: E402
from tests.fixtures.database import _migrate  # noqa: E402
from tests.fixtures.factories import make_user, make_workshop  # noqa: E402
from tests.fixtures.stripe_server import (  # noqa: E402
    pay_by_card,
    serve_localstripe,
    signed_event,
    stripe_config,
)


class Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def rates(self, count: int, what: str = "events") -> str:
        return f"{count / self.wall:,.1f} {what}/s ({count / self.cpu:,.0f} per CPU-second)"


def run(url: str, orders: int, api_base: str) -> list[str]:
    _migrate(url)
    app = make_app(url, **stripe_config(api_base), SERVER_NAME=None)
    with app.app_context():
        practitioner = make_user(Role.PRACTITIONER)
        session = make_workshop(practitioner, seats=orders, price_cents=3000)
        buyers = [make_user() for _ in range(orders)]
        end_to_end = Clock().__enter__()
        placed = [booking.book_workshop_seat(buyer, session) for buyer in buyers]
        bodies = [
            signed_event(
                "payment_intent.succeeded",
                {"id": pay_by_card(api_base, order).id, "object": "payment_intent"},
            )
            for order in placed
        ]
        order_ids = [order.id for order in placed]
        db.session.commit()
        db.session.remove()
        client = app.test_client()
        with Clock() as intake:
            for body, headers in bodies:
                response = client.post("/webhooks/stripe", data=body, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        with Clock() as applying:
            applied = 0
            while count := booking.apply_payment_events():
                applied += count
        event.remove(db.engine, "before_cursor_execute", listener)
        end_to_end.__exit__()
        assert applied == orders, (applied, orders)
        paid = db.session.query(Order).filter(
            Order.id.in_(order_ids), Order.status == OrderStatus.PAID
        )
        assert paid.count() == orders
        db.session.remove()
        db.engine.dispose()
    return [
        f"taken in {intake.rates(orders)}",
        f"applied {applying.rates(applied)}",
        f"{len(statements) / applied:.1f} SQL statements per applied event",
        f"end to end {end_to_end.rates(orders, 'paid bookings')}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--postgres", help="a PostgreSQL URL; SQLite when not given")
    args = parser.parse_args()
    with serve_localstripe() as api_base:
        if args.postgres:
            admin_url = make_url(args.postgres).set(drivername="postgresql+psycopg")
            name = f"portal_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                figures = run(url, args.orders, api_base)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                admin.dispose()
            backend = "postgresql"
        else:
            with tempfile.TemporaryDirectory() as folder:
                figures = run(f"sqlite:///{folder}/bench.db", args.orders, api_base)
            backend = "sqlite"
    print(f"{backend}: {args.orders} payment events: " + "; ".join(figures))


if __name__ == "__main__":
    main()
