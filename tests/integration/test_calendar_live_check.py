"""The live check at booking (#22): a CalDAV calendar whose stored busy times are stale
is asked directly for the chosen slot (a real Radicale on 127.0.0.1). An event added
since the last refresh refuses the slot with the picker again; a fresh cache is not
asked; a server that fails leaves the stored busy times to decide."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest

from portal import booking
from portal.crypto import encrypt
from portal.database import utcnow
from portal.extensions import db
from portal.models import CalendarKind, ExternalCalendar, Order, ServiceType
from tests.fixtures.factories import future, make_service

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART:{start:%Y%m%dT%H%M%SZ}
DTEND:{end:%Y%m%dT%H%M%SZ}
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def app_config():
    return {"PORTAL_WEBHOOKS_ALLOW_PRIVATE": True, "PORTAL_WEBHOOKS_ALLOW_HTTP": True}


@pytest.fixture
def remote(radicale):
    return radicale.make_calendar(f"Personal {uuid.uuid4().hex[:6]}")


def connect(practitioner, radicale, remote, *, refreshed_ago, password=None):
    row = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.CALDAV,
        name="Personal",
        url_secret=encrypt(str(remote.url)),
        username=radicale.username,
        password_secret=encrypt(password or radicale.password),
        refreshed_at=utcnow() - refreshed_ago,
        next_refresh_at=utcnow() + timedelta(minutes=10),
    )
    db.session.add(row)
    db.session.commit()
    return row


def busy_at(remote, start, minutes=30):
    remote.save_event(
        EVENT.format(
            uid=f"{uuid.uuid4()}@test", start=start, end=start + timedelta(minutes=minutes)
        )
    )


def test_an_event_added_since_the_refresh_refuses_the_slot(
    app, practitioner, client_user, radicale, remote
):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = future(days=4, hour=10)
    connect(practitioner, radicale, remote, refreshed_ago=timedelta(hours=1))
    # Added after the last refresh: the stored busy times know nothing of it.
    busy_at(remote, start + timedelta(minutes=15))
    with pytest.raises(booking.SlotUnavailable):
        booking.book_individual_session(client_user, service, start)
    assert db.session.query(Order).count() == 0
    # Another time that day is free.
    booking.book_individual_session(client_user, service, start + timedelta(hours=3))


def test_the_buy_page_says_so_and_shows_the_chosen_day_without_that_time(
    app, signed_in, practitioner, client_user, radicale, remote
):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = future(days=4, hour=10)
    calendar = connect(practitioner, radicale, remote, refreshed_ago=timedelta(hours=1))
    busy_at(remote, start)
    web = signed_in(client_user)
    # As the picker's slot button posts it. With the page's purchase token, the purchase
    # runs inside the key's transaction: the view asks the calendar before it.
    page = web.post(
        f"/book/services/{service.id}/buy",
        data={
            "start": start.isoformat(),
            "day": start.date().isoformat(),
            "purchase_token": uuid.uuid4().hex,
        },
    )
    assert page.status_code == 409
    assert "That time is no longer available." in page.text
    assert db.session.query(Order).count() == 0
    # The picker again on the day the client chose: what the calendar said is kept, so
    # the refused time is not offered again, and the rest of the day still is.
    assert f'value="{start.isoformat()}"' not in page.text
    assert f'value="{(start + timedelta(hours=3)).isoformat()}"' in page.text
    db.session.expire_all()
    assert db.session.get(ExternalCalendar, calendar.id).next_refresh_at <= utcnow()
    # The next client is refused by the stored busy times, with no call to the calendar.
    with pytest.raises(booking.SlotUnavailable):
        booking.check_bookable(practitioner, start, timedelta(minutes=60), service=service)


def test_a_fresh_cache_is_trusted_without_asking(app, practitioner, client_user, radicale, remote):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = future(days=4, hour=10)
    connect(practitioner, radicale, remote, refreshed_ago=timedelta(seconds=10))
    busy_at(remote, start)
    # Read 10 s ago, within PORTAL_CALENDAR_LIVE_CHECK_SECONDS: the stored (empty) busy
    # times decide; the next refresh will block the slot for everyone else.
    booking.book_individual_session(client_user, service, start)


def test_a_failing_server_falls_back_to_the_cache_and_logs_it(
    app, practitioner, client_user, radicale, remote, caplog
):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = future(days=4, hour=10)
    calendar = connect(
        practitioner, radicale, remote, refreshed_ago=timedelta(hours=1), password="wrong"
    )
    busy_at(remote, start)
    with caplog.at_level(logging.WARNING, logger="portal.external_calendars.live"):
        booking.book_individual_session(client_user, service, start)
    assert f"live check of calendar {calendar.id} failed" in caplog.text
    assert "using its stored busy times" in caplog.text


def test_a_moved_session_is_checked_live_too(app, practitioner, client_user, radicale, remote):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    order = booking.book_individual_session(client_user, service, future(days=4, hour=10))
    connect(practitioner, radicale, remote, refreshed_ago=timedelta(hours=1))
    target = future(days=5, hour=9)
    busy_at(remote, target)
    with pytest.raises(booking.SlotUnavailable):
        booking.reschedule_booking(order.bookings[0], client_user, target)
