"""Benchmark: Stripe payment events, taken in by the webhook and applied by the worker.

Builds a fresh migrated database (SQLite in a temporary folder, and PostgreSQL with
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

    .venv/bin/python bench/payment_events.py      # SQLite, plus PostgreSQL if
                                                  # TEST_DATABASE_URL is set
    .venv/bin/python bench/payment_events.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    BENCH_ORDERS=1000 .venv/bin/python bench/payment_events.py --no-sqlite

Run by hand; nothing in the suite asserts a time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import backends  # noqa: E402
from bench.backends import Clock  # noqa: E402
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

ORDERS = int(os.environ.get("BENCH_ORDERS", 300))


def run(url: str, backend: str, api_base: str, orders: int = ORDERS) -> dict:
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
    return {
        "backend": backend,
        "events": orders,
        "taken_in": intake.rates(orders),
        "applied": applying.rates(applied),
        "statements_per_applied_event": round(len(statements) / applied, 1),
        "end_to_end_paid_bookings": end_to_end.rates(orders),
    }


def main() -> None:
    """The shared command line (bench/backends.py), with localstripe serving every run."""
    with serve_localstripe() as api_base:
        backends.main(lambda url, backend: run(url, backend, api_base), "payment_events", __doc__)


if __name__ == "__main__":
    main()
