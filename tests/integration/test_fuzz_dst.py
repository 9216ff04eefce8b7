"""The fuzz's important cases, spelled out so they never depend on chance: DST gaps
and overlaps in the viewer's zone (Europe/Lisbon: 01:00 jumps to 02:00 on the last
Sunday of March; 01:00-02:00 happens twice on the last Sunday of October), and
instants so far out that their UTC or local dates do not exist."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal import booking
from portal.booking import working_hours
from portal.extensions import db
from portal.models import Booking, Role, Service, ServiceSession, ServiceType
from tests.fixtures.factories import make_service, make_user
from tests.fixtures.fuzz import changed_tables, fingerprint
from tests.fixtures.l10n import shown

ZONE = "Europe/Lisbon"
SPRING_GAP = [("2026-03-29", "01:30"), ("2027-03-28", "01:30"), ("2027-03-28", "01:00")]
AUTUMN_OVERLAP = datetime(2027, 10, 31)  # 01:30 local is 00:30Z (summer) and 01:30Z (winter)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def lisbon(app):
    practitioner = make_user(Role.PRACTITIONER, timezone=ZONE)
    working_hours.set_weekly_hours(
        practitioner, {day: [(time(0), time(23, 59))] for day in range(7)}
    )
    working_hours.update_schedule_settings(
        practitioner,
        buffer_minutes=0,
        min_notice_minutes=60,
        horizon_days=730,
        slot_step_minutes=30,
    )
    return practitioner


@pytest.fixture
def lisbon_client(app):
    return make_user(Role.CLIENT, timezone=ZONE)


def session_form(service, day: str, clock: str) -> dict:
    return {"service": str(service.id), "start_date": day, "start_time": clock}


def course_form(day: str, clock: str, count: int = 3) -> dict:
    return {
        "name": "Morning course",
        "price": "100.00",
        "currency": "EUR",
        "duration_minutes": "60",
        "max_participants": "5",
        "cancellation_cutoff_hours": "24",
        "is_active": "y",
        "start_date": day,
        "start_time": clock,
        "frequency": "weekly",
        "interval": "1",
        "count": str(count),
    }


# Session creation and course recurrence (the practitioner's zone).


@pytest.mark.parametrize(("day", "clock"), SPRING_GAP)
def test_a_session_in_the_spring_gap_is_refused_and_changes_nothing(lisbon, signed_in, day, clock):
    workshop = make_service(lisbon, ServiceType.WORKSHOP, max_participants=5)
    client = signed_in(lisbon)
    before = fingerprint()

    response = client.post("/calendar/sessions/new", data=session_form(workshop, day, clock))

    assert response.status_code == 200
    assert "does not exist" in response.get_data(as_text=True)
    assert changed_tables(before, fingerprint()) == []


def test_a_session_in_the_autumn_overlap_takes_the_first_of_the_two_times(lisbon, signed_in):
    workshop = make_service(lisbon, ServiceType.WORKSHOP, max_participants=5)
    client = signed_in(lisbon)

    response = client.post(
        "/calendar/sessions/new", data=session_form(workshop, "2027-10-31", "01:30")
    )

    assert response.status_code == 302
    session = db.session.scalar(
        select(ServiceSession).where(ServiceSession.service_id == workshop.id)
    )
    assert session.start_time == utc(2027, 10, 31, 0, 30)  # 01:30 summer time (+01:00)
    assert session.start_time.astimezone(session.zone).strftime("%H:%M") == "01:30"


def test_a_course_with_one_meeting_in_the_gap_is_refused_whole(lisbon, signed_in):
    client = signed_in(lisbon)
    before = fingerprint()

    response = client.post("/courses/new", data=course_form("2027-03-21", "01:30"))

    assert response.status_code == 200
    gap = f"{shown(time(1, 30), 'time')} does not exist on {shown(date(2027, 3, 28), 'date')}"
    assert gap in response.get_data(as_text=True)
    assert changed_tables(before, fingerprint()) == []


def test_a_course_across_the_autumn_change_keeps_its_local_time(lisbon, signed_in):
    client = signed_in(lisbon)

    response = client.post("/courses/new", data=course_form("2027-10-24", "10:00", count=2))

    assert response.status_code == 302
    starts = db.session.scalars(
        select(ServiceSession.start_time)
        .join(Service)
        .where(Service.name == "Morning course")
        .order_by(ServiceSession.start_time)
    ).all()
    assert starts == [utc(2027, 10, 24, 9), utc(2027, 10, 31, 10)]


# Availability: weekly hours and date overrides on the changeover days.


@pytest.mark.parametrize("ranges", ["01:30-04:00", "00:00-01:30, 01:00-03:00"])
def test_overrides_on_the_gap_day_are_saved_or_refused_without_errors(lisbon, signed_in, ranges):
    client = signed_in(lisbon)
    before = fingerprint()

    response = client.post(
        "/practice/availability/overrides", data={"day": "2027-03-28", "ranges": ranges}
    )

    assert response.status_code in (302, 422)
    if response.status_code == 422:
        assert changed_tables(before, fingerprint()) == []


def local_slots(practitioner, day: datetime) -> list[datetime]:
    zone = practitioner.zone
    start = day.replace(tzinfo=zone).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
    return booking.available_slots(practitioner, timedelta(hours=1), start, end)


def test_the_spring_day_offers_only_times_that_exist(lisbon):
    slots = local_slots(lisbon, datetime(2027, 3, 28))

    local = [s.astimezone(lisbon.zone).strftime("%H:%M") for s in slots]
    assert not [clock for clock in local if clock.startswith("01:")]
    assert local[:3] == ["00:00", "00:30", "02:00"]  # 00:30 lasts an hour: it ends at 02:30
    assert len(set(slots)) == len(slots)


def test_the_autumn_day_offers_both_half_past_ones(lisbon):
    slots = local_slots(lisbon, AUTUMN_OVERLAP)

    assert {utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)} <= set(slots)
    local = [s.astimezone(lisbon.zone).strftime("%H:%M") for s in slots]
    assert local.count("01:30") == 2


# Slot picking, credit scheduling and rescheduling (the client's zone).


@pytest.fixture
def credits(lisbon, lisbon_client):
    massage = make_service(lisbon, name="Massage")
    bundle = make_service(lisbon, ServiceType.BUNDLE, components=[(massage, 3)])
    order = booking.buy_credits(lisbon_client, bundle)
    booking.confirm_payment(order)
    return massage, order.bookings


def offered_starts(html: str) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"', html)


def test_the_picker_on_the_autumn_day_offers_both_times_and_each_books(
    credits, lisbon_client, signed_in
):
    _, (first, second, _) = credits
    client = signed_in(lisbon_client)

    page = client.get(f"/bookings/{first.id}/schedule", query_string={"day": "2027-10-31"})
    offered = offered_starts(page.get_data(as_text=True))
    assert {"2027-10-31T00:30:00+00:00", "2027-10-31T01:30:00+00:00"} <= set(offered)

    for credit, start in ((first, "2027-10-31T01:30:00+01:00"), (second, "2027-10-31T01:30:00Z")):
        response = client.post(f"/bookings/{credit.id}/schedule", data={"start": start})
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    starts = sorted(db.session.get(Booking, b.id).get_start_time() for b in (first, second))
    assert starts == [utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)]


def test_the_picker_on_the_spring_day_offers_no_time_in_the_gap(credits, lisbon_client, signed_in):
    _, (credit, _, _) = credits
    client = signed_in(lisbon_client)

    page = client.get(f"/bookings/{credit.id}/schedule", query_string={"day": "2027-03-28"})

    offered = [datetime.fromisoformat(s) for s in offered_starts(page.get_data(as_text=True))]
    assert offered
    assert all(s.date() == datetime(2027, 3, 28).date() or s.hour == 23 for s in offered)
    assert not [s for s in offered if s.astimezone(ZoneInfo(ZONE)).hour == 1]


@pytest.mark.parametrize(
    "start",
    [
        "2027-03-28T01:30:00",  # no offset: the client's wall clock, which that night skips
        "2027-03-28 01:30",
        "2027-03-28T01:30:00+25:00",
    ],
)
def test_a_gap_time_without_a_valid_offset_is_refused(credits, lisbon_client, signed_in, start):
    _, (credit, _, _) = credits
    client = signed_in(lisbon_client)
    before = fingerprint()

    response = client.post(f"/bookings/{credit.id}/schedule", data={"start": start})

    assert response.status_code == 422
    assert changed_tables(before, fingerprint()) == []


def test_a_booking_moves_into_the_second_half_past_one(credits, lisbon_client, signed_in):
    massage, (credit, _, _) = credits
    booking.schedule_credit(credit, utc(2027, 10, 30, 10))
    client = signed_in(lisbon_client)

    response = client.post(
        f"/bookings/{credit.id}/reschedule", data={"start": "2027-10-31T01:30:00+00:00"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, credit.id).get_start_time() == utc(2027, 10, 31, 1, 30)


# Instants whose UTC or local date does not exist (year 1 and 9999): refused, not a 500.

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC
    "9999-12-31T23:59:59-01:00",  # after datetime.max in UTC
    "0001-01-01T00:30:00+00:00",  # the local day before it does not exist
    "9999-12-31T20:00:00+00:00",  # the local day after it does not exist
]


@pytest.mark.parametrize("start", OUT_OF_RANGE)
def test_slot_instants_at_the_ends_of_time_are_refused(credits, lisbon_client, signed_in, start):
    massage, (credit, _, _) = credits
    booking.schedule_credit(credit, utc(2027, 10, 30, 10))
    client = signed_in(lisbon_client)
    before = fingerprint()

    for url in (
        f"/book/services/{massage.id}/buy",
        f"/bookings/{credits[1][1].id}/schedule",
        f"/bookings/{credit.id}/reschedule",
    ):
        response = client.post(url, data={"start": start})
        assert response.status_code in (409, 422), (url, response.status_code)
        assert "pick one of the slots" in response.get_data(as_text=True) or (
            "too" in response.get_data(as_text=True)
        )
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.parametrize(
    "start", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
)
def test_the_domain_refuses_instants_at_the_ends_of_time(lisbon, lisbon_client, start):
    massage = make_service(lisbon, name="Massage")

    with pytest.raises(booking.SlotUnavailable):
        booking.check_bookable(lisbon, start, timedelta(hours=1))
    with pytest.raises(booking.SlotUnavailable):
        booking.book_individual_session(lisbon_client, massage, start)
    assert db.session.scalar(select(ServiceSession.id)) is None


@pytest.mark.parametrize(
    ("zone", "day", "hours", "first_slot"),
    [
        # Lisbon skips 01:00-02:00: hours from 01:30 start once the clocks read 02:30.
        (ZONE, datetime(2027, 3, 28), (time(1, 30), time(4)), utc(2027, 3, 28, 1, 30)),
        # Santiago skips 00:00-01:00: a day starting at midnight starts at 01:00.
        ("America/Santiago", datetime(2027, 9, 5), (time(0), time(6)), utc(2027, 9, 5, 4)),
    ],
)
def test_working_hours_starting_inside_the_gap_keep_the_rest_of_the_day(
    app, zone, day, hours, first_slot
):
    practitioner = make_user(Role.PRACTITIONER, timezone=zone)
    working_hours.set_weekly_hours(practitioner, {day.weekday(): [hours]})
    working_hours.update_schedule_settings(
        practitioner, buffer_minutes=0, min_notice_minutes=0, horizon_days=730, slot_step_minutes=60
    )
    window = (
        (day - timedelta(days=1)).replace(tzinfo=UTC),
        (day + timedelta(days=2)).replace(tzinfo=UTC),
    )

    slots = booking.available_slots(practitioner, timedelta(hours=1), *window, now=utc(2026, 11, 1))

    assert slots and slots[0] == first_slot
    last_end = datetime.combine(day.date(), hours[1], tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert slots[-1] + timedelta(hours=1) <= last_end < slots[-1] + timedelta(hours=2)
