"""Payment events racing hold expiry and each other, on SQLite and PostgreSQL (#20).

Whoever takes the order's lock first decides: a payment applied before the release keeps
its seat; a release first frees it, and the payment then takes it again (nobody else
wanted it here). Two appliers of one event record one charge.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    SEAT_HOLDING,
    Booking,
    Order,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentKind,
)
from tests.fixtures.concurrency import THREADS, race
from tests.fixtures.factories import future, make_user, make_workshop, seat_invariant_violations
from tests.fixtures.stripe_server import pay_by_card, stripe_client, stripe_config

PAYERS = 12
APPLIERS = 4
RELEASERS = 4


@pytest.fixture
def app_config(localstripe_url):
    return {
        **stripe_config(localstripe_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0},
    }


def _store_succeeded(intent, event_id: str) -> None:
    assert booking.receive_payment_event(event_id, "payment_intent.succeeded", intent.id)


def test_payment_events_against_hold_expiry_keep_every_paid_seat(
    app, practitioner, localstripe_url
):
    session = make_workshop(practitioner, seats=PAYERS, price_cents=3000)
    booked_at = future(0) - timedelta(days=1)
    orders = [
        booking.book_workshop_seat(make_user(), session, now=booked_at) for _ in range(PAYERS)
    ]
    at = orders[0].hold_expires_at + timedelta(seconds=1)
    for n, order in enumerate(orders):
        # Each event stored twice under two ids, as Stripe's two events for one payment.
        intent = pay_by_card(localstripe_url, order)
        _store_succeeded(intent, f"evt_a{n}")
        _store_succeeded(intent, f"evt_b{n}")
    attempts = [lambda: booking.apply_payment_events(now=at) for _ in range(APPLIERS)]
    for n in range(RELEASERS):
        attempts.insert(n * 2, lambda: booking.release_expired_holds(now=at))

    outcomes = race(app, attempts)
    db.session.expire_all()

    assert outcomes == {"ok": APPLIERS + RELEASERS}
    order_ids = [o.id for o in orders]
    assert (
        db.session.scalar(
            select(func.count(PaymentEvent.id)).where(PaymentEvent.applied_at.is_(None))
        )
        == 0
    )
    statuses = db.session.scalars(select(Order.status).where(Order.id.in_(order_ids))).all()
    assert statuses == [OrderStatus.PAID] * PAYERS
    seats = dict(
        db.session.execute(
            select(Booking.order_id, func.count(Booking.id))
            .where(Booking.order_id.in_(order_ids), Booking.status.in_(SEAT_HOLDING))
            .group_by(Booking.order_id)
        ).all()
    )
    assert seats == dict.fromkeys(order_ids, 1)
    charges = db.session.execute(
        select(Payment.order_id, Payment.kind, Payment.amount_cents).order_by(Payment.order_id)
    ).all()
    assert charges == [(o, PaymentKind.CHARGE, 3000) for o in sorted(order_ids)]
    assert seat_invariant_violations() == []


def test_two_appliers_of_one_event_record_one_charge(app, practitioner, localstripe_url):
    session = make_workshop(practitioner, seats=3, price_cents=3000)
    order = booking.book_workshop_seat(make_user(), session)
    _store_succeeded(pay_by_card(localstripe_url, order), "evt_once")

    outcomes = race(app, [booking.apply_payment_events for _ in range(APPLIERS * 2)])
    db.session.expire_all()

    assert outcomes == {"ok": APPLIERS * 2}
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    assert [(p.kind, p.amount_cents) for p in order.payments] == [(PaymentKind.CHARGE, 3000)]
    assert order.amount_paid == order.total_cents


def test_a_refund_against_the_session_cancel_never_gives_back_more_than_was_paid(
    app, practitioner, localstripe_url
):
    """The practitioner refunds each order in full while the session is canceled (which
    owes every paid seat a refund) and the worker applies: each card gets its price back
    once, whoever wins."""
    session = make_workshop(practitioner, seats=PAYERS, price_cents=3000)
    orders = [booking.book_workshop_seat(make_user(), session) for _ in range(PAYERS)]
    intents = {}
    for n, order in enumerate(orders):
        intents[order.id] = pay_by_card(localstripe_url, order)
        _store_succeeded(intents[order.id], f"evt_r{n}")
    booking.apply_payment_events()

    def refund(order_id):
        return lambda: booking.refund_order(
            db.session.get(Order, order_id), 3000, reason="goodwill", actor=None
        )

    def cancel():
        booking.cancel_session(db.session.get(type(session), session.id), practitioner)
        booking.apply_payment_events()

    attempts = [refund(o.id) for o in orders]
    attempts.insert(PAYERS // 2, cancel)
    attempts += [booking.apply_payment_events for _ in range(APPLIERS)]

    outcomes = race(app, attempts)
    db.session.expire_all()

    # A refund that found the money already given back is refused, never doubled.
    assert set(outcomes) <= {"ok", "InvalidInput"}
    booking.apply_payment_events()
    client = stripe_client(localstripe_url)
    for order in orders:
        order = db.session.get(Order, order.id)
        assert (order.amount_paid, order.amount_refunded) == (3000, 3000)
        charge = intents[order.id].latest_charge
        charge_id = charge if isinstance(charge, str) else charge.id
        listed = client.v1.refunds.list({"charge": charge_id}).data
        assert sum(r.amount for r in listed) == 3000
