"""ICS documents for calendar subscriptions (Google, Apple, Outlook)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...database import utcnow
from ...extensions import db
from ...ics import new_calendar, session_event
from ...models import (
    SEAT_HOLDING,
    Booking,
    ServiceSession,
    SessionStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)

PAST_DAYS = 180


def _practitioner_events(user: User):
    sessions = db.session.scalars(
        select(ServiceSession)
        .where(
            ServiceSession.practitioner_id == user.id,
            ServiceSession.start_time.is_not(None),
            ServiceSession.end_time > utcnow() - timedelta(days=PAST_DAYS),
        )
        .options(
            selectinload(ServiceSession.service),
            selectinload(ServiceSession.bookings).selectinload(Booking.user),
        )
        .order_by(ServiceSession.start_time)
    )
    for session in sessions:
        attendees = [b.user.name for b in session.bookings if b.status in SEAT_HOLDING]
        description = (
            f"{session.service.service_type.label.capitalize()} · "
            f"{session.current_participants}/{session.max_participants} seats taken"
        )
        if attendees:
            description += "\nAttendees: " + ", ".join(attendees)
        yield session, session.status == SessionStatus.CANCELED, description


def _client_events(user: User):
    bookings = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == user.id,
            ServiceSession.start_time.is_not(None),
            ServiceSession.end_time > utcnow() - timedelta(days=PAST_DAYS),
            # A waitlist offer becomes an event when it is taken, not before.
            Booking.order_id.not_in(
                select(WaitlistEntry.order_id).where(
                    WaitlistEntry.user_id == user.id,
                    WaitlistEntry.order_id.is_not(None),
                    WaitlistEntry.status != WaitlistStatus.CLAIMED,
                )
            ),
        )
        .options(
            selectinload(Booking.service_session).selectinload(ServiceSession.service),
            selectinload(Booking.service_session).selectinload(ServiceSession.practitioner),
        )
        .order_by(Booking.id)
    ).all()
    # A person may have canceled and rebooked one session: the live seat wins.
    by_session: dict[int, Booking] = {}
    for seat in bookings:
        kept = by_session.get(seat.service_session_id)
        if kept is None or seat.status in SEAT_HOLDING:
            by_session[seat.service_session_id] = seat
    for seat in sorted(by_session.values(), key=lambda b: b.service_session.start_time):
        session = seat.service_session
        canceled = session.status == SessionStatus.CANCELED or seat.status not in SEAT_HOLDING
        description = f"With {session.practitioner.name} · booking {seat.status.label}"
        yield session, canceled, description


def build_feed(user: User) -> bytes:
    calendar = new_calendar("PUBLISH", "Calendar feed")
    # How often subscribers should refetch (Apple reads the first, Outlook the second).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("x-wr-calname", f"Estuary · {user.name}")
    events = _practitioner_events(user) if user.is_practitioner else _client_events(user)
    for session, canceled, description in events:
        calendar.add_component(session_event(session, canceled=canceled, description=description))
    calendar.add_missing_timezones()
    return calendar.to_ical()
