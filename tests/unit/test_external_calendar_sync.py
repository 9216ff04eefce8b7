"""Refreshing an ICS subscription from a real HTTP server on 127.0.0.1 (#22): what is
stored, what an unchanged calendar costs, and every way a fetch fails."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from portal.booking.slots import check_bookable
from portal.core.errors import SlotUnavailable
from portal.crypto import encrypt
from portal.extensions import db
from portal.external_calendars.sync import claim_due, refresh, refresh_due
from portal.models import (
    CalendarKind,
    ExternalBusyTime,
    ExternalCalendar,
    Role,
    SyncProblem,
)
from tests.fixtures.factories import make_user, open_all_week

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
        "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
        "PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS": 2,
    }


@pytest.fixture
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def event(uid: str, start: datetime, end: datetime, extra: str = "") -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\n"
        f"DTSTART:{start.strftime(fmt)}\r\nDTEND:{end.strftime(fmt)}\r\n{extra}END:VEVENT\r\n"
    )


def calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


DAY = datetime(2027, 3, 3, tzinfo=UTC)
ONE = calendar(event("a@google.com", DAY.replace(hour=10), DAY.replace(hour=11)))


@pytest.fixture
def practitioner(app):
    user = make_user(Role.PRACTITIONER)
    open_all_week(user)
    db.session.commit()
    return user


def subscribe(practitioner, url: str) -> ExternalCalendar:
    row = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.ICS_URL,
        name="Clinic",
        url_secret=encrypt(url),
        next_refresh_at=NOW,
    )
    db.session.add(row)
    db.session.commit()
    return row


def stored(calendar_id: int) -> list[tuple[datetime, datetime]]:
    db.session.rollback()
    return [
        (b.start_time, b.end_time)
        for b in db.session.query(ExternalBusyTime)
        .filter_by(calendar_id=calendar_id)
        .order_by(ExternalBusyTime.start_time)
    ]


def test_a_refresh_stores_the_busy_times_and_the_status(practitioner, server):
    server.expect_request("/cal.ics").respond_with_data(
        calendar(
            event("a@google.com", DAY.replace(hour=10), DAY.replace(hour=11)),
            event(
                "b@google.com", DAY.replace(hour=14), DAY.replace(hour=15), "TRANSP:TRANSPARENT\r\n"
            ),
            # Beyond the practitioner's 60-day horizon and its margin: not stored.
            event("c@google.com", NOW + timedelta(days=70), NOW + timedelta(days=70, hours=1)),
        ),
        content_type="text/calendar",
        headers={"ETag": '"v1"'},
    )
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    outcome = refresh(row.id, now=NOW)
    assert outcome.problem is None and outcome.stored == 1
    assert stored(row.id) == [(DAY.replace(hour=10), DAY.replace(hour=11))]
    row = db.session.get(ExternalCalendar, row.id)
    assert row.events_seen == 1
    assert row.refreshed_at == NOW and row.attempted_at == NOW
    assert row.next_refresh_at == NOW + timedelta(minutes=10)
    assert row.version_tag == '"v1"'
    assert row.problem is None


def test_an_unchanged_calendar_costs_one_conditional_request(practitioner, server):
    server.expect_request("/cal.ics", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    server.expect_request("/cal.ics").respond_with_data(ONE, headers={"ETag": '"v1"'})
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    refresh(row.id, now=NOW)
    later = NOW + timedelta(minutes=10)
    outcome = refresh(row.id, now=later)
    assert outcome.unchanged
    assert [r.headers.get("If-None-Match") for r, _ in server.log] == [None, '"v1"']
    assert len(stored(row.id)) == 1
    row = db.session.get(ExternalCalendar, row.id)
    assert row.refreshed_at == later


def test_a_tag_is_not_trusted_once_the_stored_times_stop_short_of_the_horizon(practitioner, server):
    server.expect_request("/cal.ics").respond_with_data(ONE, headers={"ETag": '"v1"'})
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    refresh(row.id, now=NOW)
    refresh(row.id, now=NOW + timedelta(days=2))
    assert [r.headers.get("If-None-Match") for r, _ in server.log] == [None, None]


def test_a_changed_calendar_replaces_the_busy_times(practitioner, server):
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    server.expect_oneshot_request("/cal.ics").respond_with_data(ONE)
    refresh(row.id, now=NOW)
    moved = calendar(event("a@google.com", DAY.replace(hour=12), DAY.replace(hour=13)))
    server.expect_oneshot_request("/cal.ics").respond_with_data(moved)
    refresh(row.id, now=NOW + timedelta(minutes=10))
    assert stored(row.id) == [(DAY.replace(hour=12), DAY.replace(hour=13))]


def test_the_portals_own_sessions_never_count_as_busy(practitioner, server):
    server.expect_request("/cal.ics").respond_with_data(
        calendar(
            event("service-session-7@estuary-portal", DAY.replace(hour=9), DAY.replace(hour=10)),
            event("a@google.com", DAY.replace(hour=10), DAY.replace(hour=11)),
        )
    )
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    refresh(row.id, now=NOW)
    assert stored(row.id) == [(DAY.replace(hour=10), DAY.replace(hour=11))]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (Response("down", status=500), SyncProblem.UNREACHABLE),
        (Response("no", status=401), SyncProblem.WRONG_PASSWORD),
        (Response("no", status=403), SyncProblem.WRONG_PASSWORD),
        (Response("gone", status=404), SyncProblem.NOT_FOUND),
        (Response("gone", status=410), SyncProblem.NOT_FOUND),
        (
            Response("<html><body>Sign in</body></html>", content_type="text/html"),
            SyncProblem.NOT_A_CALENDAR,
        ),
        (
            Response("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n"),
            SyncProblem.INVALID_DATA,
        ),
    ],
)
def test_a_failed_fetch_keeps_the_busy_times_and_says_why(practitioner, server, answer, problem):
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    server.expect_oneshot_request("/cal.ics").respond_with_data(ONE)
    refresh(row.id, now=NOW)
    server.expect_oneshot_request("/cal.ics").respond_with_response(answer)
    later = NOW + timedelta(minutes=10)
    outcome = refresh(row.id, now=later)
    assert outcome.problem == problem
    assert len(stored(row.id)) == 1
    row = db.session.get(ExternalCalendar, row.id)
    assert row.problem == problem
    assert row.attempted_at == later and row.refreshed_at == NOW
    assert row.next_refresh_at == later + timedelta(minutes=10)


def test_a_slow_server_is_given_up_at_the_deadline(practitioner, server):
    def slow(_request):
        time.sleep(4)
        return Response(ONE)

    server.expect_request("/cal.ics").respond_with_handler(slow)
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    started = time.monotonic()
    outcome = refresh(row.id, now=NOW)
    assert outcome.problem == SyncProblem.TIMEOUT
    assert time.monotonic() - started < 3.5


def test_a_calendar_over_the_size_cap_is_refused(practitioner, server):
    filler = event(
        "x@big", DAY.replace(hour=1), DAY.replace(hour=2), "DESCRIPTION:" + "x" * 70 + "\r\n"
    )
    big = calendar(*[filler] * (10 * 1024 * 1024 // len(filler) + 10))
    assert len(big) > 10 * 1024 * 1024
    server.expect_request("/cal.ics").respond_with_data(big)
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    assert refresh(row.id, now=NOW).problem == SyncProblem.TOO_LARGE
    assert stored(row.id) == []


def test_a_private_address_is_refused_unless_allowed(app, practitioner, server):
    server.expect_request("/cal.ics").respond_with_data(ONE)
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    assert refresh(row.id, now=NOW).problem == SyncProblem.REFUSED_ADDRESS
    assert server.log == []


def test_two_claims_never_take_the_same_calendar(practitioner, server):
    rows = [subscribe(practitioner, server.url_for(f"/{n}.ics")) for n in range(3)]
    _, first = claim_due(2, now=NOW)
    _, second = claim_due(5, now=NOW)
    assert len(first) == 2 and len(second) == 1
    assert set(first) | set(second) == {r.id for r in rows}
    assert claim_due(5, now=NOW)[1] == []


def test_refresh_due_reads_only_the_calendars_that_are_due(practitioner, server):
    server.expect_request("/cal.ics").respond_with_data(ONE)
    due = subscribe(practitioner, server.url_for("/cal.ics"))
    later = subscribe(practitioner, server.url_for("/cal.ics"))
    later.next_refresh_at = NOW + timedelta(minutes=5)
    db.session.commit()
    outcomes = refresh_due(now=NOW)
    assert [o.calendar_id for o in outcomes] == [due.id]
    assert refresh_due(now=NOW + timedelta(minutes=1)) == []


def test_a_busy_time_stored_between_picking_and_confirming_refuses_the_booking(
    practitioner, server
):
    start = DAY.replace(hour=10)
    row = subscribe(practitioner, server.url_for("/cal.ics"))
    server.expect_oneshot_request("/cal.ics").respond_with_data(calendar())
    refresh(row.id, now=NOW)
    check_bookable(practitioner, start, timedelta(hours=1), now=NOW)  # the client picks it
    server.expect_oneshot_request("/cal.ics").respond_with_data(ONE)
    refresh(row.id, now=NOW + timedelta(minutes=10))  # the worker's next read
    with pytest.raises(SlotUnavailable):
        check_bookable(practitioner, start, timedelta(hours=1), now=NOW)
