"""Writing the practitioner's sessions into the calendar that receives their bookings.

The outbox rows (`calendar_writes`) are written by a database trigger in the transaction
that changed the session (migration 0035); nothing here runs in a request. The worker
claims due rows under a lease (portal/leases.py), reads each session as it is now, and
makes the calendar match: the event PUT (same UID as the portal's feed and email invites,
SEQUENCE = the session's revision) while the session is live with a confirmed booking,
DELETEd once it is not (canceled, or its last seat given up). No transaction is held
while the server answers, and every request has the calendar reads' deadline.

A failed write keeps the row pending and tries again with the outbox's backoff
(PORTAL_WORKER_RETRY_SECONDS, doubling); its problem is shown on the calendar's status
page until a write succeeds. "Refresh now" there makes the failed writes due at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext
from sqlalchemy import CursorResult, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from .. import leases
from ..crypto import decrypt
from ..database import utcnow, write_transaction
from ..extensions import db
from ..ics import new_calendar, session_event, session_uid
from ..models import (
    Booking,
    BookingStatus,
    CalendarWrite,
    ExternalCalendar,
    ServiceSession,
    SessionStatus,
    SyncProblem,
)
from ..notifications.delivery import backoff
from .fetch import FetchFailed, _before, _caldav_problem, _client, _status_problem

log = logging.getLogger(__name__)

# Sessions whose event stays in the calendar (a completed one is history, kept as written).
SHOWN = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED)


@dataclass
class WriteResult:
    written: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Task:
    """What one claimed row asks of the server, read before the transaction ends."""

    row_id: int
    version: int
    calendar_url: str
    username: str
    password: str
    uid: str
    document: bytes | None  # the event to PUT, or None: the event must not be there
    on_server: bool
    attempts: int


def _lease_length() -> timedelta:
    return timedelta(seconds=int(current_app.config["PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS"]) + 60)


def event_href(calendar_url: str, uid: str) -> str:
    """Where the session's event lives in the calendar: named by its UID, so a write
    after a lost answer lands on the same resource."""
    return f"{calendar_url.rstrip('/')}/{quote(uid, safe='@')}.ics"


def _shown(session: ServiceSession) -> list[Booking]:
    """The confirmed bookings, if the session's event belongs in the calendar."""
    if session.status not in SHOWN or session.start_time is None:
        return []
    return [b for b in session.bookings if b.status == BookingStatus.CONFIRMED]


def event_document(session: ServiceSession, share_attendee_names: bool) -> bytes:
    """The session as the practitioner's calendar stores it. Attendees are named in the
    description only, and only if the practitioner asked: an ATTENDEE property would make
    a scheduling server (iCloud, Fastmail) email invitations to the clients."""
    confirmed = _shown(session)
    description = gettext(
        "%(taken)d of %(seats)d seat(s) taken",
        taken=session.current_participants,
        seats=session.max_participants,
    )
    if share_attendee_names and confirmed:
        description += "\n" + gettext(
            "Attendees: %(names)s", names=", ".join(b.user.name for b in confirmed)
        )
    calendar = new_calendar(None, "Practitioner calendar")
    calendar.add_component(session_event(session, canceled=False, description=description))
    calendar.add_missing_timezones()
    return cast(bytes, calendar.to_ical())


def _read_task(row_id: int) -> _Task | None:
    row = db.session.get(CalendarWrite, row_id)
    if row is None:
        return None
    calendar = db.session.get(ExternalCalendar, row.calendar_id)
    session = db.session.scalar(
        select(ServiceSession)
        .where(ServiceSession.id == row.session_id)
        .options(
            selectinload(ServiceSession.service),
            selectinload(ServiceSession.bookings).selectinload(Booking.user),
        )
    )
    if calendar is None or session is None:
        return None
    document = event_document(session, calendar.share_attendee_names) if _shown(session) else None
    return _Task(
        row_id=row.id,
        version=row.version,
        calendar_url=decrypt(calendar.url_secret),
        username=calendar.username or "",
        password=decrypt(calendar.password_secret) if calendar.password_secret else "",
        uid=session_uid(session),
        document=document,
        on_server=row.on_server,
        attempts=row.attempts,
    )


def _send(task: _Task) -> None:
    """PUT or DELETE the event, within the calendar reads' deadline; FetchFailed if not."""
    deadline = time.monotonic() + int(current_app.config["PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS"])
    href = event_href(task.calendar_url, task.uid)

    def work() -> None:
        if task.document is not None:
            answer = client.put(
                href,
                task.document.decode(),
                {"Content-Type": "text/calendar; charset=utf-8"},
            )
            if answer.status not in (200, 201, 204):
                raise _status_problem(answer.status)
            return
        answer = client.delete(href)
        # Gone already (deleted by hand, or by an earlier try whose answer was lost).
        if answer.status not in (200, 204, 404, 410):
            raise _status_problem(answer.status)

    client = None
    try:
        client = _client(task.calendar_url, task.username, task.password, deadline)
        _before(deadline, work)
    except Exception as exc:  # noqa: BLE001 - every failure is a problem the practitioner sees
        raise _caldav_problem(exc, deadline) from exc
    finally:
        if client is not None:
            client.close()


