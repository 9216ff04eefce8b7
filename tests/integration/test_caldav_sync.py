"""CalDAV accounts against a real server (Radicale on 127.0.0.1): discovery, busy times,
the CTag skip, a wrong password and a deleted calendar (#22)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal.crypto import encrypt
from portal.extensions import db
from portal.external_calendars.fetch import FetchFailed, discover_caldav
from portal.external_calendars.sync import refresh
from portal.models import CalendarKind, ExternalBusyTime, ExternalCalendar, Role, SyncProblem
from portal.webhooks_out import addresses
from tests.fixtures.factories import make_user

NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def app_config():
    return {"PORTAL_WEBHOOKS_ALLOW_PRIVATE": True, "PORTAL_WEBHOOKS_ALLOW_HTTP": True}


WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/Berlin:20270301T100000
DTEND;TZID=Europe/Berlin:20270301T110000
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=Europe/Berlin:20270308T100000
END:VEVENT
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20270315T100000
DTSTART;TZID=Europe/Berlin:20270315T140000
DTEND;TZID=Europe/Berlin:20270315T150000
END:VEVENT
END:VCALENDAR
"""

OWN = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Estuary Portal//test//EN
BEGIN:VEVENT
UID:service-session-1@estuary-portal
DTSTAMP:20270101T000000Z
DTSTART:20270302T090000Z
DTEND:20270302T100000Z
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def remote(radicale):
    calendar = radicale.make_calendar(f"Clinic {uuid.uuid4().hex[:6]}")
    calendar.save_event(WEEKLY.format(uid=f"{uuid.uuid4()}@test"))
    calendar.save_event(OWN)
    return calendar


def connect(radicale, calendar_url: str, password: str | None = None) -> ExternalCalendar:
    practitioner = make_user(Role.PRACTITIONER, timezone="Europe/Berlin")
    row = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.CALDAV,
        name="Clinic",
        url_secret=encrypt(calendar_url),
        username=radicale.username,
        password_secret=encrypt(password or radicale.password),
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


def test_discovery_lists_the_accounts_calendars(app, radicale, remote):
    found = discover_caldav(radicale.url, radicale.username, radicale.password, timeout=10)
    assert str(remote.url) in {c.url for c in found}
    assert remote.get_display_name() in {c.name for c in found}


def test_discovery_with_a_wrong_password_says_so(app, radicale):
    with pytest.raises(FetchFailed) as failed:
        discover_caldav(radicale.url, radicale.username, "wrong", timeout=10)
    assert failed.value.problem == SyncProblem.WRONG_PASSWORD


def test_a_refresh_reads_the_series_with_its_exception_and_moved_instance(app, radicale, remote):
    row = connect(radicale, str(remote.url))
    outcome = refresh(row.id, now=NOW)
    assert outcome.problem is None
    hour = timedelta(hours=1)
    # Berlin is UTC+1 in March until the 28th: 10:00 is 09:00 UTC; the 8th is excluded,
    # the 15th moved to 14:00; the portal's own session is not busy.
    assert stored(row.id) == [
        (datetime(2027, 3, 1, 9, tzinfo=UTC), datetime(2027, 3, 1, 9, tzinfo=UTC) + hour),
        (datetime(2027, 3, 15, 13, tzinfo=UTC), datetime(2027, 3, 15, 13, tzinfo=UTC) + hour),
        (datetime(2027, 3, 22, 9, tzinfo=UTC), datetime(2027, 3, 22, 9, tzinfo=UTC) + hour),
    ]
    row = db.session.get(ExternalCalendar, row.id)
    assert row.version_tag and row.events_seen == 4


def test_an_unchanged_calendar_is_skipped_by_its_ctag(app, radicale, remote):
    row = connect(radicale, str(remote.url))
    refresh(row.id, now=NOW)
    assert refresh(row.id, now=NOW + timedelta(minutes=10)).unchanged
    remote.save_event(OWN.replace("service-session-1@estuary-portal", "dentist@test"))
    outcome = refresh(row.id, now=NOW + timedelta(minutes=20))
    assert not outcome.unchanged
    assert len(stored(row.id)) == 4


def test_a_wrong_password_is_reported(app, radicale, remote):
    row = connect(radicale, str(remote.url), password="wrong")
    assert refresh(row.id, now=NOW).problem == SyncProblem.WRONG_PASSWORD


def test_a_deleted_calendar_is_reported_not_found(app, radicale, remote):
    row = connect(radicale, str(remote.url))
    refresh(row.id, now=NOW)
    remote.delete()
    assert refresh(row.id, now=NOW + timedelta(minutes=10)).problem == SyncProblem.NOT_FOUND
    assert len(stored(row.id)) == 3


def test_the_client_connects_to_the_address_that_was_checked(app, radicale, remote, monkeypatch):
    """The name is looked up once, by the portal's check; the library connects to that
    address (no second lookup a rebinding name could answer differently). This name
    exists nowhere but in the check's answer."""
    real = addresses.resolver.addresses

    def checked(host, port, deadline):
        return ["127.0.0.1"] if host == "calendar.test" else real(host, port, deadline)

    monkeypatch.setattr(addresses.resolver, "addresses", checked)
    url = radicale.url.replace("127.0.0.1", "calendar.test")
    found = discover_caldav(url, radicale.username, radicale.password, timeout=10)
    assert remote.get_display_name() in {c.name for c in found}
