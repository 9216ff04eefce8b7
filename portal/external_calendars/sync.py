"""Refreshing a practitioner's calendars: read each one (portal/external_calendars/fetch.py)
and replace its stored busy times, which the slot picker and the booking check read.

The remote read happens outside any transaction (a slow server holds no lock); the
replacement is one transaction, so a reader sees the old busy times or the new ones,
never a calendar half-stored. A calendar is read for [now - 1 day, now + the
practitioner's horizon + 1 day]; `covered_until` records how far the stored rows reach,
and an ETag or CTag saying "unchanged" is trusted only while they still reach past the
horizon, so the window's far end is read again about once a day whatever the tags say.

A failed read keeps the busy times already stored (a calendar server down for an hour
should not open the practitioner's day to bookings) and records the problem, which the
settings page shows in words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select, update

from ..crypto import decrypt
from ..database import utcnow, write_transaction
from ..extensions import db
from ..leases import claim
from ..models import (
    CalendarKind,
    ExternalBusyTime,
    ExternalCalendar,
    ScheduleSettings,
    SyncProblem,
    User,
)
from .fetch import Fetched, FetchFailed, Window, fetch_caldav, fetch_ics
from .writes import retry_failed

log = logging.getLogger(__name__)

# Read a day either side of what the picker shows: the window's ends never cut an event.
MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class RefreshOutcome:
    calendar_id: int
    unchanged: bool = False
    stored: int = 0
    problem: SyncProblem | None = None


def _setting(name: str) -> int:
    return int(current_app.config[name])


def refresh_interval() -> timedelta:
    return timedelta(minutes=_setting("PORTAL_CALENDAR_REFRESH_MINUTES"))


def lease_length() -> timedelta:
    """Long enough for one fetch, with room for storing what it read."""
    return timedelta(seconds=_setting("PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS") + 60)


def _horizon(practitioner_id: int) -> timedelta:
    settings = db.session.get(ScheduleSettings, practitioner_id)
    days = (
        settings.horizon_days if settings else ScheduleSettings.__table__.c.horizon_days.default.arg
    )
    return timedelta(days=days)


def _fetch(calendar: ExternalCalendar, window: Window, trust_tag: bool) -> Fetched:
    tag = calendar.version_tag if trust_tag else None
    timeout = _setting("PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS")
    url = decrypt(calendar.url_secret)
    if calendar.kind == CalendarKind.CALDAV:
        password = decrypt(calendar.password_secret) if calendar.password_secret else ""
        return fetch_caldav(url, calendar.username or "", password, tag, window, timeout=timeout)
    return fetch_ics(
        url, tag, window, timeout=timeout, max_bytes=_setting("PORTAL_CALENDAR_MAX_BYTES")
    )


def _still_ours(calendar_id: int, lease: datetime | None):
    """The row as this refresh found it: if a worker's lease ran out and another took
    the calendar, the later refresh's answer is the one kept."""
    conditions = [ExternalCalendar.id == calendar_id]
    if lease is not None:
        conditions.append(ExternalCalendar.claimed_until == lease)
    return conditions


