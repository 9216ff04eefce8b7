"""Benchmark: membership renewals, taken in by the webhook and applied by the worker.

Builds a fresh migrated database (SQLite in a temporary folder, and PostgreSQL with
--postgres URL: a database of its own, dropped after), starts localstripe on 127.0.0.1 and
subscribes MEMBERS clients to one plan there (customer, card, subscription, first invoice
paid, as Checkout would), applies their first periods, then renews every subscription at
Stripe (an invoice for the next period, paid) and POSTs one signed invoice.paid per renewal
through the Flask test client. Measured: renewal events taken in per second; applied per
second by booking.apply_payment_events as the worker runs it (each fetches the invoice and
the subscription again from localstripe over HTTP, then grants the period in one unit of
work: its order, charge and receipt, its credits, its notice), with the SQL statements per
renewal; and the grant alone (grant_period with what Stripe answered already in hand), the
part the database decides.

    .venv/bin/python bench/memberships.py      # SQLite, plus PostgreSQL if
                                               # TEST_DATABASE_URL is set
    BENCH_MEMBERS=1000 .venv/bin/python bench/memberships.py --no-sqlite

Run by hand; nothing in the suite asserts a time.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import backends  # noqa: E402
from bench.backends import Clock  # noqa: E402
from portal import booking  # noqa: E402
from portal.booking.memberships import grant_period  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import MembershipPeriod, Role  # noqa: E402
from tests.fixtures.app import make_app  # noqa: E402
from tests.fixtures.database import _migrate  # noqa: E402
from tests.fixtures.factories import make_user  # noqa: E402
from tests.fixtures.memberships import invoice, make_plan, subscription  # noqa: E402
from tests.fixtures.passes import make_group_class  # noqa: E402
from tests.fixtures.stripe_billing import renewal_invoice, subscribe_at_stripe  # noqa: E402
from tests.fixtures.stripe_server import serve_localstripe, signed_event, stripe_config  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", 300))


def _apply_all() -> int:
    applied = 0
    while count := booking.apply_payment_events():
        applied += count
    return applied


def _periods() -> int:
    return db.session.scalar(select(func.count(MembershipPeriod.id))) or 0


def run(url: str, backend: str, api_base: str, members: int = MEMBERS) -> dict:
    _migrate(url)
    app = make_app(url, **stripe_config(api_base), SERVER_NAME=None)
    with app.app_context():
        practitioner = make_user(Role.PRACTITIONER)
        plan = make_plan(practitioner, services=[make_group_class(practitioner)])
        clients = [make_user() for _ in range(members)]
        subscribed = [subscribe_at_stripe(api_base, c, plan) for c in clients]
        # What Stripe will answer about each subscription's third period, built while the
        # rows are at hand (the grant-only phase below uses it).
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=70)
        end = start + timedelta(days=30)
        answers = [
            (
                invoice(start, end, sub_id=sub_id),
                replace(subscription(c, plan, start, end), subscription_id=sub_id),
            )
            for c, (sub_id, _first) in zip(clients, subscribed, strict=True)
        ]
        client = app.test_client()
        for _sub, first in subscribed:
            body, headers = signed_event("invoice.paid", {"id": first, "object": "invoice"})
            client.post("/webhooks/stripe", data=body, headers=headers)
        db.session.remove()
        assert _apply_all() == members
        renewals = [renewal_invoice(api_base, sub) for sub, _first in subscribed]
        bodies = [
            signed_event("invoice.paid", {"id": renewal, "object": "invoice"})
            for renewal in renewals
        ]
        db.session.remove()
        with Clock() as intake:
            for body, headers in bodies:
                response = client.post("/webhooks/stripe", data=body, headers=headers)
                assert response.status_code == 200, response.get_data(as_text=True)
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        with Clock() as applying:
            applied = _apply_all()
        event.remove(db.engine, "before_cursor_execute", listener)
        assert applied == members and _periods() == 2 * members, (applied, _periods())

        # The grant alone: a third period each, Stripe's answers already in hand.
        db.session.remove()
        with Clock() as granting:
            for paid, sub in answers:
                grant_period(paid, sub, start)
        assert _periods() == 3 * members
        db.session.remove()
        db.engine.dispose()
    return {
        "backend": backend,
        "renewals": members,
        "taken_in": intake.rates(members),
        "applied_with_stripe_fetches": applying.rates(applied),
        "statements_per_renewal": round(len(statements) / applied, 1),
        "granted_domain_only": granting.rates(members),
    }


def main() -> None:
    """The shared command line (bench/backends.py), with localstripe serving every run."""
    with serve_localstripe() as api_base:
        backends.main(lambda url, backend: run(url, backend, api_base), "memberships", __doc__)


if __name__ == "__main__":
    main()
