"""A session's life after it is scheduled: the room opens, the room closes."""

from __future__ import annotations

from datetime import datetime

from ..core.transactions import unit_of_work
from ..database import utcnow
from ..models import ServiceSession, SessionStatus
from .attendance import record_outcomes
from .locks import lock_sessions
from .transitions import move_session


@unit_of_work
def start_session(session: ServiceSession, *, at: datetime | None = None) -> ServiceSession:
    session = lock_sessions([session.id])[session.id]
    move_session(session, SessionStatus.IN_PROGRESS, actual_start_time=at or utcnow())
    return session


@unit_of_work
def complete_session(session: ServiceSession, *, at: datetime | None = None) -> ServiceSession:
    session = lock_sessions([session.id])[session.id]
    values = {"actual_end_time": at or utcnow()}
    if session.actual_start_time is None and session.start_time is not None:
        values["actual_start_time"] = min(session.start_time, values["actual_end_time"])
    move_session(session, SessionStatus.COMPLETED, **values)
    record_outcomes([session.id])
    return session
