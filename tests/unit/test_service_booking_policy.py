"""A 1-on-1 service may follow its own booking rules (#22): a buffer, notice and horizon of
its own, and only some weekdays or hours within the practitioner's working hours; what it
leaves empty is the practitioner's. The slot picker, the slots API and the check at commit
all read the same rules."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from portal import booking
from portal.core.errors import InvalidInput, SlotUnavailable
from portal.extensions import db
from portal.models import Role, ScheduleSettings, Service, ServiceType, WeeklyHours
from tests.fixtures.factories import make_service, make_user, make_workshop
from tests.fixtures.practice import SERVICE_FORM

NOW = datetime(2026, 3, 2, 6, tzinfo=UTC)  # a Monday, 06:00 in Lisbon (UTC+0 in March)
SATURDAY = date(2026, 3, 7)


@pytest.fixture
def practitioner(app):
    user = make_user(Role.PRACTITIONER, timezone="Europe/Lisbon")
    db.session.add_all(
        WeeklyHours(practitioner_id=user.id, weekday=d, start_time=time(9), end_time=time(17))
        for d in range(7)
    )
    db.session.add(
        ScheduleSettings(
            practitioner_id=user.id,
            buffer_minutes=0,
            min_notice_minutes=60,
            horizon_days=60,
            slot_step_minutes=60,
        )
    )
    db.session.commit()
    return user


def slots(practitioner, service: Service, first: date, days: int = 1) -> list[datetime]:
    start = datetime.combine(first, time(0), tzinfo=UTC)
    return booking.available_slots(
        practitioner,
        timedelta(minutes=service.duration_minutes),
        start,
        start + timedelta(days=days),
        now=NOW,
        service=service,
    )


def test_a_service_without_rules_of_its_own_follows_the_practitioner(practitioner):
    plain = make_service(practitioner)
    assert [s.hour for s in slots(practitioner, plain, SATURDAY)] == list(range(9, 17))
    assert booking.policy_for(practitioner.id, plain) == booking.policy_for(practitioner.id)


def test_only_on_saturdays_between_ten_and_one(practitioner):
    saturdays = make_service(
        practitioner,
        bookable_weekdays=1 << 5,
        bookable_from=time(10),
        bookable_until=time(13),
    )
    week = slots(practitioner, saturdays, date(2026, 3, 2), days=7)
    assert {s.date() for s in week} == {SATURDAY}
    assert [s.hour for s in week] == [10, 11, 12]  # 60 minutes ending by 13:00

    friday_noon = datetime(2026, 3, 6, 11, tzinfo=UTC)
    with pytest.raises(SlotUnavailable):
        booking.check_bookable(
            practitioner, friday_noon, timedelta(hours=1), now=NOW, service=saturdays
        )
    # The practitioner does work then: another service of theirs books it.
    booking.check_bookable(practitioner, friday_noon, timedelta(hours=1), now=NOW)


def test_its_own_notice_and_horizon(practitioner):
    considered = make_service(practitioner, min_notice_minutes=48 * 60, horizon_days=7)
    first = slots(practitioner, considered, date(2026, 3, 2), days=30)
    # Monday 06:00 + 48 hours: Wednesday's 09:00 is the first; the practitioner's own hour
    # of notice would have offered Monday's.
    assert min(first) == datetime(2026, 3, 4, 9, tzinfo=UTC)
    assert min(slots(practitioner, make_service(practitioner), date(2026, 3, 2))) == datetime(
        2026, 3, 2, 9, tzinfo=UTC
    )
    assert max(first) < NOW + timedelta(days=7)
    tomorrow = datetime(2026, 3, 3, 10, tzinfo=UTC)
    with pytest.raises(SlotUnavailable, match="too soon"):
        booking.check_bookable(
            practitioner, tomorrow, timedelta(hours=1), now=NOW, service=considered
        )


def test_its_own_buffer_around_the_practitioners_other_sessions(practitioner):
    make_workshop(practitioner, start=datetime(2026, 3, 7, 12, tzinfo=UTC))  # 12:00-13:30
    massage = make_service(practitioner, buffer_minutes=30)
    plain = make_service(practitioner)
    assert [s.hour for s in slots(practitioner, plain, SATURDAY)] == [9, 10, 11, 14, 15, 16]
    # 11:00-12:00 ends as the workshop starts: the massage wants half an hour between.
    assert [s.hour for s in slots(practitioner, massage, SATURDAY)] == [9, 10, 14, 15, 16]


def test_booking_a_time_the_service_does_not_offer_is_refused_at_commit(practitioner):
    client = make_user()
    mornings = make_service(practitioner, bookable_until=time(12))
    with pytest.raises(SlotUnavailable):
        booking.book_individual_session(
            client, mornings, datetime(2026, 3, 7, 14, tzinfo=UTC), now=NOW
        )
    order = booking.book_individual_session(
        client, mornings, datetime(2026, 3, 7, 10, tzinfo=UTC), now=NOW
    )
    assert order.id


def test_rules_are_checked_when_saved_and_kept_only_by_1_on_1_services(practitioner):
    fields = dict(
        name="Consult",
        service_type=ServiceType.INDIVIDUAL,
        price_cents=0,
        currency="EUR",
        duration_minutes=60,
        max_participants=1,
    )
    with pytest.raises(InvalidInput) as refused:
        booking.save_service(
            practitioner, None, **fields, bookable_from=time(14), bookable_until=time(10)
        )
    assert refused.value.field == "bookable_until"
    assert db.session.query(Service).count() == 0

    workshop = booking.save_service(
        practitioner,
        None,
        **{**fields, "service_type": ServiceType.WORKSHOP, "max_participants": 8},
        buffer_minutes=30,
        bookable_weekdays=1,
    )
    assert workshop.buffer_minutes is None and workshop.bookable_weekdays is None


def test_a_practitioner_gives_a_service_its_own_rules_in_its_form(signed_in, practitioner):
    web = signed_in(practitioner)
    form = {
        **SERVICE_FORM,
        "buffer_minutes": "30",
        "min_notice_minutes": "2880",
        "bookable_weekdays": ["5", "6"],
        "bookable_from": "10:00",
        "bookable_until": "13:00",
    }
    assert web.post("/practice/services/new", data=form).status_code == 302
    service = db.session.scalar(select(Service))
    assert (service.buffer_minutes, service.min_notice_minutes, service.horizon_days) == (
        30,
        2880,
        None,
    )
    assert service.bookable_weekday_set == {5, 6}
    assert (service.bookable_from, service.bookable_until) == (time(10), time(13))

    edit = web.get(f"/practice/services/{service.id}/edit").text
    ticked = set(re.findall(r'<input checked id="bookable_weekdays-(\d)"', edit))
    ticked |= set(re.findall(r'id="bookable_weekdays-(\d)"[^>]*checked', edit))
    assert ticked == {"5", "6"}
    assert "Saturday" in edit and "Sunday" in edit

    # Hours that run backwards: said on the field, nothing changed.
    backwards = web.post(
        f"/practice/services/{service.id}/edit",
        data={**form, "bookable_from": "14:00", "bookable_until": "09:00"},
    )
    assert backwards.status_code == 200
    assert "The last time must come after the first." in backwards.text
    db.session.expire_all()
    assert db.session.get(Service, service.id).bookable_until == time(13)

    # Emptied: the practitioner's own settings again.
    cleared = {k: v for k, v in form.items() if k not in ("bookable_weekdays",)}
    cleared.update(buffer_minutes="", min_notice_minutes="", bookable_from="", bookable_until="")
    assert web.post(f"/practice/services/{service.id}/edit", data=cleared).status_code == 302
    db.session.expire_all()
    service = db.session.get(Service, service.id)
    assert service.buffer_minutes is None and service.bookable_weekdays is None
    assert service.bookable_from is None


def test_the_slots_api_follows_the_services_own_days(client, practitioner):
    saturdays = make_service(practitioner, bookable_weekdays=1 << 5)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    end = start + timedelta(days=7)
    answer = client.get(
        f"/api/v1/services/{saturdays.id}/slots",
        query_string={"start": start.isoformat(), "end": end.isoformat()},
    )
    assert answer.status_code == 200
    days = {datetime.fromisoformat(s["start_time"]).date() for s in answer.json["slots"]}
    assert days and {day.weekday() for day in days} == {5}
