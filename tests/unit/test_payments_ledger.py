"""Every money movement is a row; an order's paid, refunded and due amounts are sums of
them (#20). The payment policy decides when a client pays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentPolicy,
    ServiceType,
)
from tests.fixtures.factories import future, make_service, make_workshop, open_all_week


def _rows(order_id: int) -> list[tuple[PaymentKind, int]]:
    return [
        (p.kind, p.amount_cents)
        for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def test_marking_paid_records_a_manual_payment_row_by_its_actor(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    assert (order.amount_paid, order.amount_due) == (0, 3500)

    booking.confirm_payment(order, reference="transfer 42", actor=practitioner)

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    [row] = order.payments
    assert (row.kind, row.amount_cents, row.currency) == (PaymentKind.MANUAL_PAYMENT, 3500, "USD")
    assert row.actor_id == practitioner.id and row.reason == "transfer 42"
    assert (order.amount_paid, order.amount_refunded, order.amount_due) == (3500, 0, 0)


def test_a_second_mark_paid_is_refused_and_records_nothing(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    booking.confirm_payment(order, actor=practitioner)

    with pytest.raises(booking.InvalidTransition):
        booking.confirm_payment(order, actor=practitioner)

    assert _rows(order.id) == [(PaymentKind.MANUAL_PAYMENT, 3500)]


def test_a_free_order_moves_no_money(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=0)
    order = booking.book_workshop_seat(client_user, session)
    assert order.status == OrderStatus.PAID
    assert _rows(order.id) == []
    assert (order.amount_paid, order.amount_due) == (0, 0)


def test_the_free_policy_charges_nothing_whatever_the_price(practitioner, client_user):
    session = make_workshop(
        practitioner, seats=3, price_cents=4000, payment_policy=PaymentPolicy.FREE
    )
    order = booking.book_workshop_seat(client_user, session)
    assert (order.status, order.total_cents, order.amount_due) == (OrderStatus.PAID, 0, 0)
    assert order.bookings[0].status == BookingStatus.CONFIRMED
    assert order.bookings[0].price_charged_cents == 0


def test_pay_later_is_confirmed_at_once_and_never_lapses(practitioner, client_user):
    open_all_week(practitioner)
    service = make_service(practitioner, price_cents=6000, payment_policy=PaymentPolicy.PAY_LATER)
    start = future(days=2)
    order = booking.book_individual_session(client_user, service, start)
    assert order.status == OrderStatus.PENDING and order.hold_expires_at is None
    assert order.payment_policy == PaymentPolicy.PAY_LATER
    [seat] = order.bookings
    assert seat.status == BookingStatus.CONFIRMED
    assert order.amount_due == 6000

    # Long after any hold would have lapsed, and right up to the session.
    assert booking.release_expired_holds(now=start - timedelta(minutes=1)) == 0
    db.session.expire_all()
    assert db.session.get(Booking, seat.id).status == BookingStatus.CONFIRMED

    booking.confirm_payment(db.session.get(Order, order.id), reference="cash", actor=practitioner)
    order = db.session.get(Order, order.id)
    assert (order.status, order.amount_due) == (OrderStatus.PAID, 0)
    assert _rows(order.id) == [(PaymentKind.MANUAL_PAYMENT, 6000)]


@pytest.mark.parametrize(
    ("fields", "deposit"),
    [({"deposit_cents": 1500}, 1500), ({"deposit_percent": 25}, 1000)],
)
def test_a_deposit_order_asks_its_deposit_at_booking(practitioner, client_user, fields, deposit):
    session = make_workshop(
        practitioner, seats=3, price_cents=4000, payment_policy=PaymentPolicy.DEPOSIT, **fields
    )
    order = booking.book_workshop_seat(client_user, session)
    assert order.status == OrderStatus.PENDING and order.hold_expires_at is not None
    assert (order.deposit_cents, order.amount_due_at_booking, order.amount_due) == (
        deposit,
        deposit,
        4000,
    )


def test_a_balance_marked_paid_after_the_deposit_is_its_own_row(practitioner, client_user):
    session = make_workshop(
        practitioner,
        seats=3,
        price_cents=4000,
        payment_policy=PaymentPolicy.DEPOSIT,
        deposit_percent=25,
    )
    order = booking.book_workshop_seat(client_user, session)
    # The deposit arrives through a provider (a card charge), then the balance in cash.
    booking.record_provider_payment(
        order.id, amount_cents=1000, provider="stripe", charge_id="ch_1", payment_intent_id="pi_1"
    )
    order = db.session.get(Order, order.id)
    assert (order.status, order.amount_paid, order.amount_due) == (OrderStatus.PAID, 1000, 3000)
    assert order.bookings[0].status == BookingStatus.CONFIRMED

    booking.confirm_payment(order, reference="cash at the door", actor=practitioner)

    order = db.session.get(Order, order.id)
    assert _rows(order.id) == [(PaymentKind.CHARGE, 1000), (PaymentKind.MANUAL_PAYMENT, 3000)]
    assert (order.amount_paid, order.amount_due) == (4000, 0)


def test_the_credits_of_an_unpaid_package_cannot_be_scheduled(practitioner, client_user):
    open_all_week(practitioner)
    session_type = make_service(practitioner, price_cents=5000)
    bundle = make_service(
        practitioner, ServiceType.BUNDLE, price_cents=20000, components=[(session_type, 3)]
    )
    order = booking.buy_credits(client_user, bundle)
    credit = order.bookings[0]

    with pytest.raises(booking.NotBookable, match="once its order"):
        booking.schedule_credit(credit, future(days=3))
    db.session.expire_all()
    assert db.session.get(Booking, credit.id).status == BookingStatus.DRAFT

    booking.confirm_payment(db.session.get(Order, order.id), actor=practitioner)
    scheduled = booking.schedule_credit(db.session.get(Booking, credit.id), future(days=3))
    assert scheduled.status == BookingStatus.CONFIRMED


def test_a_pay_later_package_credit_can_be_scheduled_unpaid(practitioner, client_user):
    open_all_week(practitioner)
    session_type = make_service(practitioner, price_cents=5000)
    bundle = make_service(
        practitioner,
        ServiceType.BUNDLE,
        price_cents=20000,
        components=[(session_type, 2)],
        payment_policy=PaymentPolicy.PAY_LATER,
    )
    order = booking.buy_credits(client_user, bundle)
    scheduled = booking.schedule_credit(order.bookings[0], future(days=3))
    assert scheduled.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"payment_policy": "deposit"}, "deposit"),
        ({"payment_policy": "deposit", "deposit_cents": 500, "deposit_percent": 10}, "deposit"),
        ({"payment_policy": "deposit", "deposit_cents": 5000}, "deposit"),
        ({"payment_policy": "deposit", "deposit_percent": 100}, "deposit_percent"),
    ],
)
def test_a_deposit_is_one_amount_below_the_price(practitioner, values, field):
    with pytest.raises(booking.InvalidInput) as refused:
        booking.save_service(
            practitioner, name="Massage", service_type="individual", price_cents=5000, **values
        )
    assert refused.value.field == field


def test_other_policies_keep_no_deposit(practitioner):
    service = booking.save_service(
        practitioner,
        name="Massage",
        service_type="individual",
        price_cents=5000,
        payment_policy="pay_later",
        deposit_cents=500,
    )
    assert (service.payment_policy, service.deposit_cents) == (PaymentPolicy.PAY_LATER, None)


def test_the_database_refuses_a_deposit_policy_without_its_amount(practitioner):
    service = make_service(practitioner)
    service.payment_policy = PaymentPolicy.DEPOSIT
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_database_refuses_a_movement_of_nothing(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    db.session.add(
        Payment(
            order_id=order.id,
            kind=PaymentKind.CHARGE,
            amount_cents=0,
            currency="USD",
            provider="manual",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_provider_object_is_recorded_once(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    for _ in range(2):
        booking.record_provider_payment(
            order.id,
            amount_cents=3500,
            provider="stripe",
            charge_id="ch_9",
            payment_intent_id="pi_9",
        )
    assert _rows(order.id) == [(PaymentKind.CHARGE, 3500)]


def test_a_pay_later_client_reads_that_the_booking_is_confirmed(practitioner, client_user):
    session = make_workshop(
        practitioner, seats=3, price_cents=4000, payment_policy=PaymentPolicy.PAY_LATER
    )
    order = booking.book_workshop_seat(client_user, session)
    start = booking.get_provider(order.payment_provider).start(order)
    assert start.instructions.startswith("Your booking is confirmed.")
    assert "at the session" in start.instructions


def test_the_express_seat_follows_the_payment_policy(practitioner, client_user):
    """A workshop seat bought by ids takes the express path (booking.express): its order
    has the same terms as the general path's."""
    later = make_workshop(
        practitioner, seats=3, price_cents=4000, payment_policy=PaymentPolicy.PAY_LATER
    )
    deposit = make_workshop(
        practitioner,
        seats=3,
        start=future(days=8),
        price_cents=4000,
        payment_policy=PaymentPolicy.DEPOSIT,
        deposit_percent=25,
    )

    sold = booking.purchase_by_ids(client_user, later.service_id, service_session_id=later.id)
    sold_with_deposit = booking.purchase_by_ids(
        client_user, deposit.service_id, service_session_id=deposit.id
    )
    # The express path answers with what it wrote; the orders are read as stored.
    pay_later = db.session.get(Order, sold.id)
    with_deposit = db.session.get(Order, sold_with_deposit.id)

    assert (pay_later.status, pay_later.hold_expires_at, pay_later.amount_due) == (
        OrderStatus.PENDING,
        None,
        4000,
    )
    assert pay_later.bookings[0].status == BookingStatus.CONFIRMED
    assert with_deposit.deposit_cents == 1000 and with_deposit.hold_expires_at is not None
    assert with_deposit.bookings[0].status == BookingStatus.PENDING_PAYMENT
