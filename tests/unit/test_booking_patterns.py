"""Each of the seed's five patterns creates exactly the rows the seed describes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceSession,
    ServiceType,
    SessionStatus,
    SessionType,
    Visibility,
)
from tests.fixtures.factories import (
    future,
    make_course,
    make_service,
    make_workshop,
    seat_invariant_violations,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_individual_session_creates_private_session_then_booking(practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, price_cents=9000)
    start = future(days=5, hour=15)

    order = booking.book_individual_session(client_user, service, start)

    assert len(order.bookings) == 1
    seat = order.bookings[0]
    session = seat.service_session
    assert session.session_type == SessionType.INDIVIDUAL
    assert session.visibility == Visibility.PRIVATE
    assert session.status == SessionStatus.SCHEDULED
    assert session.max_participants == 1 and session.current_participants == 1
    assert seat.get_start_time() == start
    assert seat.get_end_time() == start + timedelta(minutes=60)
    assert seat.status == BookingStatus.PENDING_PAYMENT
    assert seat.price_charged_cents == 9000
    assert order.total_cents == 9000 and order.status == OrderStatus.PENDING
    assert order.hold_expires_at is not None
    assert count(ServiceSession) == 1 and count(Booking) == 1 and count(Order) == 1


def test_free_individual_session_is_confirmed_at_once(practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, price_cents=0)
    order = booking.book_individual_session(client_user, service, future(days=4))
    assert order.status == OrderStatus.PAID
    assert order.bookings[0].status == BookingStatus.CONFIRMED


def test_workshop_bookings_share_the_pre_created_session(practitioner, client_user):
    from tests.fixtures.factories import make_user

    session = make_workshop(practitioner, seats=25)
    other = make_user()
    first = booking.book_workshop_seat(client_user, session)
    second = booking.book_workshop_seat(other, session)

    assert first.id != second.id
    assert {b.service_session_id for b in first.bookings + second.bookings} == {session.id}
    db.session.refresh(session)
    assert session.current_participants == 2
    assert count(ServiceSession) == 1


def test_course_of_eight_sessions_creates_one_order_and_eight_free_bookings(
    practitioner, client_user
):
    course = make_course(practitioner, sessions=8)

    order = booking.enroll_in_course(client_user, course)

    assert count(Order) == 1
    assert order.total_cents == 20000
    assert len(order.bookings) == 8
    assert all(b.price_charged_cents == 0 for b in order.bookings)
    assert all(b.service_id == course.id for b in order.bookings)
    sessions = [b.service_session for b in order.bookings]
    assert sorted(s.sequence_number for s in sessions) == list(range(1, 9))
    assert len({s.id for s in sessions}) == 8
    assert all(s.current_participants == 1 for s in sessions)


def test_package_of_one_three_two_creates_six_unscheduled_drafts(practitioner, client_user):
    consult = make_service(practitioner, name="Consultation")
    massage = make_service(practitioner, name="Massage")
    yoga = make_service(practitioner, name="Yoga")
    package = make_service(
        practitioner,
        ServiceType.PACKAGE,
        price_cents=45000,
        components=[(consult, 1), (massage, 3), (yoga, 2)],
    )

    order = booking.buy_credits(client_user, package)

    assert order.total_cents == 45000
    assert len(order.bookings) == 6
    assert all(b.status == BookingStatus.DRAFT for b in order.bookings)
    assert all(b.get_start_time() is None and b.get_end_time() is None for b in order.bookings)
    assert all(b.service_session.status == SessionStatus.DRAFT for b in order.bookings)
    assert all(
        b.service_session.session_type == SessionType.PACKAGE_SESSION for b in order.bookings
    )
    names = sorted(b.service.name for b in order.bookings)
    assert names == ["Consultation", "Massage", "Massage", "Massage", "Yoga", "Yoga"]


def test_bundle_of_ten_creates_ten_drafts_of_the_bundled_service(practitioner, client_user):
    yoga = make_service(practitioner, name="Yoga class")
    bundle = make_service(
        practitioner,
        ServiceType.BUNDLE,
        price_cents=50000,
        components=[(yoga, 10)],
        validity_days=90,
    )

    order = booking.buy_credits(client_user, bundle)

    assert len(order.bookings) == 10
    assert {b.service_id for b in order.bookings} == {yoga.id}
    assert all(b.status == BookingStatus.DRAFT for b in order.bookings)
    assert all(b.service_session.start_time is None for b in order.bookings)
    assert count(ServiceSession) == 10


def test_scheduling_a_credit_schedules_its_draft_session(practitioner, client_user):
    yoga = make_service(practitioner, name="Yoga class")
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 2)])
    order = booking.buy_credits(client_user, bundle)
    booking.confirm_payment(order)
    credit = order.bookings[0]
    start = future(days=6, hour=11)

    booking.schedule_credit(credit, start)

    db.session.refresh(credit)
    assert credit.status == BookingStatus.CONFIRMED
    assert credit.get_start_time() == start
    assert credit.service_session.status == SessionStatus.SCHEDULED
    assert order.bookings[1].status == BookingStatus.DRAFT


def test_expired_credit_cannot_be_scheduled(practitioner, client_user):
    yoga = make_service(practitioner)
    bundle = make_service(
        practitioner, ServiceType.BUNDLE, components=[(yoga, 1)], validity_days=30
    )
    order = booking.buy_credits(client_user, bundle)
    booking.confirm_payment(order)
    later = order.created_at + timedelta(days=31)
    with pytest.raises(booking.CreditExpired):
        booking.schedule_credit(order.bookings[0], later + timedelta(days=2), now=later)
    assert order.bookings[0].status == BookingStatus.DRAFT


def test_confirm_payment_confirms_every_booking_of_the_order(practitioner, client_user):
    course = make_course(practitioner, sessions=3)
    order = booking.enroll_in_course(client_user, course)
    assert {b.status for b in order.bookings} == {BookingStatus.PENDING_PAYMENT}

    booking.confirm_payment(order, reference="bank transfer 42")

    db.session.refresh(order)
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    assert {b.status for b in order.bookings} == {BookingStatus.CONFIRMED}
    assert all(b.confirmed_at is not None for b in order.bookings)


def test_canceling_a_session_cancels_its_bookings_and_counts_them(practitioner, client_user):
    from tests.fixtures.factories import make_user

    session = make_workshop(practitioner, seats=5)
    for user in (client_user, make_user(), make_user()):
        booking.book_workshop_seat(user, session)

    canceled = booking.cancel_session(session, practitioner, note="teacher ill")

    assert canceled == 3
    db.session.refresh(session)
    assert session.status == SessionStatus.CANCELED
    assert session.current_participants == 0
    assert {b.status for b in session.bookings} == {BookingStatus.CANCELED}
    assert seat_invariant_violations() == []
