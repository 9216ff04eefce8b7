"""Busy times read from a practitioner's own calendars block slots and bookings (#22)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from portal.booking.slots import BusyTimes, Interval, available_slots, check_bookable
from portal.core.errors import SlotUnavailable
from portal.crypto import decrypt, encrypt
from portal.extensions import db
from portal.models import (
    CalendarKind,
    ExternalBusyTime,
    ExternalCalendar,
    Role,
    WeeklyHours,
)
from tests.fixtures.factories import make_user

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def practitioner(app):
    user = make_user(Role.PRACTITIONER, timezone="UTC")
    for weekday in range(5):
        db.session.add(
            WeeklyHours(
                practitioner_id=user.id, weekday=weekday, start_time=time(9), end_time=time(12)
            )
        )
    db.session.commit()
    return user


def busy(practitioner, start: datetime, end: datetime) -> ExternalBusyTime:
    calendar = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.ICS_URL,
        name="Clinic",
        url_secret=encrypt("https://calendar.example/secret.ics"),
    )
    db.session.add(calendar)
    db.session.flush()
    row = ExternalBusyTime(
        calendar_id=calendar.id, practitioner_id=practitioner.id, start_time=start, end_time=end
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_a_busy_time_removes_the_slots_it_overlaps(practitioner):
    day = datetime(2027, 3, 3, tzinfo=UTC)
    hour = timedelta(hours=1)
    before = available_slots(practitioner, hour, day, day + timedelta(days=1), now=NOW)
    busy(practitioner, day.replace(hour=10), day.replace(hour=10, minute=45))
    after = available_slots(practitioner, hour, day, day + timedelta(days=1), now=NOW)
    assert set(before) - set(after) == {
        day.replace(hour=9, minute=30),
        day.replace(hour=10),
        day.replace(hour=10, minute=30),
    }
    # 09:00-10:00 ends as the busy time starts, 11:00-12:00 starts after it ends: still free
    assert day.replace(hour=9) in after
    assert day.replace(hour=11) in after


def test_booking_a_time_that_became_busy_is_refused(practitioner):
    start = datetime(2027, 3, 3, 10, tzinfo=UTC)
    check_bookable(practitioner, start, timedelta(hours=1), now=NOW)
    busy(practitioner, start + timedelta(minutes=30), start + timedelta(minutes=40))
    with pytest.raises(SlotUnavailable):
        check_bookable(practitioner, start, timedelta(hours=1), now=NOW)


def test_another_practitioners_busy_time_blocks_nothing(practitioner):
    other = make_user(Role.PRACTITIONER)
    start = datetime(2027, 3, 3, 10, tzinfo=UTC)
    busy(other, start, start + timedelta(hours=1))
    check_bookable(practitioner, start, timedelta(hours=1), now=NOW)


def test_the_calendar_address_is_stored_encrypted(practitioner):
    row = busy(practitioner, NOW + timedelta(days=2), NOW + timedelta(days=2, hours=1))
    calendar = db.session.get(ExternalCalendar, row.calendar_id)
    raw = db.session.execute(
        db.text("SELECT url_secret FROM external_calendars WHERE id = :id"), {"id": calendar.id}
    ).scalar_one()
    assert "calendar.example" not in raw
    assert decrypt(raw) == "https://calendar.example/secret.ics"


def test_deleting_a_calendar_deletes_its_busy_times(practitioner):
    row = busy(practitioner, NOW + timedelta(days=2), NOW + timedelta(days=2, hours=1))
    db.session.execute(
        db.text("DELETE FROM external_calendars WHERE id = :id"), {"id": row.calendar_id}
    )
    db.session.commit()
    assert db.session.query(ExternalBusyTime).count() == 0


def test_overlapping_and_nested_busy_times_block_as_their_union():
    at = datetime(2027, 3, 3, tzinfo=UTC)
    hour = timedelta(hours=1)
    busy = BusyTimes(
        [
            Interval(at + 2 * hour, at + 6 * hour),
            Interval(at + 3 * hour, at + 4 * hour),  # inside the first: ends earlier
            Interval(at + 8 * hour, at + 9 * hour),
            Interval(at + 9 * hour, at + 10 * hour),  # touching the one before
        ]
    )
    assert busy.overlaps(Interval(at + 5 * hour, at + 7 * hour))
    assert not busy.overlaps(Interval(at + 6 * hour, at + 8 * hour))
    assert busy.overlaps(Interval(at + 9 * hour + hour / 2, at + 11 * hour))
    assert not busy.overlaps(Interval(at, at + 2 * hour))
    assert not busy.overlaps(Interval(at + 10 * hour, at + 11 * hour))
