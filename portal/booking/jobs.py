"""Periodic jobs: the cron-style runs that orchestrate the floors below them.

Each job composes operations that stand on their own (completing a session,
recording outcomes); nothing below imports a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select

from ..core.errors import InvalidTransition
from ..database import utcnow
from ..extensions import db
from ..models import (
    AttendanceOutcome,
    Booking,
    BookingStatus,
    Room,
    ServiceSession,
    SessionStatus,
)
from .attendance import record_outcomes
from .lifecycle import complete_session
from .rooms import apply_room_events


@dataclass
class MarkResult:
    completed: int
    recorded: int
    refreshed: int = 0


# Room events can trail the room's end (a participant_left after room_finished):
# sessions that ended this recently get their computed outcomes refreshed.
REFRESH_WINDOW = timedelta(hours=24)


def mark_attendance(*, now: datetime | None = None) -> MarkResult:
    """Complete sessions left open past their end + grace, record missing outcomes, and
    refresh those of sessions that ended within REFRESH_WINDOW (overrides are kept).

    Each session is completed in its own unit of work, so a webhook completing
    the same session at the same moment costs one skipped session, not the run.
    Running it again changes no outcome. Room events still pending are applied
    first: a room_finished on its way completes the session at its real end.
    A session whose room closed before its end (and did not reopen) is completed here,
    at its last room's finish.
    """
    apply_room_events()
    now = now or utcnow()
    grace = timedelta(minutes=int(current_app.config["PORTAL_ATTENDANCE_GRACE_MINUTES"]))
    # A session may have had several room lifetimes, each closing before its end.
    of_session = Room.service_session_id == ServiceSession.id
    last_finish = select(func.max(Room.finished_at)).where(of_session).scalar_subquery()
    room_open = exists().where(of_session, Room.finished_at.is_(None))
    stale = db.session.execute(
        select(ServiceSession, last_finish, room_open)
        .where(
            ServiceSession.status.in_((SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)),
            ServiceSession.end_time < now - grace,
        )
        .order_by(ServiceSession.id)
    ).all()
    completed = 0
    for session, finished_at, still_open in stale:
        # An in-progress session has times (CHECK scheduled_has_time).
        assert session.end_time is not None
        # It ended when its last room closed; with a room never reported closed, or none
        # at all, at its scheduled end.
        ended = (finished_at if not still_open else None) or max(
            session.end_time, session.actual_start_time or session.end_time
        )
        try:
            complete_session(session, at=ended)
        except InvalidTransition:
            continue
        completed += 1
    missing = db.session.scalars(
        select(Booking.service_session_id)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .outerjoin(AttendanceOutcome, AttendanceOutcome.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.status == SessionStatus.COMPLETED,
            AttendanceOutcome.id.is_(None),
        )
        .distinct()
    ).all()
    backfilled = set(missing)
    recent = [
        session_id
        for session_id in db.session.scalars(
            select(ServiceSession.id).where(
                ServiceSession.status == SessionStatus.COMPLETED,
                ServiceSession.actual_end_time >= now - REFRESH_WINDOW,
            )
        )
        if session_id not in backfilled
    ]
    recorded = 0
    batch = 500
    for i in range(0, len(missing), batch):
        recorded += record_outcomes(missing[i : i + batch], now=now)
    for i in range(0, len(recent), batch):
        record_outcomes(recent[i : i + batch], now=now)
    db.session.commit()
    return MarkResult(completed=completed, recorded=recorded, refreshed=len(recent))