def refresh(
    calendar_id: int, *, now: datetime | None = None, lease: datetime | None = None
) -> RefreshOutcome:
    """Read one calendar and store what it says. `lease` is the worker's claim on it
    (portal/leases.py); without one (a test, the command line) it is read regardless."""
    now = now or utcnow()
    calendar = db.session.get(ExternalCalendar, calendar_id)
    if calendar is None:
        return RefreshOutcome(calendar_id, problem=SyncProblem.NOT_FOUND)
    practitioner = db.session.get(User, calendar.practitioner_id)
    horizon = _horizon(calendar.practitioner_id)
    window = Window(now - MARGIN, now + horizon + MARGIN, practitioner.zone)
    trust_tag = calendar.covered_until is not None and calendar.covered_until >= now + horizon
    # Nothing is held while the server answers: the row, detached, keeps what was read.
    db.session.expunge(calendar)
    db.session.rollback()
    try:
        fetched = _fetch(calendar, window, trust_tag)
    except FetchFailed as failure:
        return _record_failure(calendar_id, failure, now, lease)
    with write_transaction():
        values: dict = {
            "attempted_at": now,
            "refreshed_at": now,
            "problem": None,
            "next_refresh_at": now + refresh_interval(),
            "claimed_until": None,
        }
        if not fetched.unchanged:
            values.update(
                version_tag=fetched.version_tag,
                events_seen=fetched.events_seen,
                covered_until=window.end,
            )
        kept = db.session.execute(
            update(ExternalCalendar)
            .where(*_still_ours(calendar_id, lease))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not kept:
            log.info("calendar %s: refresh dropped, another worker took it over", calendar_id)
            return RefreshOutcome(calendar_id, unchanged=True)
        stored = 0
        if not fetched.unchanged:
            stored = _replace_busy_times(calendar_id, calendar.practitioner_id, fetched)
    log.info(
        "calendar %s of practitioner %s refreshed: %s",
        calendar_id,
        calendar.practitioner_id,
        "unchanged" if fetched.unchanged else f"{fetched.events_seen} event(s), {stored} busy",
    )
    return RefreshOutcome(calendar_id, unchanged=fetched.unchanged, stored=stored)


def _replace_busy_times(calendar_id: int, practitioner_id: int, fetched: Fetched) -> int:
    db.session.execute(delete(ExternalBusyTime).where(ExternalBusyTime.calendar_id == calendar_id))
    intervals = sorted({(b.start, b.end) for b in fetched.busy})
    if intervals:
        db.session.execute(
            insert(ExternalBusyTime),
            [
                {
                    "calendar_id": calendar_id,
                    "practitioner_id": practitioner_id,
                    "start_time": start,
                    "end_time": end,
                }
                for start, end in intervals
            ],
        )
    return len(intervals)


def _record_failure(
    calendar_id: int, failure: FetchFailed, now: datetime, lease: datetime | None
) -> RefreshOutcome:
    with write_transaction():
        db.session.execute(
            update(ExternalCalendar)
            .where(*_still_ours(calendar_id, lease))
            .values(
                attempted_at=now,
                problem=failure.problem,
                next_refresh_at=now + refresh_interval(),
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    log.warning("calendar %s: refresh failed: %s", calendar_id, failure)
    return RefreshOutcome(calendar_id, problem=failure.problem)


def claim_due(
    limit: int, *, now: datetime | None = None, busy: tuple[int, ...] = ()
) -> tuple[datetime, list[int]]:
    """Lease up to `limit` calendars due for a refresh: (the lease, their ids)."""
    now = now or utcnow()
    lease = now + lease_length()
    conditions = [ExternalCalendar.next_refresh_at <= now, ExternalCalendar.blocks_time]
    if busy:
        conditions.append(ExternalCalendar.id.not_in(busy))
    ids = claim(
        ExternalCalendar,
        *conditions,
        limit=limit,
        now=now,
        lease=lease,
        due_at=ExternalCalendar.next_refresh_at,
    )
    return lease, ids


def next_due() -> datetime | None:
    """When the next calendar falls due."""
    return db.session.scalar(
        select(func.min(ExternalCalendar.next_refresh_at)).where(ExternalCalendar.blocks_time)
    )


def request_refresh(calendar: ExternalCalendar) -> None:
    """Make the calendar due now, and its failed writes: the worker picks them up on its
    next look."""
    with write_transaction():
        db.session.execute(
            update(ExternalCalendar)
            .where(ExternalCalendar.id == calendar.id)
            .values(next_refresh_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        retry_failed(calendar.id)
    log.info("calendar %s: refresh requested by its practitioner", calendar.id)


def refresh_due(limit: int = 10, *, now: datetime | None = None) -> list[RefreshOutcome]:
    """Refresh the calendars due now, one after another (the command line and tests; the
    worker runs them on threads of their own, portal/external_calendars/refresher.py)."""
    lease, ids = claim_due(limit, now=now)
    return [refresh(calendar_id, now=now, lease=lease) for calendar_id in ids]
