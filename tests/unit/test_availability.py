"""Offered 1-on-1 times follow the practitioner's local working hours across DST,
honour overrides, buffers, notice and horizon, and never overlap a session."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal import booking
from portal.booking.slots import local_instant
from portal.extensions import db
from portal.models import DateOverride, Role, ScheduleSettings, ServiceType, WeeklyHours
from tests.fixtures.factories import make_service, make_user

LISBON = "Europe/Lisbon"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def lisbon_practitioner(app):
    user = make_user(Role.PRACTITIONER, timezone=LISBON)
    db.session.add_all(
        WeeklyHours(practitioner_id=user.id, weekday=d, start_time=time(9), end_time=time(12))
        for d in range(7)
    )
    db.session.add(
        ScheduleSettings(
            practitioner_id=user.id,
            buffer_minutes=15,
            min_notice_minutes=60,
            horizon_days=90,
            slot_step_minutes=60,
        )
    )
    db.session.commit()
    return user


def day_window(day: date):
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def slots_on(practitioner, day: date, minutes: int = 60):
    return booking.available_slots(
        practitioner, timedelta(minutes=minutes), *day_window(day), now=NOW
    )


def test_local_hours_stay_local_across_the_spring_change(lisbon_practitioner):
    before = slots_on(lisbon_practitioner, date(2026, 3, 28))
    after = slots_on(lisbon_practitioner, date(2026, 3, 30))
    # Lisbon is UTC+0 in winter and UTC+1 in summer: 09:00 local moves in UTC.
    assert [s.hour for s in before] == [9, 10, 11]
    assert [s.hour for s in after] == [8, 9, 10]


def test_a_wall_clock_time_inside_the_dst_gap_does_not_exist():
    zone = ZoneInfo(LISBON)
    assert local_instant(date(2026, 3, 29), time(1, 30), zone) is None
    assert local_instant(date(2026, 3, 29), time(3, 0), zone) == datetime(
        2026, 3, 29, 2, tzinfo=UTC
    )


def test_a_day_off_override_offers_nothing_and_other_hours_replace_the_week(
    lisbon_practitioner,
):
    db.session.add_all(
        [
            DateOverride(practitioner_id=lisbon_practitioner.id, day=date(2026, 3, 10)),
            DateOverride(
                practitioner_id=lisbon_practitioner.id,
                day=date(2026, 3, 11),
                start_time=time(14),
                end_time=time(16),
            ),
        ]
    )
    db.session.commit()
    assert slots_on(lisbon_practitioner, date(2026, 3, 10)) == []
    assert [s.hour for s in slots_on(lisbon_practitioner, date(2026, 3, 11))] == [14, 15]


def test_slots_keep_the_buffer_around_scheduled_sessions(lisbon_practitioner):
    workshop = make_service(lisbon_practitioner, ServiceType.WORKSHOP, max_participants=5)
    booking.create_session(
        workshop,
        start_time=datetime(2026, 3, 12, 10, tzinfo=UTC),
        end_time=datetime(2026, 3, 12, 10, 30, tzinfo=UTC),
    )
    hours = [s.hour for s in slots_on(lisbon_practitioner, date(2026, 3, 12))]
    # 09:00-10:00 ends 0 minutes before the session (< 15 min buffer); 11:00 starts
    # 30 minutes after its end, outside the buffer.
    assert hours == [11]


def test_notice_and_horizon_bound_the_offer(lisbon_practitioner):
    assert slots_on(lisbon_practitioner, date(2026, 3, 1)) == []  # all before NOW + notice
    assert slots_on(lisbon_practitioner, NOW.date() + timedelta(days=91)) == []


def test_booking_outside_hours_or_on_a_taken_time_is_refused(lisbon_practitioner, client_user):
    service = make_service(lisbon_practitioner, ServiceType.INDIVIDUAL)
    with pytest.raises(booking.SlotUnavailable, match="working hours"):
        booking.book_individual_session(
            client_user, service, datetime(2026, 3, 12, 18, tzinfo=UTC), now=NOW
        )
    booking.book_individual_session(
        client_user, service, datetime(2026, 3, 12, 9, tzinfo=UTC), now=NOW
    )
    with pytest.raises(booking.SlotUnavailable, match="no longer available"):
        booking.book_individual_session(
            make_user(), service, datetime(2026, 3, 12, 10, tzinfo=UTC), now=NOW
        )
    assert [s.hour for s in slots_on(lisbon_practitioner, date(2026, 3, 12))] == [11]


@pytest.mark.parametrize(
    "start",
    [time(9, 29, 59), time(9, 30), time(10, 0, 0, 1), time(10, 15)],
)
def test_a_start_between_the_offered_ones_is_refused(lisbon_practitioner, client_user, start):
    """On a 60-minute grid from 09:00 (Lisbon is UTC in March) only whole hours are
    offered; a start between them would straddle two offered slots."""
    service = make_service(lisbon_practitioner, ServiceType.INDIVIDUAL, duration_minutes=30)
    day = date(2026, 3, 12)
    with pytest.raises(booking.SlotUnavailable, match="start times") as refused:
        booking.book_individual_session(
            client_user, service, datetime.combine(day, start, tzinfo=UTC), now=NOW
        )
    assert refused.value.field == "start_time"
    assert [s.hour for s in slots_on(lisbon_practitioner, day, 30)] == [9, 10, 11]
    booking.book_individual_session(
        client_user, service, datetime.combine(day, time(10), tzinfo=UTC), now=NOW
    )
