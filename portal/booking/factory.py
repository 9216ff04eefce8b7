"""The seed's BookingFactory: the five ways a purchase turns into an Order and Bookings.

Every function runs as one unit of work: it writes the order and all of its
bookings, or nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select

from .. import audit
from ..core.errors import CreditExpired, InvalidInput, NotBookable, SessionFull
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..l10n import format_moment
from ..models import (
    CREDIT_SERVICE_TYPES,
    CREDIT_SESSION_TYPE,
    AuditAction,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    SessionType,
    User,
    Visibility,
    WebhookEventType,
)
from . import events, notices
from .holds import ensure_seat_available, release_expired_holds
from .locks import lock_order, lock_practitioner, lock_sessions
from .payment_providers import payment_reference
from .seats import add_booking, add_credit, open_order, seat_status
from .slots import check_bookable, check_live
from .transitions import move_bookings, move_session


def _require(service: Service, *types: ServiceType) -> None:
    if service.service_type not in types:
        raise NotBookable(
            gettext(
                "%(service_name)s is a %(service_type_label)s, not bookable this way.",
                service_name=service.name,
                service_type_label=service.service_type.label,
            )
        )
    if not service.is_active:
        raise NotBookable(
            gettext("%(service_name)s is not currently offered.", service_name=service.name)
        )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise InvalidInput(gettext("A time must carry its timezone."), field="start_time")


def session_values(session: ServiceSession) -> dict:
    """What the audit log keeps of a session, before and after a change."""
    return {
        "start_time": session.start_time,
        "end_time": session.end_time,
        "max_participants": session.max_participants,
        "title": session.title,
        "status": session.status,
    }


@unit_of_work
def create_session(
    service: Service,
    *,
    start_time: datetime,
    end_time: datetime | None = None,
    max_participants: int | None = None,
    session_type: SessionType | None = None,
    sequence_number: int | None = None,
    title: str = "",
    visibility: Visibility = Visibility.PUBLIC,
    timezone: str | None = None,
) -> ServiceSession:
    """A practitioner puts a scheduled session on their calendar (workshop, course class...)."""
    _require_aware(start_time)
    end_time = end_time or start_time + timedelta(minutes=service.duration_minutes)
    if end_time <= start_time:
        raise InvalidInput(gettext("The session must end after it starts."), field="end_time")
    practitioner = lock_practitioner(service.primary_practitioner_id)
    default_types = {
        ServiceType.WORKSHOP: SessionType.WORKSHOP,
        ServiceType.COURSE: SessionType.COURSE_SESSION,
        ServiceType.INDIVIDUAL: SessionType.INDIVIDUAL,
    }
    session = ServiceSession(
        service_id=service.id,
        practitioner_id=practitioner.id,
        session_type=session_type or default_types.get(service.service_type, SessionType.WORKSHOP),
        visibility=visibility,
        title=title,
        sequence_number=sequence_number,
        start_time=start_time,
        end_time=end_time,
        timezone=timezone or practitioner.timezone,
        max_participants=max_participants or service.max_participants,
        status=SessionStatus.SCHEDULED,
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        AuditAction.SESSION_CREATED,
        "session",
        session.id,
        practitioner_id=practitioner.id,
        after=session_values(session),
    )
    return session


def book_individual_session(
    user: User,
    service: Service,
    start_time: datetime,
    *,
    now: datetime | None = None,
    order: Order | None = None,
) -> Order:
    """1-on-1: the client picks a time; a private session is created, then its booking.
    A stale calendar of the practitioner's is asked first, outside the transaction."""
    _require_aware(start_time)
    check_live(service.primary_practitioner_id, start_time, service)
    return _book_individual_session(user, service, start_time, now=now, order=order)


@unit_of_work
def _book_individual_session(
    user: User,
    service: Service,
    start_time: datetime,
    *,
    now: datetime | None = None,
    order: Order | None = None,
) -> Order:
    now = now or utcnow()
    _require(service, ServiceType.INDIVIDUAL)
    _require_aware(start_time)
    practitioner = lock_practitioner(service.primary_practitioner_id)
    release_expired_holds(now=now, practitioner_id=practitioner.id)
    duration = timedelta(minutes=service.duration_minutes)
    check_bookable(practitioner, start_time, duration, now=now, service=service)
    order = open_order(user, service, now, order)
    session = ServiceSession(
        service_id=service.id,
        practitioner_id=practitioner.id,
        session_type=SessionType.INDIVIDUAL,
        visibility=Visibility.PRIVATE,
        start_time=start_time,
        end_time=start_time + duration,
        timezone=practitioner.timezone,
        max_participants=1,
        status=SessionStatus.SCHEDULED,
    )
    db.session.add(session)
    db.session.flush()
    add_booking(user, service, session, order, seat_status(order), order.total_cents, now)
    return order


def _bookable_upcoming(session: ServiceSession, now: datetime) -> None:
    if session.start_time is None or session.start_time <= now:
        raise NotBookable(
            gettext("%(display_title)s has already started.", display_title=session.display_title)
        )


@unit_of_work
def book_workshop_seat(
    user: User, session: ServiceSession, *, now: datetime | None = None, order: Order | None = None
) -> Order:
    """Workshop: one seat in the practitioner's pre-created group session."""
    _require(session.service, ServiceType.WORKSHOP)
    locked = lock_sessions([session.id])[session.id]
    return take_workshop_seat(user, locked, now=now, order=order)


def take_workshop_seat(
    user: User, locked: ServiceSession, *, now: datetime | None = None, order: Order | None = None
) -> Order:
    """The seat itself, in a workshop session this unit of work has locked."""
    now = now or utcnow()
    service = locked.service
    _require(service, ServiceType.WORKSHOP)
    _bookable_upcoming(locked, now)
    ensure_seat_available(locked, now)
    order = open_order(user, service, now, order)
    add_booking(user, service, locked, order, seat_status(order), order.total_cents, now)
    return order


