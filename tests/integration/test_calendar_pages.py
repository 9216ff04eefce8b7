"""The practitioner's calendar: week and month views, navigation, roles, query count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal import booking
from portal.booking.timetable import create_course
from portal.crypto import encrypt
from portal.extensions import db
from portal.models import CalendarKind, ExternalBusyTime, ExternalCalendar, Role
from tests.fixtures.factories import future, make_course, make_user, make_workshop
from tests.fixtures.l10n import shown
from tests.fixtures.practice import count_statements


def local(moment, user, fmt="time"):
    return shown(moment, fmt, user.zone)


def week_of(moment, user) -> str:
    return moment.astimezone(user.zone).date().isoformat()


def event_html(html: str, session_id: int) -> str:
    match = re.search(rf'<details[^>]*id="event-{session_id}".*?</details>', html, re.S)
    assert match, f"event {session_id} is not on the page"
    return match.group(0)


def test_week_view_shows_each_session_with_time_status_seats_and_attendees(
    signed_in, practitioner, client_user
):
    session = make_workshop(
        practitioner, seats=25, start=future(days=7, hour=15), name="Breathwork"
    )
    booking.book_workshop_seat(client_user, session)

    html = (
        signed_in(practitioner)
        .get(f"/calendar/?date={week_of(session.start_time, practitioner)}")
        .text
    )

    event = event_html(html, session.id)
    assert "Breathwork" in event
    assert (
        f"{local(session.start_time, practitioner)}–{local(session.end_time, practitioner)}"
        in event
    )
    assert "scheduled" in event
    assert "1/25 seats" in event
    assert client_user.name in event and "pending payment" in event
    assert 'class="week-grid"' in html
    assert "<html" in html


def test_month_view_lists_the_month_sessions(signed_in, practitioner):
    course = make_course(practitioner, sessions=3)
    first = future(days=3, hour=18)
    html = signed_in(practitioner).get(f"/calendar/month?date={week_of(first, practitioner)}").text
    assert 'class="month-grid"' in html
    day = first.astimezone(practitioner.zone).date()
    assert f'href="/calendar/sessions/new?date={day.isoformat()}"' in html
    assert f"{course.name} · session 1" in html
    assert local(first, practitioner, "month") in html


def test_navigation_links_swap_in_place_and_reload_the_same_url(signed_in, practitioner):
    this_week = make_workshop(practitioner, start=future(days=2, hour=15), name="This week")
    next_week = make_workshop(practitioner, start=future(days=9, hour=15), name="Next week")
    web = signed_in(practitioner)
    day = this_week.start_time.astimezone(practitioner.zone).date()
    monday = day - timedelta(days=day.weekday())
    following = (monday + timedelta(days=7)).isoformat()

    page = web.get(f"/calendar/?date={day.isoformat()}").text
    link = re.search(
        r'<a href="([^"]+)" class="" hx-get="([^"]+)"[^>]*hx-push-url="true">Next ›', page
    )
    assert link and link.group(1) == link.group(2) == f"/calendar/?date={following}"

    fragment = web.get(link.group(1), headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<section id="calendar"')
    assert "<html" not in fragment
    assert "Next week" in fragment and "This week" not in fragment
    assert "HX-Request" in web.get(link.group(1), headers={"HX-Request": "true"}).headers["Vary"]
    full = web.get(link.group(1)).text
    assert "<html" in full and "Next week" in full
    restored = web.get(
        link.group(1), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).text
    assert "<html" in restored
    assert next_week.id


def test_canceled_sessions_show_as_canceled(signed_in, practitioner):
    session = make_workshop(practitioner, start=future(days=4, hour=15))
    booking.cancel_session(session, practitioner)
    html = (
        signed_in(practitioner)
        .get(f"/calendar/?date={week_of(session.start_time, practitioner)}")
        .text
    )
    assert "status-canceled" in event_html(html, session.id)


def test_staff_see_any_practitioner_read_only(
    signed_in, practitioner, staff_user, other_practitioner
):
    session = make_workshop(practitioner, start=future(days=4, hour=15), name="Sound bath")
    web = signed_in(staff_user)
    day = week_of(session.start_time, practitioner)

    html = web.get(f"/calendar/?date={day}&practitioner={practitioner.id}").text
    assert "Sound bath" in html
    assert "Read-only view" in html and 'name="practitioner"' in html
    assert "New session" not in html and "Edit</a>" not in html and 'class="add-on"' not in html
    assert other_practitioner.name in html  # in the picker

    roster = web.get(f"/calendar/sessions/{session.id}").text
    assert "Add client" not in roster and "Cancel this session" not in roster
    assert web.get(f"/calendar/sessions/{session.id}/edit").status_code == 403
    assert web.post(f"/calendar/sessions/{session.id}/cancel").status_code == 403
    assert web.get("/calendar/sessions/new").status_code == 403


def test_practitioners_see_only_their_own_calendar(signed_in, practitioner, other_practitioner):
    theirs = make_workshop(other_practitioner, start=future(days=4, hour=12), name="Not yours")
    web = signed_in(practitioner)
    assert web.get(f"/calendar/?practitioner={other_practitioner.id}").status_code == 404
    assert web.get(f"/calendar/sessions/{theirs.id}").status_code == 404
    assert web.get(f"/calendar/sessions/{theirs.id}/edit").status_code == 404
    assert web.post(f"/calendar/sessions/{theirs.id}/cancel").status_code == 404
    assert web.post(f"/calendar/sessions/{theirs.id}/attendees").status_code == 404
    assert web.post(f"/calendar/sessions/{theirs.id}/attendees/1/remove").status_code == 404
    assert web.get(f"/calendar/sessions?practitioner={other_practitioner.id}").status_code == 404
    html = web.get(f"/calendar/?date={week_of(theirs.start_time, practitioner)}").text
    assert "Not yours" not in html


@pytest.mark.parametrize(
    "url",
    ["/calendar/", "/calendar/month", "/calendar/sessions", "/calendar/sessions/new"],
)
def test_clients_are_refused(signed_in, client_user, url):
    assert signed_in(client_user).get(url).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/calendar/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_week_view_query_count_does_not_grow_with_sessions_or_bookings(
    app, signed_in, practitioner
):
    web = signed_in(practitioner)
    quiet_week = future(days=7, hour=14)
    busy_week = future(days=28, hour=14)
    quiet = make_workshop(practitioner, seats=30, start=quiet_week)
    booking.book_workshop_seat(make_user(Role.CLIENT), quiet)
    for day in range(6):
        for hour in (0, 3, 6):
            session = make_workshop(
                practitioner, seats=30, start=busy_week + timedelta(days=day, hours=hour)
            )
            for _ in range(4):
                booking.book_workshop_seat(make_user(Role.CLIENT), session)

    def statements_for(moment) -> int:
        url = f"/calendar/?date={week_of(moment, practitioner)}"
        # Requests share the test's app context; start each from an empty identity map.
        db.session.remove()
        with count_statements() as statements:
            response = web.get(url)
        assert response.status_code == 200
        return len(statements), response.text

    few, quiet_html = statements_for(quiet_week)
    many, busy_html = statements_for(busy_week)
    assert quiet_html.count('class="event ') == 1
    assert busy_html.count('class="event ') == 18
    assert few == many
    assert many <= 8


@pytest.mark.parametrize(
    "query",
    ["date=9999-12-31", "date=0001-01-01", "date=junk", "page=x", "page=99999999999999999999"],
)
def test_odd_dates_fall_back_to_today(signed_in, practitioner, query):
    web = signed_in(practitioner)
    assert web.get(f"/calendar/?{query}").status_code == 200
    assert web.get(f"/calendar/month?{query}").status_code == 200
    assert web.get(f"/calendar/sessions?{query}").status_code == 200


def test_staff_pick_a_practitioner_for_the_session_lists(
    signed_in, practitioner, other_practitioner, staff_user
):
    make_workshop(practitioner, start=future(days=3), name="Reiki circle")
    make_workshop(other_practitioner, start=future(days=3), name="Tai chi")
    web = signed_in(staff_user)
    html = web.get(f"/calendar/sessions?practitioner={other_practitioner.id}").text
    assert "Tai chi" in html and "Reiki circle" not in html
    assert 'id="practitioner-pick"' in html and 'name="when" value="upcoming"' in html
    html = web.get(f"/calendar/sessions?practitioner={practitioner.id}").text
    assert "Reiki circle" in html and "Tai chi" not in html


def test_a_canceled_session_and_its_replacement_sit_side_by_side(signed_in, practitioner):
    start = future(days=4, hour=15)
    canceled = make_workshop(practitioner, start=start, name="First try")
    booking.cancel_session(canceled, practitioner)
    replacement = make_workshop(practitioner, start=start, name="Second try")
    html = signed_in(practitioner).get(f"/calendar/?date={week_of(start, practitioner)}").text
    lanes = dict(re.findall(r'class="slot [^"]*lane-(\d)">\s*<details[^>]*id="event-(\d+)"', html))
    lanes = {int(session_id): int(lane) for lane, session_id in lanes.items()}
    assert lanes == {canceled.id: 0, replacement.id: 1}


def test_roster_and_course_pages_query_count_does_not_grow(signed_in, practitioner):
    small = make_workshop(practitioner, seats=40, start=future(days=3, hour=14))
    large = make_workshop(practitioner, seats=40, start=future(days=4, hour=14))
    booking.book_workshop_seat(make_user(Role.CLIENT), small)
    for _ in range(15):
        booking.book_workshop_seat(make_user(Role.CLIENT), large)
    small_course = create_course(
        practitioner, [future(days=20, hour=9)], name="Short course", max_participants=10
    )
    large_course = make_course(practitioner, sessions=6)
    booking.enroll_in_course(make_user(Role.CLIENT), small_course)
    for _ in range(5):
        booking.enroll_in_course(make_user(Role.CLIENT), large_course)
    web = signed_in(practitioner)

    def statements(url: str) -> int:
        db.session.remove()
        with count_statements() as seen:
            assert web.get(url).status_code == 200
        return len(seen)

    urls = [
        (f"/calendar/sessions/{small.id}", f"/calendar/sessions/{large.id}"),
        (f"/courses/{small_course.id}", f"/courses/{large_course.id}"),
    ]
    for few, many in urls:
        assert statements(few) == statements(many), (few, many)


def test_busy_times_from_own_calendars_show_greyed_without_titles(signed_in, practitioner):
    # 10:00 on the practitioner's clock: inside the hours the week grid shows.
    day = (
        (datetime.now(practitioner.zone) + timedelta(days=7))
        .replace(hour=10, minute=0, second=0, microsecond=0)
        .astimezone(UTC)
    )
    calendar = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.ICS_URL,
        name="Dentist and family",
        url_secret=encrypt("https://calendar.example/secret.ics"),
    )
    db.session.add(calendar)
    db.session.flush()
    for start, end in [
        (day, day + timedelta(hours=1)),
        # Overlapping: one span, not two.
        (day + timedelta(minutes=30), day + timedelta(hours=1, minutes=30)),
    ]:
        db.session.add(
            ExternalBusyTime(
                calendar_id=calendar.id,
                practitioner_id=practitioner.id,
                start_time=start,
                end_time=end,
            )
        )
    db.session.commit()
    week = signed_in(practitioner).get(f"/calendar/?date={week_of(day, practitioner)}").text
    assert week.count('class="busy-block"') == 2  # the grid and the agenda
    shown_span = (
        f"{local(day, practitioner)}–{local(day + timedelta(hours=1, minutes=30), practitioner)}"
    )
    assert shown_span in week
    assert "Dentist" not in week
    day_page = signed_in(practitioner).get(f"/calendar/day?date={day.date().isoformat()}").text
    assert day_page.count('class="busy-block"') == 1
