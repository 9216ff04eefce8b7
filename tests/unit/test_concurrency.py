"""Races: many threads, each with its own app context and database connection,
hit the same seats at the same instant. The database decides; nobody is told
"database is locked"; the seat counter matches the bookings afterwards."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import SEAT_HOLDING, Booking, Order, ServiceSession, ServiceType, User
from tests.fixtures.concurrency import THREADS, many_connections, race
from tests.fixtures.factories import (
    future,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)

app_config = many_connections


def test_fifty_buyers_race_for_a_25_seat_workshop(app, practitioner):
    session_id = make_workshop(practitioner, seats=25).id
    buyers = [make_user().id for _ in range(THREADS)]

    def attempt_for(user_id):
        def attempt():
            user = db.session.get(User, user_id)
            booking.book_workshop_seat(user, db.session.get(ServiceSession, session_id))

        return attempt

    outcomes = race(app, [attempt_for(uid) for uid in buyers])

    assert outcomes == Counter({"ok": 25, "SessionFull": 25})
    held = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.service_session_id == session_id, Booking.status.in_(SEAT_HOLDING)
        )
    )
    assert held == 25
    assert db.session.get(ServiceSession, session_id).current_participants == 25
    assert db.session.scalar(select(func.count(Order.id))) == 25
    assert seat_invariant_violations() == []


def test_overlapping_one_on_one_bookings_of_one_practitioner_one_wins(app, practitioner):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, duration_minutes=60)
    service_id, service_cls = service.id, type(service)
    start = future(days=6, hour=14)
    # Ten clients, ten different start times 5 minutes apart: every pair overlaps.
    clients = [make_user().id for _ in range(10)]

    def attempt_for(index, user_id):
        def attempt():
            user = db.session.get(User, user_id)
            target = db.session.get(service_cls, service_id)
            booking.book_individual_session(user, target, start + timedelta(minutes=5 * index))

        return attempt

    outcomes = race(app, [attempt_for(i, uid) for i, uid in enumerate(clients)])

    assert outcomes == Counter({"ok": 1, "SlotUnavailable": 9})
    assert db.session.scalar(select(func.count(ServiceSession.id))) == 1
    assert seat_invariant_violations() == []


def test_two_clients_scheduling_credits_into_the_last_slot_one_wins(app, practitioner):
    yoga = make_service(practitioner, name="Yoga")
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 1)])
    credits = []
    for _ in range(2):
        order = booking.buy_credits(make_user(), bundle)
        credits.append(order.bookings[0].id)
    start = future(days=5, hour=9)

    def attempt_for(booking_id):
        def attempt():
            booking.schedule_credit(db.session.get(Booking, booking_id), start)

        return attempt

    outcomes = race(app, [attempt_for(b) for b in credits])

    assert outcomes == Counter({"ok": 1, "SlotUnavailable": 1})
    assert seat_invariant_violations() == []


def test_course_enrollments_race_without_overfilling_any_session(app, practitioner):
    course = make_service(practitioner, ServiceType.COURSE, max_participants=5)
    for week in range(4):
        booking.create_session(
            course, start_time=future(days=2) + timedelta(weeks=week), sequence_number=week + 1
        )
    students = [make_user().id for _ in range(12)]
    course_id, course_cls = course.id, type(course)

    def attempt_for(user_id):
        def attempt():
            booking.enroll_in_course(
                db.session.get(User, user_id), db.session.get(course_cls, course_id)
            )

        return attempt

    outcomes = race(app, [attempt_for(uid) for uid in students])

    assert outcomes == Counter({"ok": 5, "SessionFull": 7})
    per_order = db.session.execute(
        select(Booking.order_id, func.count(Booking.id)).group_by(Booking.order_id)
    ).all()
    assert len(per_order) == 5 and {n for _, n in per_order} == {4}
    assert seat_invariant_violations() == []
