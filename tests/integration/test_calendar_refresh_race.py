"""Two clients take the last free slot while a refresh replaces the practitioner's busy
times (#22), on SQLite and PostgreSQL: exactly one booking, and the refresh lands too."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.crypto import encrypt
from portal.database import utcnow
from portal.extensions import db
from portal.external_calendars import sync
from portal.models import Booking, CalendarKind, ExternalBusyTime, ExternalCalendar, ServiceType
from tests.fixtures.concurrency import THREADS, race
from tests.fixtures.factories import future, make_service, make_user

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART:{start:%Y%m%dT%H%M%SZ}
DTEND:{end:%Y%m%dT%H%M%SZ}
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def app_config():
    return {
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
        "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0},
    }


@pytest.mark.parametrize("round_", range(3))
def test_two_clients_and_a_refresh_make_exactly_one_booking(app, practitioner, radicale, round_):
    remote = radicale.make_calendar(f"Personal {uuid.uuid4().hex[:6]}")
    slot = future(days=4, hour=10)
    # The calendar is busy the rest of that morning: the refresh rewrites those rows
    # while the clients race for the one free hour.
    for hours in (1, 2):
        start = slot + timedelta(hours=hours)
        remote.save_event(
            EVENT.format(uid=f"{uuid.uuid4()}@test", start=start, end=start + timedelta(hours=1))
        )
    calendar = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.CALDAV,
        name="Personal",
        url_secret=encrypt(str(remote.url)),
        username=radicale.username,
        password_secret=encrypt(radicale.password),
        # Fresh: the stored rows decide, so the race is between the refresh's
        # replacement and the bookings' checks.
        refreshed_at=utcnow(),
    )
    db.session.add(calendar)
    db.session.commit()
    sync.refresh(calendar.id)
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    clients = [make_user(), make_user()]
    service_id = service.id
    client_ids = [c.id for c in clients]
    calendar_id = calendar.id

    def buy(client_id):
        def attempt():
            booking.book_individual_session(
                db.session.get(type(clients[0]), client_id),
                db.session.get(type(service), service_id),
                slot,
            )

        return attempt

    def refresh():
        assert sync.refresh(calendar_id).problem is None

    outcomes = race(app, [buy(client_ids[0]), buy(client_ids[1]), refresh])
    assert outcomes["ok"] == 2 and outcomes["SlotUnavailable"] == 1, outcomes
    booked = db.session.scalar(select(func.count()).select_from(Booking))
    assert booked == 1
    # The refresh stored its rows whole: both busy hours, not half a calendar.
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(ExternalBusyTime)
            .where(ExternalBusyTime.calendar_id == calendar_id)
        )
        == 2
    )
