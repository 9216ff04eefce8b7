"""Connecting and disconnecting a practitioner's calendars: the writes behind the
settings pages. Credentials are encrypted before they reach the database and are never
read back out for display; disconnecting deletes them with the calendar's busy times."""

from __future__ import annotations

import logging

from sqlalchemy import delete, update

from ..crypto import encrypt
from ..database import utcnow, write_transaction
from ..extensions import db
from ..models import CalendarKind, ExternalBusyTime, ExternalCalendar, User
from .fetch import FoundCalendar, http_url
from .writes import queue_future_sessions

log = logging.getLogger(__name__)


def calendars_of(practitioner: User) -> list[ExternalCalendar]:
    return list(
        db.session.scalars(
            db.select(ExternalCalendar)
            .where(ExternalCalendar.practitioner_id == practitioner.id)
            .order_by(ExternalCalendar.created_at, ExternalCalendar.id)
        )
    )


def add_ics_calendar(practitioner: User, name: str, url: str) -> ExternalCalendar:
    """Subscribe to an ICS address; the worker reads it at once (due now)."""
    with write_transaction():
        calendar = ExternalCalendar(
            practitioner_id=practitioner.id,
            kind=CalendarKind.ICS_URL,
            name=name,
            url_secret=encrypt(http_url(url)),
            next_refresh_at=utcnow(),
        )
        db.session.add(calendar)
        db.session.flush()
    log.info("practitioner %s subscribed to ICS calendar %s", practitioner.id, calendar.id)
    return calendar


def add_caldav_calendars(
    practitioner: User, username: str, password: str, found: list[FoundCalendar]
) -> list[ExternalCalendar]:
    """One row per calendar of the account (discovered with these credentials), each
    blocking time until the practitioner says otherwise; the first receives bookings
    if none of the practitioner's calendars does yet."""
    with write_transaction():
        has_receiver = db.session.scalar(
            db.select(ExternalCalendar.id).where(
                ExternalCalendar.practitioner_id == practitioner.id,
                ExternalCalendar.receives_bookings,
            )
        )
        added = []
        for index, remote in enumerate(found):
            calendar = ExternalCalendar(
                practitioner_id=practitioner.id,
                kind=CalendarKind.CALDAV,
                name=remote.name[:200],
                url_secret=encrypt(remote.url),
                username=username,
                password_secret=encrypt(password),
                receives_bookings=index == 0 and has_receiver is None,
                next_refresh_at=utcnow(),
            )
            db.session.add(calendar)
            added.append(calendar)
        db.session.flush()
    log.info(
        "practitioner %s connected CalDAV calendars %s",
        practitioner.id,
        [c.id for c in added],
    )
    return added


def update_calendar(
    calendar: ExternalCalendar,
    *,
    blocks_time: bool,
    receives_bookings: bool,
    share_attendee_names: bool,
) -> None:
    """A calendar that stops blocking time loses its busy times now (and is read again
    at once if it starts); one calendar at most receives the practitioner's bookings."""
    receives_bookings = receives_bookings and calendar.kind == CalendarKind.CALDAV
    with write_transaction():
        if receives_bookings:
            db.session.execute(
                update(ExternalCalendar)
                .where(
                    ExternalCalendar.practitioner_id == calendar.practitioner_id,
                    ExternalCalendar.id != calendar.id,
                    ExternalCalendar.receives_bookings,
                )
                .values(receives_bookings=False)
                .execution_options(synchronize_session=False)
            )
            # The partial unique index sees the other row's change before this one's.
            db.session.flush()
        values: dict = {
            "blocks_time": blocks_time,
            "receives_bookings": receives_bookings,
            "share_attendee_names": share_attendee_names,
        }
        if blocks_time and not calendar.blocks_time:
            values.update(next_refresh_at=utcnow(), version_tag=None, covered_until=None)
        db.session.execute(
            update(ExternalCalendar)
            .where(ExternalCalendar.id == calendar.id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not blocks_time:
            db.session.execute(
                delete(ExternalBusyTime).where(ExternalBusyTime.calendar_id == calendar.id)
            )
        # Sessions booked before this calendar received them, or written with the other
        # choice of names, are (re)written now.
        if receives_bookings and (
            not calendar.receives_bookings or share_attendee_names != calendar.share_attendee_names
        ):
            queue_future_sessions(calendar.id, calendar.practitioner_id, utcnow())
    db.session.expire(calendar)
    log.info(
        "calendar %s: blocks time %s, receives bookings %s, shares names %s",
        calendar.id,
        blocks_time,
        receives_bookings,
        share_attendee_names,
    )


def disconnect(calendar: ExternalCalendar) -> None:
    """Forget the calendar: its credentials, and (by cascade) its busy times."""
    calendar_id, practitioner_id = calendar.id, calendar.practitioner_id
    with write_transaction():
        db.session.execute(
            delete(ExternalBusyTime).where(ExternalBusyTime.calendar_id == calendar_id)
        )
        db.session.execute(delete(ExternalCalendar).where(ExternalCalendar.id == calendar_id))
    log.info("practitioner %s disconnected calendar %s", practitioner_id, calendar_id)
