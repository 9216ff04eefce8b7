"""Receipts (#20): every payment, fee and refund is issued a receipt numbered in its
practitioner's own gap-free sequence, sent to the client through the outbox in the same
transaction, and printable from a page its client, its practitioner and staff may open."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    Notification,
    NotificationKind,
    Order,
    PaymentKind,
    Receipt,
    ReceiptCounter,
    Role,
)
from portal.notifications import messages, outbox
from tests.fixtures.concurrency import race
from tests.fixtures.factories import future, make_user, make_workshop

RACERS = 12


def _receipts(practitioner) -> list[tuple[int, PaymentKind, int]]:
    return [
        (r.number, r.payment.kind, r.payment.amount_cents)
        for r in db.session.scalars(
            select(Receipt).where(Receipt.practitioner_id == practitioner.id).order_by(Receipt.id)
        )
    ]


_days = itertools.count(7)


def _workshop(practitioner, **extra):
    """A workshop on a day of its own: a practitioner's sessions may not overlap."""
    return make_workshop(practitioner, start=future(days=next(_days)), **extra)


def _paid_order(practitioner, client_user, price_cents: int = 3500) -> Order:
    order = booking.book_workshop_seat(
        client_user, _workshop(practitioner, price_cents=price_cents)
    )
    return booking.confirm_payment(order, reference="cash", actor=practitioner)


def test_each_payment_and_refund_is_numbered_in_its_practitioners_sequence(
    app, practitioner, client_user
):
    other = make_user(Role.PRACTITIONER)
    order = _paid_order(practitioner, client_user)
    booking.refund_order(order, 1000, reason="left early", actor=practitioner, manual=True)
    _paid_order(other, client_user, 2000)
    _paid_order(practitioner, client_user, 4000)

    assert _receipts(practitioner) == [
        (1, PaymentKind.MANUAL_PAYMENT, 3500),
        (2, PaymentKind.REFUND, 1000),
        (3, PaymentKind.MANUAL_PAYMENT, 4000),
    ]
    assert _receipts(other) == [(1, PaymentKind.MANUAL_PAYMENT, 2000)]
    counter = db.session.get(ReceiptCounter, practitioner.id)
    assert counter is not None and counter.last_number == 3
    # Each receipt goes out once, in its movement's message (the payment's confirmation,
    # the refund's notice).
    sent = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    carried = [(n.kind, n.payload["receipt_id"]) for n in sent if "receipt_id" in n.payload]
    assert [kind for kind, _ in carried] == [
        NotificationKind.PAYMENT_RECEIVED,
        NotificationKind.PAYMENT_REFUNDED,
        NotificationKind.PAYMENT_RECEIVED,
        NotificationKind.PAYMENT_RECEIVED,
    ]
    assert len({receipt for _, receipt in carried}) == 4
    assert {n.user_id for n in sent if "receipt_id" in n.payload} == {client_user.id}


def test_a_rolled_back_payment_spends_no_number(app, practitioner, client_user, monkeypatch):
    order = booking.book_workshop_seat(client_user, _workshop(practitioner, price_cents=3500))

    def outbox_down(*args, **kwargs):
        raise RuntimeError("outbox write failed")

    with monkeypatch.context() as patched:
        patched.setattr(outbox, "notify", outbox_down)
        with pytest.raises(RuntimeError):
            booking.confirm_payment(order, reference="cash", actor=practitioner)
    db.session.expire_all()
    assert _receipts(practitioner) == []

    booking.confirm_payment(db.session.get(Order, order.id), actor=practitioner)
    assert [number for number, _kind, _amount in _receipts(practitioner)] == [1]


def test_the_receipt_email_lists_the_items_and_the_sums_as_of_its_movement(
    app, practitioner, client_user
):
    order = _paid_order(practitioner, client_user)
    booking.refund_order(order, 1000, reason="left early", actor=practitioner, manual=True)
    rows = [
        row
        for row in db.session.scalars(select(Notification).order_by(Notification.id))
        if "receipt_id" in row.payload
    ]

    payment, refund = (messages.render(row, messages.load_subjects(row)) for row in rows)

    seat = order.bookings[0]
    assert payment.subject == f"Payment received: {order.service.name}"
    assert f"Receipt {practitioner.id}-00001 from {practitioner.name}" in payment.text
    for part in (payment.text, payment.html):
        assert seat.service_session.display_title in part
        assert "$35.00" in part
        assert "Paid to date: $35.00" in part
        assert "Refunded to date" not in part
    # The confirmation: the session's invite, and the order's page to act on.
    assert f"/orders/{order.id}" in payment.text
    assert len(payment.invites) == 1
    assert "Refunded: $10.00" in refund.text
    assert "Refunded to date: $10.00" in refund.text
    assert "Note: left early" in refund.text


@pytest.mark.parametrize(
    ("viewer", "status"),
    [("client", 200), ("practitioner", 200), ("staff", 200), ("other", 404), ("rival", 404)],
)
def test_the_receipt_page_is_for_its_client_its_practitioner_and_staff(
    app, signed_in, practitioner, client_user, staff_user, viewer, status
):
    order = _paid_order(practitioner, client_user)
    receipt = order.payments[0].receipt
    people = {
        "client": client_user,
        "practitioner": practitioner,
        "staff": staff_user,
        "other": make_user(),
        "rival": make_user(Role.PRACTITIONER),
    }

    response = signed_in(people[viewer]).get(f"/orders/receipts/{receipt.id}")

    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert f"Receipt {practitioner.id}-00001" in page
        assert practitioner.name in page and client_user.email in page
        assert "$35.00" in page


def test_the_order_page_links_each_receipt(app, signed_in, practitioner, client_user):
    order = _paid_order(practitioner, client_user)
    receipt = order.payments[0].receipt

    page = signed_in(client_user).get(f"/orders/{order.id}").get_data(as_text=True)

    assert f'href="/orders/receipts/{receipt.id}"' in page


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RACERS + 5, "max_overflow": 0}}


def test_payments_made_at_once_never_share_a_number(app, practitioner):
    """Many orders of one practitioner paid at the same moment (and one refund among
    them): the numbers run 1..N, each once (on PostgreSQL the counter row's lock queues
    them; the UNIQUE would refuse a second holder of a number)."""
    session = _workshop(practitioner, seats=RACERS + 1, price_cents=2500)
    orders = [booking.book_workshop_seat(make_user(), session) for _ in range(RACERS)]
    paid = _paid_order(practitioner, make_user())
    ids = [order.id for order in orders]

    def pay(order_id):
        return lambda: booking.confirm_payment(db.session.get(Order, order_id))

    def refund():
        booking.refund_order(
            db.session.get(Order, paid.id), 500, reason="goodwill", actor=None, manual=True
        )

    outcomes = race(app, [*(pay(i) for i in ids), refund])
    db.session.expire_all()

    assert outcomes == {"ok": RACERS + 1}
    numbers = sorted(number for number, _kind, _amount in _receipts(practitioner))
    assert numbers == list(range(1, RACERS + 3))
    assert db.session.get(ReceiptCounter, practitioner.id).last_number == RACERS + 2
