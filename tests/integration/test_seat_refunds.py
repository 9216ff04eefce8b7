"""Refunds per seat of a multi-seat order (#20): the chosen seats are canceled and their
share refunded, in one unit of work, with a receipt; the order page offers it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    BookingStatus,
    Notification,
    NotificationKind,
    Order,
    PaymentKind,
    Receipt,
    Role,
)
from portal.notifications import messages
from tests.fixtures.factories import make_course, make_user


@pytest.fixture
def course_order(app, practitioner, client_user) -> Order:
    """A four-class course for 200.00, paid: its seats are priced 0, the course whole."""
    course = make_course(practitioner, sessions=4)
    order = booking.enroll_in_course(client_user, course)
    return booking.confirm_payment(order, reference="transfer", actor=practitioner)


def test_chosen_seats_are_canceled_and_their_share_refunded(course_order, practitioner):
    first, second = course_order.bookings[:2]

    refund = booking.refund_seats(
        course_order, [first.id, second.id], reason="moving away", actor=practitioner, manual=True
    )

    assert refund is not None and (refund.kind, refund.amount_cents) == (PaymentKind.REFUND, 10000)
    db.session.expire_all()
    order = db.session.get(Order, course_order.id)
    assert [b.status for b in order.bookings] == [
        BookingStatus.CANCELED,
        BookingStatus.CANCELED,
        BookingStatus.CONFIRMED,
        BookingStatus.CONFIRMED,
    ]
    assert order.bookings[0].cancel_note == "moving away"
    assert order.amount_refunded == 10000
    receipt = db.session.scalar(select(Receipt).where(Receipt.payment_id == refund.id))
    assert receipt is not None and receipt.number == 2
    # A course is priced whole: its receipt lists the classes without a price each.
    row = db.session.scalars(
        select(Notification)
        .where(Notification.kind == NotificationKind.PAYMENT_REFUNDED)
        .order_by(Notification.id.desc())
    ).first()
    text = messages.render(row, messages.load_subjects(row)).text
    assert "Refunded: $100.00" in text and "Total: $200.00" in text and "$0.00" not in text


def test_a_seat_not_in_the_order_or_already_canceled_changes_nothing(
    course_order, practitioner, client_user
):
    other_course = make_course(make_user(Role.PRACTITIONER), sessions=2)
    other = booking.enroll_in_course(make_user(), other_course)
    first = course_order.bookings[0]
    booking.refund_seats(course_order, [first.id], reason="ill", actor=practitioner, manual=True)

    for wrong in ([first.id], [other.bookings[0].id], []):
        with pytest.raises(booking.InvalidInput):
            booking.refund_seats(
                course_order, wrong, reason="again", actor=practitioner, manual=True
            )
    db.session.expire_all()
    order = db.session.get(Order, course_order.id)
    assert order.amount_refunded == 5000
    assert sum(b.status == BookingStatus.CANCELED for b in order.bookings) == 1


def test_the_order_page_refunds_the_seats_ticked(course_order, signed_in, practitioner):
    web = signed_in(practitioner)
    page = web.get(f"/orders/{course_order.id}").text
    assert "Cancel and refund seats" in page
    third = course_order.bookings[2]

    empty = web.post(f"/orders/{course_order.id}/refund-seats", data={"seats-reason": "x"})
    assert empty.status_code == 422 and "Choose at least one seat." in empty.text

    done = web.post(
        f"/orders/{course_order.id}/refund-seats",
        data={"seats-seats": [str(third.id)], "seats-reason": "clash", "seats-manual": "y"},
        follow_redirects=True,
    )

    assert done.status_code == 200
    assert "1 seat canceled; $50.00 refunded." in done.text
    db.session.expire_all()
    assert db.session.get(Order, course_order.id).amount_refunded == 5000
