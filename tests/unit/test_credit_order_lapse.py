"""Unpaid pay-online package and bundle orders lapse like seat holds (#20): the worker's
hold release cancels their credits for real and the order expires; a late payment issues
them again. Raced against the payment on SQLite and PostgreSQL: every paid order ends with
all its credits, never fewer, never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    CancelReason,
    Order,
    OrderStatus,
    PaymentPolicy,
    ServiceSession,
    SessionStatus,
)
from tests.fixtures.client_portal import make_bundle
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import future, make_user

app_config = many_connections

CLASSES = 3
PAYERS = 16
RELEASERS = 6


def _credits(order_id: int) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking).where(
                Booking.order_id == order_id, Booking.status == BookingStatus.DRAFT
            )
        )
    )


def test_an_unpaid_bundle_lapses_and_its_credits_go(practitioner, client_user):
    bundle = make_bundle(practitioner, classes=CLASSES)
    order = booking.buy_credits(client_user, bundle)
    deadline = order.hold_expires_at

    assert booking.release_expired_holds(now=deadline - timedelta(seconds=1)) == 0
    assert booking.release_expired_holds(now=deadline + timedelta(seconds=1)) == CLASSES

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.EXPIRED
    assert {b.status for b in order.bookings} == {BookingStatus.CANCELED}
    assert {b.cancel_reason for b in order.bookings} == {CancelReason.HOLD_EXPIRED}
    # Their draft sessions are closed too: nothing is left to schedule.
    sessions = {b.service_session_id for b in order.bookings}
    assert {
        s.status
        for s in db.session.scalars(select(ServiceSession).where(ServiceSession.id.in_(sessions)))
    } == {SessionStatus.CANCELED}
    assert _credits(order.id) == []


def test_a_late_payment_issues_the_credits_again(practitioner, client_user):
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=CLASSES))
    booking.release_expired_holds(now=order.hold_expires_at + timedelta(seconds=1))

    booking.confirm_payment(db.session.get(Order, order.id), reference="late transfer")

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PAID
    assert len(_credits(order.id)) == CLASSES


def test_a_pay_later_bundle_never_lapses(practitioner, client_user):
    bundle = make_bundle(practitioner, classes=CLASSES, payment_policy=PaymentPolicy.PAY_LATER)
    order = booking.buy_credits(client_user, bundle)
    assert booking.release_expired_holds(now=future(30)) == 0
    assert len(_credits(order.id)) == CLASSES


def test_the_expired_order_page_says_the_credits_were_released(
    signed_in, practitioner, client_user
):
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=CLASSES))
    booking.release_expired_holds(now=order.hold_expires_at + timedelta(seconds=1))
    page = signed_in(client_user).get(f"/orders/{order.id}").text
    assert "the credits were released" in page


def _pay(order_id: int, at):
    def pay():
        booking.record_provider_payment(
            order_id,
            amount_cents=db.session.get(Order, order_id).total_cents,
            provider="stripe",
            charge_id=f"ch_{order_id}",
            payment_intent_id=f"pi_{order_id}",
            now=at,
        )

    return pay


def _release(at):
    def release():
        booking.release_expired_holds(now=at)

    return release


def test_a_payment_event_as_the_credits_lapse_leaves_every_credit_once(app, practitioner):
    bundle = make_bundle(practitioner, classes=CLASSES)
    bought_at = future(0) - timedelta(days=1)
    orders = [booking.buy_credits(make_user(), bundle, now=bought_at).id for _ in range(PAYERS)]
    at = db.session.get(Order, orders[0]).hold_expires_at + timedelta(seconds=1)
    attempts = [_pay(order_id, at) for order_id in orders]
    for n in range(RELEASERS):
        attempts.insert(n * (len(attempts) // RELEASERS), _release(at))

    outcomes = race(app, attempts)
    db.session.expire_all()

    assert outcomes == {"ok": PAYERS + RELEASERS}
    for order_id in orders:
        order = db.session.get(Order, order_id)
        assert (order.status, order.amount_paid) == (OrderStatus.PAID, order.total_cents)
        assert len(_credits(order_id)) == CLASSES
    released = db.session.scalar(
        select(db.func.count(Booking.id)).where(
            Booking.order_id.in_(orders), Booking.cancel_reason == CancelReason.HOLD_EXPIRED
        )
    )
    print(f"credits released before their payment and issued again: {released}")
