"""The practitioner's own writes: sessions on the calendar, courses, seats, hours, services."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.booking import services, working_hours
from portal.booking import timetable as ops
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    CancelReason,
    Order,
    OrderStatus,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
)
from tests.fixtures.factories import (
    future,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)
from tests.fixtures.l10n import shown


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_schedule_session_refuses_an_overlap_and_writes_nothing(practitioner):
    workshop = make_service(practitioner, ServiceType.WORKSHOP, max_participants=12)
    start = future(days=3, hour=15)
    first = ops.schedule_session(
        workshop, start_time=start, duration_minutes=90, max_participants=12
    )
    assert first.status == SessionStatus.SCHEDULED and first.end_time == start + timedelta(
        minutes=90
    )

    with pytest.raises(booking.SlotUnavailable) as refused:
        ops.schedule_session(
            workshop, start_time=start + timedelta(hours=1), duration_minutes=60, max_participants=5
        )
    assert refused.value.field == "start_time"
    assert workshop.name in refused.value.message
    assert count(ServiceSession) == 1


def test_one_on_one_sessions_have_exactly_one_seat(practitioner):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    with pytest.raises(booking.InvalidInput) as refused:
        ops.schedule_session(service, start_time=future(), duration_minutes=60, max_participants=3)
    assert refused.value.field == "max_participants"


def test_update_session_reschedules_and_bumps_the_revision(practitioner, client_user):
    session = make_workshop(practitioner, seats=10)
    booking.book_workshop_seat(client_user, session)
    before = session.revision
    new_start = session.start_time + timedelta(days=1, hours=2)

    ops.update_session(
        session, start_time=new_start, duration_minutes=45, max_participants=4, title="Moved"
    )

    db.session.refresh(session)
    assert session.start_time == new_start
    assert session.end_time == new_start + timedelta(minutes=45)
    assert session.max_participants == 4 and session.title == "Moved"
    assert session.revision == before + 1


def test_update_session_without_changes_keeps_the_revision(practitioner):
    session = make_workshop(practitioner)
    minutes = int((session.end_time - session.start_time).total_seconds() // 60)
    ops.update_session(
        session,
        start_time=session.start_time,
        duration_minutes=minutes,
        max_participants=session.max_participants,
        title=session.title,
    )
    db.session.refresh(session)
    assert session.revision == 0


def test_capacity_never_goes_below_the_seats_taken(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    booking.book_workshop_seat(client_user, session)
    booking.book_workshop_seat(make_user(), session)
    before = session.revision
    with pytest.raises(booking.InvalidInput) as refused:
        ops.update_session(
            session,
            start_time=session.start_time,
            duration_minutes=90,
            max_participants=1,
            title="",
        )
    assert refused.value.field == "max_participants"
    assert "2 seats are taken" in refused.value.message
    db.session.refresh(session)
    assert session.max_participants == 5 and session.revision == before


def test_rescheduling_onto_another_session_is_refused(practitioner):
    first = make_workshop(practitioner, start=future(days=2, hour=9))
    second = make_workshop(practitioner, start=future(days=2, hour=14))
    with pytest.raises(booking.SlotUnavailable):
        ops.update_session(
            second, start_time=first.start_time, duration_minutes=30, max_participants=5, title=""
        )
    db.session.refresh(second)
    assert second.start_time == future(days=2, hour=14)


def test_canceled_sessions_cannot_be_edited(practitioner):
    session = make_workshop(practitioner)
    booking.cancel_session(session, practitioner)
    with pytest.raises(booking.InvalidTransition):
        ops.update_session(
            session, start_time=future(days=9), duration_minutes=60, max_participants=5, title=""
        )


def test_recurrence_keeps_the_local_time_across_a_dst_change():
    starts = ops.recurrence(
        date(2030, 10, 20), time(18, 0), "America/New_York", frequency="weekly", interval=1, count=4
    )
    assert [s.date() for s in starts] == [
        date(2030, 10, 20),
        date(2030, 10, 27),
        date(2030, 11, 3),
        date(2030, 11, 10),
    ]
    # 18:00 EDT is 22:00 UTC; after the change on 3 Nov, 18:00 EST is 23:00 UTC.
    assert [s.hour for s in starts] == [22, 22, 23, 23]


def test_recurrence_every_other_week_and_every_three_days():
    weekly = ops.recurrence(
        date(2030, 1, 7), time(9), "UTC", frequency="weekly", interval=2, count=3
    )
    assert [s.date() for s in weekly] == [date(2030, 1, 7), date(2030, 1, 21), date(2030, 2, 4)]
    daily = ops.recurrence(date(2030, 1, 7), time(9), "UTC", frequency="daily", interval=3, count=3)
    assert [s.date() for s in daily] == [date(2030, 1, 7), date(2030, 1, 10), date(2030, 1, 13)]


def test_a_start_inside_a_dst_gap_is_refused():
    with pytest.raises(booking.InvalidInput) as refused:
        ops.recurrence(
            date(2030, 3, 10),
            time(2, 30),
            "America/New_York",
            frequency="weekly",
            interval=1,
            count=2,
        )
    assert "does not exist" in refused.value.message


COURSE_FIELDS = {
    "name": "8-Week Mindfulness",
    "price_cents": 20000,
    "currency": "usd",
    "duration_minutes": 90,
    "max_participants": 10,
}


def weekly_starts(first: datetime, n: int) -> list[datetime]:
    return [first + timedelta(weeks=k) for k in range(n)]


def test_create_course_generates_every_session_in_sequence(practitioner):
    starts = weekly_starts(future(days=3, hour=18), 8)
    course = ops.create_course(practitioner, starts, **COURSE_FIELDS)

    sessions = db.session.scalars(
        select(ServiceSession)
        .where(ServiceSession.service_id == course.id)
        .order_by(ServiceSession.sequence_number)
    ).all()
    assert course.service_type == ServiceType.COURSE and course.currency == "USD"
    assert [s.sequence_number for s in sessions] == list(range(1, 9))
    assert [s.start_time for s in sessions] == starts
    assert all(s.max_participants == 10 for s in sessions)


def test_a_conflicting_date_saves_nothing_and_names_the_date(practitioner):
    starts = weekly_starts(future(days=3, hour=18), 8)
    blocker = make_workshop(practitioner, start=starts[5] + timedelta(minutes=30))

    with pytest.raises(booking.SlotUnavailable) as refused:
        ops.create_course(practitioner, starts, **COURSE_FIELDS)

    assert shown(starts[5], zone=practitioner.zone) in refused.value.message
    assert blocker.service.name in refused.value.message
    assert [c.start for c in refused.value.conflicts] == [starts[5]]
    assert count(Service, Service.service_type == ServiceType.COURSE) == 0
    assert count(ServiceSession) == 1


def test_a_course_whose_sessions_overlap_each_other_is_refused(practitioner):
    starts = [future(days=3, hour=18), future(days=3, hour=19)]
    with pytest.raises(booking.SlotUnavailable) as refused:
        ops.create_course(practitioner, starts, **COURSE_FIELDS)
    assert "another session of this series" in refused.value.message
    assert count(ServiceSession) == 0


def test_practitioner_adds_a_client_with_a_complimentary_seat(practitioner, client_user):
    session = make_workshop(practitioner, seats=1, price_cents=4000)

    seat = ops.add_client_to_session(session, client_user, practitioner)

    assert seat.status == BookingStatus.CONFIRMED and seat.price_charged_cents == 0
    assert seat.order.status == OrderStatus.PAID and seat.order.payment_provider == "comp"
    db.session.refresh(session)
    assert session.current_participants == 1
    with pytest.raises(booking.SessionFull):
        ops.add_client_to_session(session, make_user(), practitioner)
    with pytest.raises(booking.InvalidInput):
        ops.add_client_to_session(session, practitioner, practitioner)

    booking.cancel_booking(seat, practitioner, reason=CancelReason.REMOVED_BY_PRACTITIONER)
    db.session.refresh(session)
    assert session.current_participants == 0
    assert seat_invariant_violations() == []


def test_enroll_client_paid_offline_confirms_every_booking(practitioner, client_user):
    course = ops.create_course(
        practitioner, weekly_starts(future(days=3, hour=18), 4), **COURSE_FIELDS
    )
    order = ops.enroll_client(course, client_user, paid=True)
    assert order.status == OrderStatus.PAID and order.total_cents == 20000
    assert len(order.bookings) == 4
    assert {b.status for b in order.bookings} == {BookingStatus.CONFIRMED}
    assert count(Order) == 1

    pending = ops.enroll_client(course, make_user(), paid=False)
    assert pending.status == OrderStatus.PENDING
    assert {b.status for b in pending.bookings} == {BookingStatus.PENDING_PAYMENT}


def test_weekly_hours_refuse_overlapping_ranges_and_keep_the_old_ones(practitioner):
    with pytest.raises(booking.InvalidInput) as refused:
        working_hours.set_weekly_hours(
            practitioner, {0: [(time(9), time(12)), (time(11), time(14))]}
        )
    assert refused.value.field == "day_0"
    assert count(Booking) == 0
    from portal.models import WeeklyHours

    assert count(WeeklyHours, WeeklyHours.practitioner_id == practitioner.id) == 7


def test_a_day_off_override_removes_that_days_slots(practitioner):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    working_hours.set_weekly_hours(practitioner, {d: [(time(9), time(12))] for d in range(7)})
    day = (datetime.now(UTC) + timedelta(days=5)).astimezone(practitioner.zone).date()
    window_start = datetime.combine(day, time(0), tzinfo=practitioner.zone)
    window = (window_start, window_start + timedelta(days=1))
    duration = timedelta(minutes=service.duration_minutes)
    assert len(booking.available_slots(practitioner, duration, *window)) == 5

    working_hours.set_date_override(practitioner, day, [])
    assert booking.available_slots(practitioner, duration, *window) == []

    working_hours.set_date_override(practitioner, day, [(time(14), time(15))])
    slots = booking.available_slots(practitioner, duration, *window)
    assert [s.astimezone(practitioner.zone).time() for s in slots] == [time(14)]

    working_hours.remove_date_override(practitioner, day)
    assert len(booking.available_slots(practitioner, duration, *window)) == 5


def test_schedule_settings_are_validated(practitioner):
    with pytest.raises(booking.InvalidInput) as refused:
        working_hours.update_schedule_settings(practitioner, slot_step_minutes=2)
    assert refused.value.field == "slot_step_minutes"
    saved = working_hours.update_schedule_settings(practitioner, buffer_minutes=15, horizon_days=30)
    assert (saved.buffer_minutes, saved.horizon_days) == (15, 30)


def test_save_service_checks_package_and_bundle_contents(practitioner, other_practitioner):
    massage = make_service(practitioner, ServiceType.INDIVIDUAL, name="Massage")
    talk = make_service(practitioner, ServiceType.INDIVIDUAL, name="Talk")
    foreign = make_service(other_practitioner, ServiceType.INDIVIDUAL)
    fields = {"name": "Pass", "price_cents": 1000, "currency": "EUR", "duration_minutes": 60}

    with pytest.raises(booking.InvalidInput, match="exactly one"):
        services.save_service(
            practitioner,
            service_type="bundle",
            components=[(massage.id, 5), (talk.id, 1)],
            **fields,
        )
    with pytest.raises(booking.InvalidInput, match="your own"):
        services.save_service(
            practitioner, service_type="package", components=[(foreign.id, 1)], **fields
        )
    package = services.save_service(
        practitioner, service_type="package", components=[(massage.id, 3), (talk.id, 1)], **fields
    )
    assert {(c.included_service_id, c.quantity) for c in package.components} == {
        (massage.id, 3),
        (talk.id, 1),
    }
    services.save_service(
        practitioner, package, service_type="package", components=[(massage.id, 2)], **fields
    )
    db.session.expire_all()
    assert [(c.included_service_id, c.quantity) for c in package.components] == [(massage.id, 2)]
    order = booking.buy_credits(make_user(), package)
    assert len(order.bookings) == 2


def test_renaming_a_service_bumps_its_untitled_sessions_revision(practitioner):
    untitled = make_workshop(practitioner, start=future(days=3))
    workshop = untitled.service
    titled = ops.schedule_session(
        workshop, start_time=future(days=4), duration_minutes=60, max_participants=5, title="Own"
    )
    fields = {
        "service_type": "workshop",
        "name": workshop.name,
        "price_cents": 100,
        "max_participants": 25,
    }
    services.save_service(practitioner, workshop, **fields)
    db.session.refresh(untitled)
    assert untitled.revision == 0

    services.save_service(practitioner, workshop, **{**fields, "name": "Renamed"})
    db.session.refresh(untitled)
    db.session.refresh(titled)
    assert (untitled.revision, titled.revision) == (1, 0)


def test_the_database_still_refuses_an_overlap_the_checks_missed(practitioner, monkeypatch):
    """Two requests can pass the Python check together; the constraint/trigger decides."""
    first = make_workshop(practitioner, start=future(days=3, hour=15))
    monkeypatch.setattr(ops, "find_conflicts", lambda *args, **kwargs: [])
    with pytest.raises(booking.SlotUnavailable):
        ops.schedule_session(
            first.service, start_time=first.start_time, duration_minutes=30, max_participants=5
        )
    with pytest.raises(booking.SlotUnavailable):
        ops.update_session(
            make_workshop(practitioner, start=future(days=5, hour=15)),
            start_time=first.start_time,
            duration_minutes=30,
            max_participants=5,
            title="",
        )
    assert count(ServiceSession, ServiceSession.start_time == first.start_time) == 1


def test_dates_outside_the_supported_years_are_refused_not_crashed():
    with pytest.raises(booking.InvalidInput):
        ops.local_start(date(9999, 12, 31), time(23), "Pacific/Kiritimati")
    with pytest.raises(booking.InvalidInput):
        ops.recurrence(date(2200, 12, 1), time(9), "UTC", frequency="weekly", interval=4, count=10)
