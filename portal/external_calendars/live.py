"""The live check at booking: a CalDAV calendar whose stored busy times are older than
PORTAL_CALENDAR_LIVE_CHECK_SECONDS is asked directly (a time-range REPORT for the chosen
slot alone) before the booking is taken, so an event added since the last refresh is
seen. It runs before the booking's transaction takes its locks (no writer waits on a
remote server) under a short deadline, PORTAL_CALENDAR_LIVE_CHECK_TIMEOUT_SECONDS, shared
by all the practitioner's stale calendars; a calendar that fails to answer in time is
left to its stored busy times, and the log says so.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select

from ..crypto import decrypt
from ..database import utcnow
from ..extensions import db
from ..models import CalendarKind, ExternalCalendar
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
        if any(b.start < end and start < b.end for b in fetched.busy):
            log.info(
                "live check: calendar %s of practitioner %s is busy at %s",
                calendar.id,
                calendar.practitioner_id,
                start.isoformat(),
            )
            return True
    return False
