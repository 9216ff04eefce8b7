"""The database itself refuses what the domain refuses: even code that skips the
Python checks cannot overfill a session, double-book a person or a practitioner,
or store a negative price."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from portal import booking
from portal.booking import holds
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    Order,
    ServiceSession,
    SessionStatus,
    SessionType,
    User,
)
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import (
    future,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)

app_config = many_connections


def _raw_booking(user, session, order, status=BookingStatus.CONFIRMED, price=0):
    db.session.execute(
        insert(Booking).values(
            user_id=user.id,
            service_id=session.service_id,
            service_session_id=session.id,
            order_id=order.id,
            status=status,
            price_charged_cents=price,
            late_cancel=False,
            created_at=future(0),
        )
    )
    db.session.flush()


def test_capacity_check_refuses_a_seat_past_max(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    order = booking.book_workshop_seat(client_user, session)
    intruder = make_user()
    with pytest.raises(IntegrityError, match="capacity"):
        _raw_booking(intruder, session, order)
    db.session.rollback()
    assert seat_invariant_violations() == []


def test_seat_counter_follows_every_status_change(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    order = booking.book_workshop_seat(client_user, session)
    db.session.refresh(session)
    assert session.current_participants == 1
    booking.cancel_booking(order.bookings[0], practitioner)
    db.session.refresh(session)
    assert session.current_participants == 0
    assert seat_invariant_violations() == []


def test_one_live_booking_per_person_per_session(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    with pytest.raises(IntegrityError, match="uq_bookings_active_seat|UNIQUE"):
        _raw_booking(client_user, session, order)
    db.session.rollback()
    with pytest.raises(booking.AlreadyBooked):
        booking.book_workshop_seat(client_user, session)


def test_a_canceled_seat_can_be_booked_again(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    booking.cancel_booking(order.bookings[0], practitioner)
    again = booking.book_workshop_seat(client_user, session)
    assert again.bookings[0].status == BookingStatus.PENDING_PAYMENT


def test_practitioner_sessions_may_not_overlap(practitioner):
    service = make_service(practitioner)
    start = future(days=3)
    booking.create_session(service, start_time=start)
    with pytest.raises(IntegrityError, match="no_overlap"):
        db.session.execute(
            insert(ServiceSession).values(
                service_id=service.id,
                practitioner_id=practitioner.id,
                session_type=SessionType.WORKSHOP,
                visibility="public",
                title="",
                start_time=start + timedelta(minutes=30),
                end_time=start + timedelta(minutes=90),
                timezone="UTC",
                max_participants=5,
                current_participants=0,
                status=SessionStatus.SCHEDULED,
                livekit_room_name="overlap-room",
                revision=0,
                created_at=start,
                updated_at=start,
            )
        )
    db.session.rollback()
    with pytest.raises(booking.SlotUnavailable):
        booking.create_session(service, start_time=start + timedelta(minutes=59))
    # Back to back is fine, and so is another practitioner at the same time.
    booking.create_session(service, start_time=start + timedelta(minutes=60))
    other = make_user(practitioner.role)
    booking.create_session(make_service(other), start_time=start)


def test_moving_a_session_onto_another_is_refused(practitioner):
    service = make_service(practitioner)
    first = booking.create_session(service, start_time=future(days=3, hour=9))
    second = booking.create_session(service, start_time=future(days=3, hour=11))
    with pytest.raises(IntegrityError, match="no_overlap"):
        db.session.execute(
            update(ServiceSession)
            .where(ServiceSession.id == second.id)
            .values(start_time=first.start_time, end_time=first.end_time)
        )
    db.session.rollback()


def test_negative_prices_are_refused(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    with pytest.raises(IntegrityError, match="price_not_negative"):
        _raw_booking(make_user(), session, order, price=-1)
    db.session.rollback()
    with pytest.raises(IntegrityError, match="total_not_negative"):
        db.session.execute(update(Order).values(total_cents=-5))
    db.session.rollback()


def test_without_the_python_check_the_database_still_stops_overbooking(
    app, practitioner, monkeypatch
):
    """Skip the domain's capacity check entirely: the CHECK constraint, fed by the
    seat-count trigger, still lets exactly `max_participants` through."""
    monkeypatch.setattr(holds, "ensure_seat_available", lambda session, user, now=None: None)
    monkeypatch.setattr(
        booking.factory, "ensure_seat_available", lambda session, user, now=None: None
    )
    session_id = make_workshop(practitioner, seats=10).id
    buyers = [make_user().id for _ in range(30)]

    def attempt_for(user_id):
        def attempt():
            booking.book_workshop_seat(
                db.session.get(User, user_id), db.session.get(ServiceSession, session_id)
            )

        return attempt

    outcomes = race(app, [attempt_for(uid) for uid in buyers])

    assert outcomes == Counter({"ok": 10, "SessionFull": 20})
    assert db.session.get(ServiceSession, session_id).current_participants == 10
    assert seat_invariant_violations() == []
