"""The attendance blueprint through the test client: what staff, practitioners and
clients see, the CSV exports, and the report's query count."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from portal import booking
from portal.extensions import db
from portal.models import AttendanceOutcome, AttendanceStatus, Role
from tests.fixtures.attendance import book_past_session, finish, join, past
from tests.fixtures.factories import make_user


def report_url(client, **params):
    today = datetime.now(UTC).date()
    params.setdefault("start", (today - timedelta(days=30)).isoformat())
    params.setdefault("end", today.isoformat())
    return "/attendance/reports/no-shows?" + "&".join(f"{k}={v}" for k, v in params.items())


def parse_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@contextmanager
def counted_queries():
    statements: list[str] = []
    # The test client shares the test's session: start each measured request cold.
    db.session.expire_all()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_staff_sees_every_practitioner_in_the_report(client, signed_in, staff_user, report_world):
    signed_in(staff_user)
    html = client.get(report_url(client)).get_data(as_text=True)

    assert "Workshop A" in html and "Workshop B" in html
    assert "Quinn Practitioner" in html  # the practitioner filter and the service rows
    assert '<svg viewBox="0 0 720 260" class="chart-svg" role="img"' in html
    assert '<title id="noshow-chart-title">No-show rate per week</title>' in html
    assert "repeat no-show" in html  # Ben
    assert "<strong>4</strong> no-shows of <strong>8</strong> confirmed seats" in html
    assert "<strong>1</strong> late cancels" in html


def test_staff_filters_to_one_practitioner(client, signed_in, staff_user, report_world):
    signed_in(staff_user)
    html = client.get(report_url(client, practitioner=report_world.quinn.id)).get_data(as_text=True)
    assert "Workshop B" in html and "Workshop A</td>" not in html
    assert "<strong>1</strong> no-shows of <strong>2</strong> confirmed seats" in html


def test_practitioner_sees_only_their_own(client, signed_in, report_world):
    w = report_world
    signed_in(w.pia)
    html = client.get(report_url(client)).get_data(as_text=True)
    assert "Workshop A" in html and "Workshop B" not in html
    assert 'name="practitioner"' not in html
    assert "<strong>3</strong> no-shows of <strong>6</strong> confirmed seats" in html

    for params in ({"service": w.workshop_b.id}, {"practitioner": w.quinn.id}):
        refused = client.get(report_url(client, **params))
        assert refused.status_code == 200
        assert "Not a valid choice" in refused.get_data(as_text=True)
        assert "Workshop B" not in refused.get_data(as_text=True)

    assert client.get(f"/attendance/sessions/{w.sessions['B1'].id}").status_code == 404
    assert client.get(f"/attendance/sessions/{w.sessions['A1'].id}").status_code == 200
    csv_rows = parse_csv(client.get(report_url(client).replace("no-shows?", "no-shows.csv?")))
    assert {r["client"] for r in csv_rows} == {"Ana", "Ben", "Cleo", "Dan"}
    assert sum(int(r["booked"]) for r in csv_rows) == 6


def test_clients_are_refused(client, signed_in, report_world):
    signed_in(report_world.ana)
    for url in (
        report_url(client),
        "/attendance/",
        f"/attendance/sessions/{report_world.sessions['A1'].id}",
        "/attendance/courses",
    ):
        assert client.get(url).status_code == 403, url
    home = client.get("/").get_data(as_text=True)
    assert "/attendance/reports/no-shows" not in home


def test_nav_links_for_staff(client, signed_in, staff_user):
    signed_in(staff_user)
    html = client.get("/").get_data(as_text=True)
    assert 'href="/attendance/">Attendance</a>' in html
    assert 'href="/attendance/reports/no-shows">Reports</a>' in html


def test_htmx_swap_returns_only_the_report_fragment(client, signed_in, staff_user, report_world):
    signed_in(staff_user)
    response = client.get(
        report_url(client, sort="name", dir="asc"), headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="noshow-report"')
    assert "<html" not in html
    clients_table = html[html.index('id="by-client"') :]
    assert clients_table.index(">Ana") < clients_table.index(">Ben") < clients_table.index(">Dan")
    assert 'aria-sort="ascending"' in html
    # Sort links keep the filters in the URL they push.
    assert 'hx-push-url="true"' in html and "sort=rate" in html and "start=" in html


def test_csv_matches_the_report(client, signed_in, staff_user, report_world):
    signed_in(staff_user)
    url = report_url(client).replace("no-shows?", "no-shows.csv?")
    response = client.get(url + "&per=client")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = {r["client"]: r for r in parse_csv(response)}
    assert {
        k: (r["booked"], r["attended"], r["no_shows"], r["late_cancels"]) for k, r in rows.items()
    } == {
        "Ana": ("3", "2", "1", "0"),
        "Ben": ("2", "0", "2", "0"),
        "Cleo": ("2", "1", "1", "0"),
        "Dan": ("1", "1", "0", "1"),
    }
    assert rows["Ben"]["repeat_no_show"] == "yes" and rows["Ben"]["no_show_rate_percent"] == "100.0"
    assert rows["Ana"]["email"] == report_world.ana.email

    services = parse_csv(client.get(url + "&per=service"))
    assert "repeat_no_show" not in services[0]
    assert [(r["service"], r["practitioner"], r["no_show_rate_percent"]) for r in services] == [
        ("Workshop A", "Pia Practitioner", "50.0"),
        ("Workshop B", "Quinn Practitioner", "50.0"),
    ]


def test_bad_filters_are_explained_not_crashed(client, signed_in, staff_user, report_world):
    signed_in(staff_user)
    for params in ({"start": "not-a-date"}, {"sort": "password"}, {"practitioner": "x"}):
        response = client.get(report_url(client, **params))
        assert response.status_code == 200
        assert "Fix the filters above" in response.get_data(as_text=True)
    reversed_range = client.get(report_url(client, start="2026-05-01", end="2026-04-01"))
    assert "The end date is before the start date." in reversed_range.get_data(as_text=True)
    csv_bad = client.get("/attendance/reports/no-shows.csv?start=nope")
    assert csv_bad.status_code == 400


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_dates_at_the_calendars_ends_are_explained_not_crashed(
    client, signed_in, practitioner, day, zone
):
    practitioner.timezone = zone
    db.session.commit()
    signed_in(practitioner)
    page = client.get(report_url(client, start=day, end=day))
    assert page.status_code == 200
    assert "Pick a date between 2000 and 2200." in page.get_data(as_text=True)
    csv_bad = client.get(f"/attendance/reports/no-shows.csv?start={day}&end={day}")
    assert csv_bad.status_code == 400


def test_report_query_count_does_not_grow_with_data(client, signed_in, staff_user, practitioner):
    signed_in(staff_user)
    first = [make_user() for _ in range(2)]
    session = book_past_session(practitioner, first, past(3))
    join(session, first[0], 0, 30)
    finish(session)
    url = report_url(client)
    client.get(url)
    with counted_queries() as small:
        assert client.get(url).status_code == 200

    more = [make_user() for _ in range(12)]
    for days in (4, 5, 6, 8, 9):
        session = book_past_session(practitioner, more, past(days))
        for user in more[::2]:
            join(session, user, 0, 50)
            join(session, user, 52, 58)
        finish(session)
    with counted_queries() as large:
        html = client.get(url).get_data(as_text=True)
    assert "<strong>31</strong> no-shows of <strong>62</strong>" in html
    assert len(large) == len(small) <= 8


def test_session_page_shows_outcomes_marks_and_unbooked(client, signed_in, practitioner):
    ana, ben, cleo = (make_user(name=n) for n in ("Ana Late", "Ben Early", "Cleo Never"))
    session = book_past_session(practitioner, [ana, ben, cleo], past(2))
    join(session, practitioner, 0, 60, kind="host")
    join(session, ana, 20, 60)
    join(session, ben, 0, 20)
    join(session, None, 5, 15, kind="unbooked", name="Mystery Guest")
    finish(session)

    signed_in(practitioner)
    html = client.get(f"/attendance/sessions/{session.id}").get_data(as_text=True)
    assert "Ana Late" in html and "late join" in html
    assert "Ben Early" in html and "left early" in html
    assert "never joined" in html
    assert "Mystery Guest" in html
    assert html.count('class="badge outcome-no_show"') == 1
    assert html.count('class="badge outcome-attended"') == 2
    assert html.count('action="/attendance/bookings/') == 3


def test_override_form_records_the_change(client, auth, signed_in, practitioner):
    cleo = make_user(name="Cleo Phone")
    session = finish(book_past_session(practitioner, [cleo], past(2)))
    seat = session.bookings[0]
    signed_in(practitioner)

    missing_reason = client.post(
        f"/attendance/bookings/{seat.id}/outcome", data={"outcome": "attended", "reason": ""}
    )
    assert missing_reason.status_code == 302
    assert db.session.get(AttendanceOutcome, 1).outcome == AttendanceStatus.NO_SHOW

    response = client.post(
        f"/attendance/bookings/{seat.id}/outcome",
        data={"outcome": "attended", "reason": "Joined by phone"},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Attendance of Cleo Phone set to attended." in html
    assert "“Joined by phone”" in html and "room data: no show" in html

    other = make_user(Role.PRACTITIONER)
    auth.logout()
    signed_in(other)
    refused = client.post(
        f"/attendance/bookings/{seat.id}/outcome", data={"outcome": "no_show", "reason": "x"}
    )
    assert refused.status_code == 404
    db.session.expire_all()
    assert db.session.get(AttendanceOutcome, 1).outcome == AttendanceStatus.ATTENDED


def test_attendance_index_lists_own_sessions_with_counts(client, signed_in, report_world):
    signed_in(report_world.pia)
    html = client.get("/attendance/").get_data(as_text=True)
    assert html.count("Workshop A</a>") == 2
    assert "Workshop B" not in html


def test_course_completion_page_and_csv(client, signed_in, staff_user, course_world):
    signed_in(staff_user)
    course = course_world.course
    listing = client.get("/attendance/courses").get_data(as_text=True)
    assert "Mindful Course" in listing
    html = client.get(f"/attendance/courses/{course.id}").get_data(as_text=True)
    assert "Ana Course" in html and "100%" in html and "33%" in html

    response = client.get(f"/attendance/courses/{course.id}/completion.csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = [
        (r["client"], r["attended"], r["completed_sessions"], r["completion_percent"])
        for r in parse_csv(response)
    ]
    assert rows == [
        ("Ana Course", "3", "3", "100.0"),
        ("Ben Course", "1", "3", "33.3"),
        ("Cleo Course", "0", "3", "0.0"),
    ]


def test_course_pages_are_scoped_to_the_practitioner(client, signed_in, course_world):
    other = make_user(Role.PRACTITIONER)
    signed_in(other)
    assert client.get(f"/attendance/courses/{course_world.course.id}").status_code == 404
    assert (
        client.get(f"/attendance/courses/{course_world.course.id}/completion.csv").status_code
        == 404
    )
    assert "Mindful Course" not in client.get("/attendance/courses").get_data(as_text=True)


def test_session_page_lists_late_cancels_and_its_query_count_is_fixed(
    client, signed_in, practitioner
):
    few = [make_user(name=f"Few {i}") for i in range(2)]
    small = book_past_session(practitioner, few, past(2))
    join(small, few[0], 0, 60)
    finish(small)
    many = [make_user(name=f"Many {i}") for i in range(15)]
    large = book_past_session(practitioner, many, past(3))
    from portal import booking

    booking.cancel_booking(
        large.bookings[-1],
        practitioner,
        client_requested=True,
        now=large.start_time - timedelta(hours=1),
    )
    for user in many[:10]:
        join(large, user, 0, 20)
        join(large, user, 25, 60)
    join(large, None, 1, 2, kind="unbooked", name="Walk-in")
    finish(large)
    signed_in(practitioner)

    client.get(f"/attendance/sessions/{small.id}")
    with counted_queries() as few_queries:
        client.get(f"/attendance/sessions/{small.id}")
    with counted_queries() as many_queries:
        html = client.get(f"/attendance/sessions/{large.id}").get_data(as_text=True)
    assert "Late cancels" in html and "Many 14 · canceled" in html
    assert html.count('class="badge outcome-attended"') == 10
    assert html.count('class="badge outcome-no_show"') == 4
    assert len(many_queries) == len(few_queries)


def test_a_session_whose_room_ran_before_the_scheduled_start_is_listed(
    client, signed_in, practitioner
):
    ana = make_user(name="Ana Early")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=8)
    session = book_past_session(practitioner, [ana], start)
    opened = start - timedelta(minutes=9)
    booking.start_session(session, at=opened)
    booking.complete_session(session, at=opened + timedelta(minutes=5))

    signed_in(practitioner)
    html = client.get("/attendance/").get_data(as_text=True)
    assert f'/attendance/sessions/{session.id}">{session.display_title}</a>' in html
    assert "No session has started yet." not in html
