"""The worker's calendar readers (#22): due calendars are read on threads of their own,
a slow server holds only its own reader, and every calendar is read once per round."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from portal.crypto import encrypt
from portal.database import utcnow
from portal.extensions import db
from portal.external_calendars.refresher import Refresher
from portal.models import CalendarKind, ExternalCalendar, Role, SyncProblem
from tests.fixtures.factories import make_user

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@t\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
def app_config():
    return {
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
        "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
        "PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS": 3,
        "PORTAL_CALENDAR_THREADS": 2,
    }


@pytest.fixture
def server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def wait_until(done, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, f"gave up waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_slow_server_delays_no_other_calendar(app, server):
    soon = utcnow() + timedelta(days=2)
    fmt = "%Y%m%dT%H%M%SZ"
    body = ICS.format(start=soon.strftime(fmt), end=(soon + timedelta(hours=1)).strftime(fmt))
    release = threading.Event()

    def slow(_request):
        release.wait(10)
        return Response(body)

    server.expect_request("/slow.ics").respond_with_handler(slow)
    server.expect_request("/fast.ics").respond_with_data(body)
    practitioner = make_user(Role.PRACTITIONER)
    due = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    for path in ("/slow.ics", "/fast.ics", "/fast.ics"):
        rows.append(
            ExternalCalendar(
                practitioner_id=practitioner.id,
                kind=CalendarKind.ICS_URL,
                name=path,
                url_secret=encrypt(server.url_for(path)),
                next_refresh_at=due,
            )
        )
        due += timedelta(seconds=1)
    db.session.add_all(rows)
    db.session.commit()
    ids = [r.id for r in rows]

    def refreshed(calendar_id: int) -> ExternalCalendar:
        db.session.rollback()
        return db.session.get(ExternalCalendar, calendar_id)

    refresher = Refresher(app)
    refresher.start()
    try:
        # Two readers: the slow calendar holds one, the two fast ones share the other.
        took = wait_until(
            lambda: all(refreshed(i).refreshed_at for i in ids[1:]), 10, "the fast calendars"
        )
        assert took < 2.5
        assert refreshed(ids[0]).attempted_at is None
        wait_until(lambda: refreshed(ids[0]).attempted_at, 10, "the slow calendar's deadline")
        assert refreshed(ids[0]).problem == SyncProblem.TIMEOUT
        assert refreshed(ids[1]).events_seen == 1
        # Read once: the next read is due in ten minutes.
        assert len([r for r, _ in server.log if r.path == "/fast.ics"]) == 2
    finally:
        release.set()
        refresher.stop()
