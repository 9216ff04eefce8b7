"""Moving a private session to another time, bound by the service's cut-off."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import update

from .. import audit
from ..core.errors import (
    CancellationWindowClosed,
    HoldExpired,
    InvalidInput,
    InvalidTransition,
    NotBookable,
)
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    RESCHEDULABLE_SESSION_TYPES,
    AuditAction,
    Booking,
    BookingStatus,
    ServiceSession,
    SessionStatus,
    User,
    Visibility,
    WebhookEventType,
)
from . import events, notices
from .cancellation import cutoff_passed
from .holds import release_expired_holds
from .locks import lock_practitioner, lock_sessions
from .slots import check_bookable, check_live


def can_reschedule(booking: Booking) -> bool:
    """A 1-on-1 or credit session belongs to its one client and may move; group seats may not."""
    session = booking.service_session
    return (
        session.visibility == Visibility.PRIVATE
        and session.session_type in RESCHEDULABLE_SESSION_TYPES
    )


def reschedule_booking(
    booking: Booking, actor: User, start_time: datetime, *, now: datetime | None = None
) -> ServiceSession:
    """Move a booking's private session to start_time; returns the moved session.

    The client may do it only before the service's cut-off; the practitioner or
    staff at any time. The new time must be bookable (hours, buffer, notice,
    horizon), ignoring the session's own current slot; a stale calendar of the
    practitioner's is asked first, outside the transaction.
    """
    if start_time.tzinfo is not None:
        check_live(booking.service_session.practitioner_id, start_time, booking.service)
    return _reschedule_booking(booking, actor, start_time, now=now)


@unit_of_work
def _reschedule_booking(
    booking: Booking, actor: User, start_time: datetime, *, now: datetime | None = None
) -> ServiceSession:
    now = now or utcnow()
    if start_time.tzinfo is None:
        raise InvalidInput(gettext("A time must carry its timezone."), field="start_time")
    session = lock_sessions([booking.service_session_id])[booking.service_session_id]
    practitioner = lock_practitioner(session.practitioner_id)
    # An expired hold on this very booking must be released first, not moved.
    release_expired_holds(now=now, practitioner_id=practitioner.id)
    db.session.refresh(session)
    db.session.refresh(booking)
    if not can_reschedule(booking):
        raise NotBookable(
            gettext(
                "A seat in %(display_title)s cannot be moved to another time: the group "
                "meets when it meets. Cancel it instead if you cannot attend.",
                display_title=session.display_title,
            )
        )
    if booking.hold_expired:
        raise HoldExpired(
            gettext("The hold on this booking expired before payment; book a new time.")
        )
    if booking.status not in (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED):
        raise InvalidTransition(
            gettext(
                "This booking is %(status_label)s; it cannot be moved.",
                status_label=booking.status.label,
            )
        )
    if session.status != SessionStatus.SCHEDULED:
        raise InvalidTransition(
            gettext(
                "The session is %(status_label)s; it cannot be moved.",
                status_label=session.status.label,
            )
        )
    if cutoff_passed(booking, now) and actor.id == booking.user_id:
        hours = booking.service.cancellation_cutoff_hours
        raise CancellationWindowClosed(
            ngettext(
                "Bookings can be rescheduled online up to %(num)d hour before the start; "
                "please contact your practitioner.",
                "Bookings can be rescheduled online up to %(num)d hours before the start; "
                "please contact your practitioner.",
                hours,
            )
        )
    if start_time == session.start_time:
        raise InvalidInput(gettext("The session is already at that time."), field="start_time")
    duration = timedelta(minutes=booking.service.duration_minutes)
    previous_start = session.start_time
    assert previous_start is not None  # a scheduled session has times (CHECK)
    check_bookable(
        practitioner,
        start_time,
        duration,
        now=now,
        ignore_session_id=session.id,
        service=booking.service,
    )
    notices.booking_rescheduled(booking, previous_start=previous_start)
    db.session.execute(
        update(ServiceSession)
        .where(ServiceSession.id == session.id, ServiceSession.status == SessionStatus.SCHEDULED)
        .values(
            start_time=start_time,
            end_time=start_time + duration,
            revision=ServiceSession.revision + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(session)
    events.booking_event(
        WebhookEventType.BOOKING_RESCHEDULED,
        booking,
        session,
        now,
        previous_start_time=previous_start.isoformat(),
    )
    audit.record(
        AuditAction.BOOKING_RESCHEDULED,
        "booking",
        booking.id,
        practitioner_id=practitioner.id,
        client_id=booking.user_id,
        actor_id=actor.id,
        before={"start_time": previous_start},
        after={"start_time": start_time, "session_id": session.id},
    )
    return session
