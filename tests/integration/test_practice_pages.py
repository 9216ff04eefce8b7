"""Services, availability and courses pages of the practitioner portal."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from portal.booking.timetable import local_start
from portal.extensions import db
from portal.models import (
    BookingStatus,
    DateOverride,
    OrderStatus,
    ScheduleSettings,
    Service,
    ServiceSession,
    ServiceType,
    WeeklyHours,
)
from tests.fixtures.factories import future, make_course, make_service, make_workshop
from tests.fixtures.l10n import shown, shown_money
from tests.fixtures.practice import SERVICE_FORM


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def test_practitioner_creates_and_lists_a_service(signed_in, practitioner):
    web = signed_in(practitioner)
    response = web.post("/practice/services/new", data=SERVICE_FORM)
    assert response.status_code == 302
    html = web.get(response.headers["Location"]).text
    assert "Deep Tissue is saved." in html
    assert shown_money(8550, "EUR") in html and "60 min" in html
    service = db.session.scalar(select(Service))
    assert service.price_cents == 8550 and service.primary_practitioner_id == practitioner.id


def test_another_practitioners_service_cannot_be_edited(
    signed_in, practitioner, other_practitioner
):
    theirs = make_service(other_practitioner, ServiceType.WORKSHOP)
    web = signed_in(practitioner)
    assert web.get(f"/practice/services/{theirs.id}/edit").status_code == 404
    assert web.post(f"/practice/services/{theirs.id}/edit", data=SERVICE_FORM).status_code == 404


def test_availability_page_shows_hours_overrides_rules_and_slots(signed_in, practitioner):
    make_service(practitioner, ServiceType.INDIVIDUAL, duration_minutes=45)
    html = signed_in(practitioner).get("/practice/availability/").text
    assert 'value="00:00-23:59"' in html  # the fixture opens every day
    assert "No upcoming overrides." in html
    assert 'name="buffer_minutes"' in html and 'value="720"' in html
    assert "45 minutes" in html
    assert html.count("<li>") >= 10  # slot preview


def test_weekly_hours_are_saved_and_bad_ranges_shown_inline(signed_in, practitioner):
    web = signed_in(practitioner)
    days = {f"day_{n}": "" for n in range(7)}
    response = web.post(
        "/practice/availability/weekly",
        data={**days, "day_0": "09:00-12:00, 13:00-17:00", "day_2": "10:00-16:00"},
    )
    assert response.status_code == 302
    rows = db.session.scalars(
        select(WeeklyHours).where(WeeklyHours.practitioner_id == practitioner.id)
    ).all()
    assert sorted((r.weekday, f"{r.start_time:%H:%M}") for r in rows) == [
        (0, "09:00"),
        (0, "13:00"),
        (2, "10:00"),
    ]
    html = web.post(
        "/practice/availability/weekly", data={**days, "day_1": "09:00-12:00, 11:00-13:00"}
    ).text
    assert "overlaps the range before it" in field_error(html, "day_1")
    html = web.post("/practice/availability/weekly", data={**days, "day_3": "nine to five"}).text
    assert "is not a range like 09:00-12:00" in field_error(html, "day_3")
    assert len(db.session.scalars(select(WeeklyHours)).all()) == 3


def test_date_override_day_off_and_removal(signed_in, practitioner):
    web = signed_in(practitioner)
    day = (future(days=10).astimezone(practitioner.zone)).date()
    web.post("/practice/availability/overrides", data={"day": day.isoformat(), "ranges": ""})
    html = web.get("/practice/availability/").text
    assert shown(day, "weekday-date") in html and "Day off" in html
    web.post(
        "/practice/availability/overrides",
        data={"day": day.isoformat(), "ranges": "10:00-11:00"},
    )
    assert "10:00-11:00" in web.get("/practice/availability/").text
    web.post("/practice/availability/overrides/remove", data={"day": day.isoformat()})
    assert db.session.scalars(select(DateOverride)).all() == []


def test_booking_rules_are_validated_and_saved(signed_in, practitioner):
    web = signed_in(practitioner)
    data = {
        "buffer_minutes": "15",
        "min_notice_minutes": "60",
        "horizon_days": "30",
        "slot_step_minutes": "2",
    }
    html = web.post("/practice/availability/settings", data=data).text
    assert field_error(html, "slot_step_minutes")
    assert db.session.get(ScheduleSettings, practitioner.id) is None
    web.post("/practice/availability/settings", data={**data, "slot_step_minutes": "15"})
    saved = db.session.get(ScheduleSettings, practitioner.id)
    assert (saved.buffer_minutes, saved.slot_step_minutes, saved.horizon_days) == (15, 15, 30)


COURSE_FORM = {
    "name": "8-Week Mindfulness",
    "description": "",
    "price": "200",
    "currency": "USD",
    "duration_minutes": "90",
    "max_participants": "10",
    "cancellation_cutoff_hours": "24",
    "is_active": "y",
    "frequency": "weekly",
    "interval": "1",
    "count": "8",
    "start_time": "18:00",
}


def test_course_with_eight_weekly_sessions_is_generated(signed_in, practitioner):
    first = (future(days=3).astimezone(practitioner.zone)).date()
    web = signed_in(practitioner)
    response = web.post("/courses/new", data={**COURSE_FORM, "start_date": first.isoformat()})
    assert response.status_code == 302
    html = web.get(response.headers["Location"]).text
    assert "8-Week Mindfulness is created with 8 sessions." in html
    assert f"{shown_money(20000)} for the whole course" in html
    for week in range(8):
        day = first + timedelta(weeks=week)
        start = local_start(day, time(18), practitioner.timezone)
        assert f"Session {week + 1} · {shown(start, zone=practitioner.zone)}" in html
    assert "Nobody is enrolled yet." in html
    listing = web.get("/courses/").text
    assert "8-Week Mindfulness" in listing and '<td data-label="Sessions">8</td>' in listing


def test_course_conflicts_are_listed_and_nothing_is_saved(signed_in, practitioner):
    first = (future(days=3).astimezone(practitioner.zone)).date()
    clash_day = first + timedelta(weeks=2)
    make_workshop(
        practitioner, start=local_start(clash_day, time(18, 30), practitioner.timezone), name="Gong"
    )
    html = (
        signed_in(practitioner)
        .post("/courses/new", data={**COURSE_FORM, "start_date": first.isoformat()})
        .text
    )
    clash = shown(local_start(clash_day, time(18), practitioner.timezone), zone=practitioner.zone)
    assert f"{clash} (overlaps Gong)" in field_error(html, "start_time")
    assert (
        db.session.scalar(
            select(func.count(Service.id)).where(Service.service_type == ServiceType.COURSE)
        )
        == 0
    )
    assert db.session.scalar(select(func.count(ServiceSession.id))) == 1


def test_enrolling_a_client_creates_one_order_and_n_bookings(signed_in, practitioner, client_user):
    first = (future(days=3).astimezone(practitioner.zone)).date()
    web = signed_in(practitioner)
    response = web.post(
        "/courses/new", data={**COURSE_FORM, "count": "4", "start_date": first.isoformat()}
    )
    course_url = response.headers["Location"]
    response = web.post(f"{course_url}/enroll", data={"email": client_user.email, "paid": "y"})
    html = web.get(response.headers["Location"]).text
    assert f"{client_user.name} is enrolled in 4 sessions (order paid)." in html
    assert "4 of 4" in html and "1/10 seats" in html
    course = db.session.scalar(select(Service).where(Service.service_type == ServiceType.COURSE))
    sessions = db.session.scalars(
        select(ServiceSession).where(ServiceSession.service_id == course.id)
    ).all()
    orders = {b.order_id for s in sessions for b in s.bookings}
    assert len(orders) == 1
    assert all(s.bookings[0].status == BookingStatus.CONFIRMED for s in sessions)
    assert sessions[0].bookings[0].order.status == OrderStatus.PAID

    again = web.post(f"{course_url}/enroll", data={"email": client_user.email}).text
    assert "already hold a seat" in again


def test_other_practitioners_course_is_not_found(signed_in, practitioner, other_practitioner):
    course = make_course(other_practitioner, sessions=2)
    web = signed_in(practitioner)
    assert web.get(f"/courses/{course.id}").status_code == 404
    assert (
        web.post(f"/courses/{course.id}/enroll", data={"email": "x@example.com"}).status_code == 404
    )


@pytest.mark.parametrize(
    "url", ["/practice/services/", "/practice/availability/", "/courses/", "/courses/new"]
)
def test_clients_cannot_manage_a_practice(signed_in, client_user, url):
    assert signed_in(client_user).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/practice/services/", "/practice/availability/", "/courses/new"])
def test_staff_cannot_manage_a_practice(signed_in, staff_user, url):
    assert signed_in(staff_user).get(url).status_code == 403


def test_nav_links_follow_the_role(signed_in, practitioner, client_user, auth):
    html = signed_in(practitioner).get("/").text
    for label in ("Calendar", "Sessions", "Courses", "Availability", "Services", "Feeds"):
        assert f">{label}</a>" in html
    auth.logout()
    html = signed_in(client_user).get("/").text
    assert ">Feeds</a>" in html and ">Calendar</a>" not in html and ">Courses</a>" not in html


def test_staff_see_a_course_read_only(signed_in, practitioner, staff_user, client_user):
    course = make_course(practitioner, sessions=2)
    html = signed_in(staff_user).get(f"/courses/{course.id}").text
    assert course.name in html and "Session 2" in html
    assert "Enroll client" not in html and "Edit this session" not in html
    assert (
        signed_in(staff_user)
        .post(f"/courses/{course.id}/enroll", data={"email": client_user.email})
        .status_code
        == 403
    )
