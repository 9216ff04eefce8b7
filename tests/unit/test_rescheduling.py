"""Moving a private session: inside the cut-off for clients, to a bookable time only."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import booking
from portal.extensions import db
from portal.models import BookingStatus, ServiceType
from tests.fixtures.client_portal import make_bundle
from tests.fixtures.factories import future, make_service, make_user, make_workshop


def _individual(practitioner, client_user, start):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, cancellation_cutoff_hours=24)
    order = booking.book_individual_session(client_user, service, start)
    booking.confirm_payment(order)
    return order.bookings[0]


def test_client_moves_a_session_inside_the_window(practitioner, client_user):
    seat = _individual(practitioner, client_user, future(days=5, hour=10))
    new_start = future(days=6, hour=14)
    before = seat.service_session.revision

    session = booking.reschedule_booking(seat, client_user, new_start)

    db.session.refresh(seat)
    assert seat.get_start_time() == new_start
    assert seat.get_end_time() == new_start + timedelta(minutes=60)
    assert session.revision == before + 1
    assert seat.status == BookingStatus.CONFIRMED


def test_client_cannot_move_past_the_cut_off_but_the_practitioner_can(practitioner, client_user):
    start = future(days=5, hour=10)
    seat = _individual(practitioner, client_user, start)
    inside_cutoff = start - timedelta(hours=3)

    with pytest.raises(booking.CancellationWindowClosed):
        booking.reschedule_booking(seat, client_user, future(days=6), now=inside_cutoff)
    db.session.refresh(seat)
    assert seat.get_start_time() == start

    booking.reschedule_booking(seat, practitioner, future(days=6), now=inside_cutoff)
    db.session.refresh(seat)
    assert seat.get_start_time() == future(days=6)


def test_a_taken_time_is_refused_and_nothing_moves(practitioner, client_user):
    seat = _individual(practitioner, client_user, future(days=5, hour=10))
    other = _individual(practitioner, make_user(), future(days=6, hour=10))
    before = seat.service_session.revision

    with pytest.raises(booking.SlotUnavailable):
        booking.reschedule_booking(seat, client_user, other.get_start_time())
    db.session.refresh(seat)
    assert seat.get_start_time() == future(days=5, hour=10)
    assert seat.service_session.revision == before


def test_moving_into_its_own_overlapping_slot_is_allowed(practitioner, client_user):
    start = future(days=5, hour=10)
    seat = _individual(practitioner, client_user, start)
    booking.reschedule_booking(seat, client_user, start + timedelta(minutes=30))
    db.session.refresh(seat)
    assert seat.get_start_time() == start + timedelta(minutes=30)


def test_a_workshop_seat_cannot_be_rescheduled(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    with pytest.raises(booking.NotBookable, match="cannot be moved"):
        booking.reschedule_booking(seat, client_user, future(days=9))


def test_a_scheduled_credit_can_be_rescheduled(practitioner, client_user):
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=2))
    booking.confirm_payment(order)
    credit = order.bookings[0]
    booking.schedule_credit(credit, future(days=4, hour=9))

    booking.reschedule_booking(credit, client_user, future(days=8, hour=9))

    db.session.refresh(credit)
    assert credit.get_start_time() == future(days=8, hour=9)