def course_sessions(course: Service) -> list[ServiceSession]:
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.service_id == course.id,
                ServiceSession.status != SessionStatus.CANCELED,
            )
            .order_by(ServiceSession.sequence_number, ServiceSession.start_time)
        )
    )


@unit_of_work
def enroll_in_course(
    user: User, course: Service, *, now: datetime | None = None, order: Order | None = None
) -> Order:
    """Course: one order, one booking per session at price 0 (paid at course level)."""
    now = now or utcnow()
    _require(course, ServiceType.COURSE)
    sessions = course_sessions(course)
    if not sessions:
        raise NotBookable(gettext("%(course_name)s has no sessions yet.", course_name=course.name))
    locked = lock_sessions([s.id for s in sessions])
    ordered = sorted(locked.values(), key=lambda s: (s.sequence_number or 0, s.start_time))
    for session in ordered:
        _bookable_upcoming(session, now)
    full = []
    for session in ordered:
        try:
            ensure_seat_available(session, now)
        except SessionFull:
            full.append(session)
    if full:
        names = ", ".join(_session_label(s) for s in full)
        raise SessionFull(
            gettext(
                "%(course_name)s cannot be joined: %(names)s is full.",
                course_name=course.name,
                names=names,
            )
        )
    order = open_order(user, course, now, order)
    status = seat_status(order)
    for session in ordered:
        add_booking(user, course, session, order, status, 0, now)
    return order


def _session_label(session: ServiceSession) -> str:
    when = "unscheduled"
    if session.start_time:
        when = format_moment(session.start_time, zone=session.zone)
    number = f"session {session.sequence_number}" if session.sequence_number else "session"
    return f"{number} ({when})"


def _credit_lines(service: Service) -> list[Service]:
    lines: list[Service] = []
    for component in service.components:
        lines.extend([component.included_service] * component.quantity)
    return lines


@unit_of_work
def buy_credits(
    user: User, service: Service, *, now: datetime | None = None, order: Order | None = None
) -> Order:
    """Package (mix of services) or bundle (N of one): unscheduled draft bookings.

    Each credit is a draft session with no time plus a draft booking in it; the
    client schedules it later with schedule_credit().
    """
    now = now or utcnow()
    _require(service, *CREDIT_SERVICE_TYPES)
    lines = _credit_lines(service)
    if not lines:
        raise NotBookable(
            gettext("%(service_name)s has no contents configured.", service_name=service.name)
        )
    if service.service_type == ServiceType.BUNDLE and len({s.id for s in lines}) != 1:
        raise NotBookable(
            gettext("%(service_name)s must bundle exactly one service.", service_name=service.name)
        )
    order = open_order(user, service, now, order)
    session_type = CREDIT_SESSION_TYPE[service.service_type]
    for included in lines:
        add_credit(user, included, order, session_type, now)
    return order


def credit_expires_at(order: Order) -> datetime | None:
    days = order.service.validity_days
    return order.created_at + timedelta(days=days) if days else None


def schedule_credit(
    booking: Booking, start_time: datetime, *, now: datetime | None = None
) -> Booking:
    """Give a package/bundle draft booking a time: draft session -> scheduled. A stale
    calendar of the practitioner's is asked first, outside the transaction."""
    if start_time.tzinfo is not None:
        check_live(booking.service_session.practitioner_id, start_time, booking.service)
    return _schedule_credit(booking, start_time, now=now)


@unit_of_work
def _schedule_credit(
    booking: Booking, start_time: datetime, *, now: datetime | None = None
) -> Booking:
    now = now or utcnow()
    _require_aware(start_time)
    # The order first, as a payment takes it: the seat's status follows the order's
    # (paid -> confirmed), so a payment must not change it half-way through.
    order = lock_order(booking.order_id)
    session = lock_sessions([booking.service_session_id])[booking.service_session_id]
    db.session.refresh(booking)
    if booking.status != BookingStatus.DRAFT or session.status != SessionStatus.DRAFT:
        raise NotBookable(gettext("This credit has already been used."))
    if order.status != OrderStatus.PAID and not order.confirmed_unpaid:
        # An unpaid order's credits are not the client's yet: a booking made with one would
        # be confirmed, then lost if the order lapses unpaid.
        raise NotBookable(
            gettext(
                "This credit can be scheduled once its order %(reference)s is paid.",
                reference=payment_reference(order),
            )
        )
    expires = credit_expires_at(order)
    if expires is not None and now >= expires:
        raise CreditExpired(
            gettext(
                "This credit expired on %(day)s.",
                day=format_moment(expires, "date", booking.user.zone),
            )
        )
    service = booking.service
    practitioner = lock_practitioner(session.practitioner_id)
    release_expired_holds(now=now, practitioner_id=practitioner.id)
    duration = timedelta(minutes=service.duration_minutes)
    check_bookable(
        practitioner, start_time, duration, now=now, ignore_session_id=session.id, service=service
    )
    move_session(
        session, SessionStatus.SCHEDULED, start_time=start_time, end_time=start_time + duration
    )
    move_bookings([booking], seat_status(order), now=now)
    notices.credit_scheduled(booking)
    events.booking_event(WebhookEventType.BOOKING_CREATED, booking, session, now)
    audit.record(
        AuditAction.CREDIT_SCHEDULED,
        "booking",
        booking.id,
        practitioner_id=session.practitioner_id,
        client_id=booking.user_id,
        before={"status": BookingStatus.DRAFT},
        after={"status": booking.status, "session_id": session.id, "start_time": start_time},
    )
    return booking
