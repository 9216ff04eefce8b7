"""The practitioner's sessions written into their receiving CalDAV calendar, a real
Radicale on 127.0.0.1 (#22): a confirmed booking writes the event (the feed's UID), a
move updates it (SEQUENCE up), a cancel deletes it, names only when shared, a wrong
password is retried then shown, and the booking never waits for any of it."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import icalendar
import pytest
from caldav.lib import error as caldav_error
from sqlalchemy import select

from portal import booking
from portal.crypto import encrypt
from portal.database import utcnow
from portal.extensions import db
from portal.external_calendars import connections, sync
from portal.external_calendars.writer import Writer
from portal.external_calendars.writes import event_href, write_due, write_status
from portal.ics import session_uid
from portal.models import CalendarKind, CalendarWrite, ExternalCalendar, ServiceType, SyncProblem
from tests.fixtures.factories import future, make_service, make_user, make_workshop


@pytest.fixture
def app_config():
    return {"PORTAL_WEBHOOKS_ALLOW_PRIVATE": True, "PORTAL_WEBHOOKS_ALLOW_HTTP": True}


@pytest.fixture
def remote(radicale):
    return radicale.make_calendar(f"Practice {uuid.uuid4().hex[:6]}")


def receive_into(practitioner, radicale, remote, *, password=None, share_names=False):
    row = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=CalendarKind.CALDAV,
        name="Practice",
        url_secret=encrypt(str(remote.url)),
        username=radicale.username,
        password_secret=encrypt(password or radicale.password),
        receives_bookings=True,
        share_attendee_names=share_names,
        blocks_time=False,
    )
    db.session.add(row)
    db.session.commit()
    return row


def one_on_one(practitioner, client_user, start=None):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, name="Massage")
    order = booking.book_individual_session(client_user, service, start or future(days=5))
    booking.confirm_payment(order)
    return order.bookings[0]


def remote_event(remote, session) -> icalendar.Event | None:
    try:
        found = remote.event_by_uid(session_uid(session))
    except caldav_error.NotFoundError:
        return None
    [event] = icalendar.Calendar.from_ical(found.data).walk("VEVENT")
    return event


def rows(calendar_id: int) -> list[CalendarWrite]:
    db.session.rollback()
    return list(
        db.session.scalars(select(CalendarWrite).where(CalendarWrite.calendar_id == calendar_id))
    )


def test_a_confirmed_booking_is_written_with_the_feeds_uid(
    app, practitioner, client_user, radicale, remote
):
    calendar = receive_into(practitioner, radicale, remote)
    seat = one_on_one(practitioner, client_user)
    session = seat.service_session
    # The booking's own transaction wrote the outbox row; nothing was sent yet.
    [row] = rows(calendar.id)
    assert row.version > row.written_version and remote_event(remote, session) is None

    assert write_due().written == 1
    event = remote_event(remote, session)
    assert str(event["UID"]) == f"service-session-{session.id}@estuary-portal"
    assert event["DTSTART"].dt == session.start_time
    assert int(event["SEQUENCE"]) == session.revision
    assert "Massage" in str(event["SUMMARY"])
    # Names stay out unless the practitioner shares them; no ATTENDEE at all (a
    # scheduling server would mail the client).
    assert client_user.name not in event.to_ical().decode()
    assert "ATTENDEE" not in event
    [row] = rows(calendar.id)
    assert row.on_server and row.written_version == row.version
    # Nothing left to do: a second run sends nothing.
    assert write_due().written == 0


def test_a_moved_session_is_updated_with_a_higher_sequence(
    app, practitioner, client_user, radicale, remote
):
    receive_into(practitioner, radicale, remote)
    seat = one_on_one(practitioner, client_user)
    write_due()
    first = remote_event(remote, seat.service_session)

    moved = booking.reschedule_booking(seat, practitioner, future(days=6, hour=14))
    assert write_due().written == 1
    event = remote_event(remote, moved)
    assert event["DTSTART"].dt == future(days=6, hour=14)
    assert int(event["SEQUENCE"]) > int(first["SEQUENCE"])
    # The same resource was replaced, not a second one added.
    assert len(remote.events()) == 1


def test_a_canceled_one_on_one_is_deleted(app, practitioner, client_user, radicale, remote):
    receive_into(practitioner, radicale, remote)
    seat = one_on_one(practitioner, client_user)
    write_due()
    booking.cancel_booking(seat, practitioner)
    assert write_due().deleted == 1
    assert remote_event(remote, seat.service_session) is None


def test_a_workshop_stays_while_a_seat_is_confirmed_and_goes_when_canceled(
    app, practitioner, radicale, remote
):
    calendar = receive_into(practitioner, radicale, remote, share_names=True)
    session = make_workshop(practitioner, seats=5)
    # A session nobody booked is not in the calendar.
    assert rows(calendar.id) == []
    ana, ben = make_user(name="Ana Lima"), make_user(name="Ben Ode")
    for person in (ana, ben):
        booking.confirm_payment(booking.book_workshop_seat(person, session))
    write_due()
    text = remote_event(remote, session).to_ical().decode().replace("\r\n ", "")
    assert "Ana Lima" in text and "Ben Ode" in text

    booking.cancel_session(session, practitioner)
    assert write_due().deleted == 1
    assert remote_event(remote, session) is None


def test_a_burst_of_changes_costs_one_write(app, practitioner, radicale, remote):
    calendar = receive_into(practitioner, radicale, remote)
    session = make_workshop(practitioner, seats=5)
    for _ in range(3):
        booking.confirm_payment(booking.book_workshop_seat(make_user(), session))
    [row] = rows(calendar.id)
    assert row.version >= 3
    assert write_due().written == 1


def test_a_calendar_that_starts_receiving_gets_the_sessions_already_booked(
    app, practitioner, client_user, radicale, remote
):
    seat = one_on_one(practitioner, client_user)
    calendar = receive_into(practitioner, radicale, remote)
    calendar.receives_bookings = False
    db.session.commit()
    assert write_due().written == 0
    connections.update_calendar(
        calendar, blocks_time=False, receives_bookings=True, share_attendee_names=True
    )
    assert write_due().written == 1
    assert client_user.name in remote_event(remote, seat.service_session).to_ical().decode()


def test_a_wrong_password_is_retried_with_backoff_and_shown(
    app, signed_in, practitioner, client_user, radicale, remote
):
    calendar = receive_into(practitioner, radicale, remote, password="wrong")
    # The booking itself neither waits for the calendar nor fails because of it.
    seat = one_on_one(practitioner, client_user)
    assert seat.status.value == "confirmed"

    assert write_due().failed == 1
    [row] = rows(calendar.id)
    assert row.problem == SyncProblem.WRONG_PASSWORD and row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    # Not due again before its backoff ends.
    assert write_due().failed == 0
    assert write_due(now=row.next_attempt_at + timedelta(seconds=1)).failed == 1
    [row] = rows(calendar.id)
    assert row.attempts == 2 and row.next_attempt_at > utcnow() + timedelta(seconds=50)

    status = write_status([calendar.id])[calendar.id]
    assert status.failing == 1 and status.problem == SyncProblem.WRONG_PASSWORD
    page = signed_in(practitioner).get("/settings/calendars/")
    assert "could not be written" in page.text
    assert str(SyncProblem.WRONG_PASSWORD.label) in page.text

    # The password fixed, "refresh now" makes the failed write due at once.
    db.session.get(ExternalCalendar, calendar.id).password_secret = encrypt(radicale.password)
    db.session.commit()
    sync.request_refresh(db.session.get(ExternalCalendar, calendar.id))
    assert write_due().written == 1
    [row] = rows(calendar.id)
    assert row.problem is None and row.attempts == 0
    assert remote_event(remote, seat.service_session) is not None


def test_the_event_is_named_by_its_uid_under_the_calendar(app):
    assert (
        event_href("https://dav.example/cal/", "service-session-5@estuary-portal")
        == "https://dav.example/cal/service-session-5@estuary-portal.ics"
    )


def test_the_portals_own_event_never_blocks_its_slot(
    app, practitioner, client_user, radicale, remote
):
    """Written into a calendar that also blocks time, the session is read back and
    recognised by its UID: it does not block itself (or a move to a nearby time)."""
    calendar = receive_into(practitioner, radicale, remote)
    calendar.blocks_time = True
    db.session.commit()
    one_on_one(practitioner, client_user)
    write_due()
    outcome = sync.refresh(calendar.id)
    assert outcome.problem is None and outcome.stored == 0
    assert db.session.get(ExternalCalendar, calendar.id).events_seen == 1


def test_the_workers_writer_thread_writes_what_falls_due(
    app, practitioner, client_user, radicale, remote
):
    receive_into(practitioner, radicale, remote)
    seat = one_on_one(practitioner, client_user)
    db.session.commit()
    writer = Writer(app)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while remote_event(remote, seat.service_session) is None:
            assert time.monotonic() < deadline, "the writer never wrote the session"
            time.sleep(0.1)
    finally:
        writer.stop()
    assert not writer.running
