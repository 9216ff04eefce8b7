"""The live check at booking: a CalDAV calendar whose stored busy times are older than
PORTAL_CALENDAR_LIVE_CHECK_SECONDS is asked directly (a time-range REPORT for the chosen
slot alone) before the booking is taken, so an event added since the last refresh is
seen. It runs before the booking's transaction takes its locks (no writer waits on a
remote server) under a short deadline, PORTAL_CALENDAR_LIVE_CHECK_TIMEOUT_SECONDS, shared
by all the practitioner's stale calendars; a calendar that fails to answer in time is
left to its stored busy times, and the log says so.

A calendar found busy keeps what it said: its busy times in the slot are stored at once,
so the picker shown with the refusal does not offer the same time again, and the
calendar falls due for a full refresh (the worker's next look).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, or_, select, update

from ..crypto import decrypt
from ..database import utcnow, write_transaction
from ..extensions import db
from ..models import CalendarKind, ExternalBusyTime, ExternalCalendar
from .expand import BusyTime
from .fetch import FetchFailed, Window, fetch_caldav

log = logging.getLogger(__name__)


def stale_calendars(practitioner_id: int, now: datetime | None = None) -> list[ExternalCalendar]:
    """The practitioner's CalDAV calendars that block time and were last read longer ago
    than the live check allows (or never): one statement, nothing when none is."""
    now = now or utcnow()
    max_age = timedelta(seconds=int(current_app.config["PORTAL_CALENDAR_LIVE_CHECK_SECONDS"]))
    return list(
        db.session.scalars(
            select(ExternalCalendar).where(
                ExternalCalendar.practitioner_id == practitioner_id,
                ExternalCalendar.kind == CalendarKind.CALDAV,
                ExternalCalendar.blocks_time,
                or_(
                    ExternalCalendar.refreshed_at.is_(None),
                    ExternalCalendar.refreshed_at < now - max_age,
                ),
            )
        )
    )


def busy_now(stale: list[ExternalCalendar], zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether one of these calendars has an event overlapping [start, end) right now
    (the caller widens the slot by the practitioner's buffer; `zone` reads all-day and
    floating events). False when they are free then, or did not answer in time."""
    deadline = time.monotonic() + float(
        current_app.config["PORTAL_CALENDAR_LIVE_CHECK_TIMEOUT_SECONDS"]
    )
    window = Window(start, end, zone)
    for calendar in stale:
        left = deadline - time.monotonic()
        if left <= 0:
            log.warning(
                "live check of calendar %s skipped: no time left; using its stored busy times",
                calendar.id,
            )
            continue
        password = decrypt(calendar.password_secret) if calendar.password_secret else ""
        try:
            fetched = fetch_caldav(
                decrypt(calendar.url_secret),
                calendar.username or "",
                password,
                None,
                window,
                timeout=left,
            )
        except FetchFailed as failure:
            log.warning(
                "live check of calendar %s failed (%s); using its stored busy times",
                calendar.id,
                failure,
            )
            continue
        overlapping = [b for b in fetched.busy if b.start < end and start < b.end]
        if overlapping:
            log.info(
                "live check: calendar %s of practitioner %s is busy at %s",
                calendar.id,
                calendar.practitioner_id,
                start.isoformat(),
            )
            _remember(calendar.id, calendar.practitioner_id, overlapping)
            return True
    return False


def _remember(calendar_id: int, practitioner_id: int, busy: list[BusyTime]) -> None:
    """Store what the live check saw and make the calendar due now. Another refresh
    that replaces the calendar's busy times meanwhile at worst drops these rows until
    the one this makes due."""
    with write_transaction():
        db.session.execute(
            insert(ExternalBusyTime),
            [
                {
                    "calendar_id": calendar_id,
                    "practitioner_id": practitioner_id,
                    "start_time": b.start,
                    "end_time": b.end,
                }
                for b in busy
            ],
        )
        db.session.execute(
            update(ExternalCalendar)
            .where(ExternalCalendar.id == calendar_id)
            .values(next_refresh_at=utcnow())
            .execution_options(synchronize_session=False)
        )
