"""Changing how many seats a group session has."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext, ngettext
from sqlalchemy import update

from ..core.errors import InvalidInput, InvalidTransition
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import ServiceSession, SessionStatus
from .locks import lock_sessions
from .offers import seats_freed


@unit_of_work
def resize_session(
    session: ServiceSession, max_participants: int, *, now: datetime | None = None
) -> ServiceSession:
    """Set a session's capacity; seats added go to its waitlist first.

    Capacity may not drop below the seats already taken (the database CHECK
    would refuse it too).
    """
    now = now or utcnow()
    session = lock_sessions([session.id])[session.id]
    if session.status not in (SessionStatus.DRAFT, SessionStatus.SCHEDULED):
        raise InvalidTransition(
            gettext(
                "The session is %(status_label)s; it cannot change.",
                status_label=session.status.label,
            )
        )
    if max_participants < max(1, session.current_participants):
        raise InvalidInput(
            ngettext(
                "%(num)d seat is taken; capacity cannot go below that.",
                "%(num)d seats are taken; capacity cannot go below that.",
                session.current_participants,
            ),
            field="max_participants",
        )
    grew = max_participants > session.max_participants
    db.session.execute(
        update(ServiceSession)
        .where(ServiceSession.id == session.id)
        .values(max_participants=max_participants, revision=ServiceSession.revision + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(session)
    if grew:
        seats_freed({session.id}, now=now)
    return session
