"""The seed's two state machines (and the order's): every move not in them is refused
and changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from portal import booking
from portal.booking.transitions import (
    BOOKING_TRANSITIONS,
    ORDER_TRANSITIONS,
    SESSION_TRANSITIONS,
    move_bookings,
    move_order,
    move_session,
)
from portal.core.transactions import unit_of_work
from portal.extensions import db
from portal.models import BookingStatus, OrderStatus, ServiceType, SessionStatus
from tests.fixtures.factories import future, make_service, make_workshop

BOOKING_ILLEGAL = [
    (source, target)
    for source, target in itertools.product(BookingStatus, BookingStatus)
    if target not in BOOKING_TRANSITIONS[source]
]
SESSION_ILLEGAL = [
    (source, target)
    for source, target in itertools.product(SessionStatus, SessionStatus)
    if target not in SESSION_TRANSITIONS[source]
]
ORDER_ILLEGAL = [
    (source, target)
    for source, target in itertools.product(OrderStatus, OrderStatus)
    if target not in ORDER_TRANSITIONS[source]
]


def test_the_machines_match_the_seed():
    assert BOOKING_TRANSITIONS[BookingStatus.DRAFT] >= {BookingStatus.PENDING_PAYMENT}
    assert BOOKING_TRANSITIONS[BookingStatus.PENDING_PAYMENT] == {
        BookingStatus.CONFIRMED,
        BookingStatus.CANCELED,
    }
    assert BOOKING_TRANSITIONS[BookingStatus.CANCELED] == frozenset()
    assert SESSION_TRANSITIONS[SessionStatus.DRAFT] >= {SessionStatus.SCHEDULED}
    assert SESSION_TRANSITIONS[SessionStatus.SCHEDULED] >= {SessionStatus.IN_PROGRESS}
    assert SESSION_TRANSITIONS[SessionStatus.IN_PROGRESS] == {SessionStatus.COMPLETED}
    assert SESSION_TRANSITIONS[SessionStatus.COMPLETED] == frozenset()
    assert SESSION_TRANSITIONS[SessionStatus.CANCELED] == frozenset()


def _force_status(obj, status) -> None:
    """Put a row straight into a state for the test (bypassing the rules on purpose)."""
    type(obj).query.filter_by(id=obj.id).update({"status": status})
    db.session.commit()
    db.session.refresh(obj)


@pytest.fixture
def workshop_booking(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    return order.bookings[0]


@pytest.mark.parametrize(("source", "target"), BOOKING_ILLEGAL, ids=lambda s: s.value)
def test_illegal_booking_transition_is_refused(workshop_booking, source, target):
    _force_status(workshop_booking, source)

    with pytest.raises(booking.InvalidTransition):
        move_bookings([workshop_booking], target)

    db.session.rollback()
    db.session.refresh(workshop_booking)
    assert workshop_booking.status == source


@pytest.mark.parametrize(("source", "target"), SESSION_ILLEGAL, ids=lambda s: s.value)
def test_illegal_session_transition_is_refused(practitioner, source, target):
    session = make_workshop(practitioner)
    _force_status(session, source)

    with pytest.raises(booking.InvalidTransition):
        move_session(session, target)

    db.session.rollback()
    db.session.refresh(session)
    assert session.status == source


@pytest.mark.parametrize(("source", "target"), ORDER_ILLEGAL, ids=lambda s: s.value)
def test_illegal_order_transition_is_refused(workshop_booking, source, target):
    order = workshop_booking.order
    _force_status(order, source)

    with pytest.raises(booking.InvalidTransition):
        move_order(order, target)

    db.session.rollback()
    db.session.refresh(order)
    assert order.status == source


def test_a_refused_move_of_several_bookings_moves_none(practitioner, client_user):
    course = make_service(practitioner, ServiceType.COURSE, max_participants=3)
    for week in range(3):
        booking.create_session(course, start_time=future(days=3) + timedelta(weeks=week))
    order = booking.enroll_in_course(client_user, course)
    _force_status(order.bookings[1], BookingStatus.CANCELED)

    @unit_of_work
    def confirm_all():
        move_bookings(order.bookings, BookingStatus.CONFIRMED)

    with pytest.raises(booking.InvalidTransition):
        confirm_all()

    db.session.refresh(order)
    assert [b.status for b in order.bookings] == [
        BookingStatus.PENDING_PAYMENT,
        BookingStatus.CANCELED,
        BookingStatus.PENDING_PAYMENT,
    ]


def test_paying_twice_is_refused(workshop_booking):
    order = workshop_booking.order
    booking.confirm_payment(order)
    with pytest.raises(booking.InvalidTransition):
        booking.confirm_payment(order)


def test_canceling_twice_is_refused(workshop_booking, practitioner):
    booking.cancel_booking(workshop_booking, practitioner)
    with pytest.raises(booking.InvalidTransition):
        booking.cancel_booking(workshop_booking, practitioner)


def test_a_completed_session_cannot_be_canceled(practitioner):
    session = make_workshop(practitioner)
    booking.start_session(session)
    booking.complete_session(session)
    with pytest.raises(booking.InvalidTransition):
        booking.cancel_session(session, practitioner)