def _finish(row_id: int, lease: datetime, **values) -> bool:
    with write_transaction():
        done = db.session.execute(
            update(CalendarWrite)
            .where(CalendarWrite.id == row_id, CalendarWrite.claimed_until == lease)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    return cast(CursorResult, done).rowcount == 1


def write_one(row_id: int, lease: datetime, result: WriteResult) -> None:
    """Make one session's event in its calendar match the session now."""
    task = _read_task(row_id)
    # Nothing is held while the server answers.
    db.session.rollback()
    now = utcnow()
    if task is None:
        return
    if task.document is None and not task.on_server:
        _finish(row_id, lease, written_version=task.version, attempts=0, problem=None)
        result.unchanged += 1
        return
    try:
        _send(task)
    except FetchFailed as failure:
        attempts = task.attempts + 1
        _finish(
            row_id,
            lease,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts),
            problem=failure.problem,
            last_error=failure.detail[:2000],
        )
        result.failed += 1
        log.warning("calendar write %s failed (try %d): %s", row_id, attempts, failure)
        return
    _finish(
        row_id,
        lease,
        written_version=task.version,
        on_server=task.document is not None,
        attempts=0,
        problem=None,
        last_error=None,
        written_at=now,
    )
    if task.document is None:
        result.deleted += 1
    else:
        result.written += 1
    log.info(
        "calendar write %s: %s %s",
        row_id,
        "put" if task.document is not None else "deleted",
        task.uid,
    )


def claim_due(limit: int, *, now: datetime | None = None) -> tuple[datetime, list[int]]:
    now = now or utcnow()
    lease = now + _lease_length()
    ids = leases.claim(
        CalendarWrite,
        CalendarWrite.version > CalendarWrite.written_version,
        CalendarWrite.next_attempt_at <= now,
        limit=limit,
        now=now,
        lease=lease,
    )
    return lease, ids


def write_due(limit: int = 20, *, now: datetime | None = None) -> WriteResult:
    """Write the due rows, one after another (the command line, tests and the worker's
    writer thread, portal/external_calendars/writer.py)."""
    result = WriteResult()
    lease, ids = claim_due(limit, now=now)
    for row_id in ids:
        write_one(row_id, lease, result)
    return result


def next_due(now: datetime) -> datetime | None:
    return leases.next_claimable(
        CalendarWrite, CalendarWrite.version > CalendarWrite.written_version, now
    )


def _upsert(dialect: str):
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CalendarWrite)


def queue_future_sessions(calendar_id: int, practitioner_id: int, now: datetime) -> None:
    """Mark every upcoming session of the practitioner with a confirmed booking as due for
    the calendar (one INSERT ... SELECT): a calendar that starts receiving bookings gets
    the ones already made, and one that starts or stops sharing names is rewritten.
    Runs in the caller's transaction."""
    wanted = (
        select(
            literal(calendar_id).label("calendar_id"),
            ServiceSession.id,
        )
        .where(
            ServiceSession.practitioner_id == practitioner_id,
            ServiceSession.status.in_(SHOWN),
            ServiceSession.end_time > now,
            ServiceSession.id.in_(
                select(Booking.service_session_id).where(Booking.status == BookingStatus.CONFIRMED)
            ),
        )
        .distinct()
    )
    statement = _upsert(db.engine.dialect.name).from_select(["calendar_id", "session_id"], wanted)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["calendar_id", "session_id"],
            set_={
                "version": CalendarWrite.version + 1,
                "attempts": 0,
                "next_attempt_at": now,
            },
        )
    )


def retry_failed(calendar_id: int) -> None:
    """The failed writes of the calendar fall due now (its "refresh now" button)."""
    db.session.execute(
        update(CalendarWrite)
        .where(
            CalendarWrite.calendar_id == calendar_id,
            CalendarWrite.version > CalendarWrite.written_version,
            CalendarWrite.problem.is_not(None),
        )
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class WriteStatus:
    """What the status page says of a calendar's writes."""

    pending: int
    failing: int
    problem: SyncProblem | None
    next_attempt_at: datetime | None


def write_status(calendar_ids: list[int]) -> dict[int, WriteStatus]:
    """Per calendar: writes waiting, writes failing (with the latest failure's problem)
    and when the next try is. One statement for every calendar on the page."""
    if not calendar_ids:
        return {}
    rows = db.session.execute(
        select(
            CalendarWrite.calendar_id,
            func.count(),
            func.count(CalendarWrite.problem),
            func.max(CalendarWrite.problem),
            func.min(CalendarWrite.next_attempt_at),
        )
        .where(
            CalendarWrite.calendar_id.in_(calendar_ids),
            CalendarWrite.version > CalendarWrite.written_version,
        )
        .group_by(CalendarWrite.calendar_id)
    )
    return {
        calendar_id: WriteStatus(
            pending, failing, SyncProblem(problem) if problem else None, next_at
        )
        for calendar_id, pending, failing, problem, next_at in rows
    }
