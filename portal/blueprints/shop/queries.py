"""Reads for the shop's pages."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ... import booking
from ...booking import course_sessions
from ...extensions import db
from ...models import (
    SEAT_HOLDING,
    WAITLIST_OPEN,
    Booking,
    Role,
    Service,
    ServiceComponent,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
    WaitlistEntry,
)

TYPE_ORDER = list(ServiceType)


def practitioners_with_services() -> list[tuple[User, int]]:
    rows = db.session.execute(
        select(User, func.count(Service.id))
        .join(Service, Service.primary_practitioner_id == User.id)
        .where(User.role == Role.PRACTITIONER, User.is_active_account, Service.is_active)
        .group_by(User.id)
        .order_by(User.name)
    ).all()
    return [(user, count) for user, count in rows]


def active_services(practitioner: User) -> list[Service]:
    services = db.session.scalars(
        select(Service)
        .where(Service.primary_practitioner_id == practitioner.id, Service.is_active)
        .order_by(Service.name)
    ).all()
    return sorted(services, key=lambda s: TYPE_ORDER.index(s.service_type))


def active_service(service_id: int) -> Service | None:
    return db.session.scalar(
        select(Service)
        .where(Service.id == service_id, Service.is_active)
        .options(
            selectinload(Service.primary_practitioner),
            selectinload(Service.components).selectinload(ServiceComponent.included_service),
        )
    )


def upcoming_sessions(service: Service, now: datetime) -> list[ServiceSession]:
    """A workshop's public sessions ahead (a private one is its practitioner's to fill)."""
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.service_id == service.id,
                ServiceSession.status == SessionStatus.SCHEDULED,
                ServiceSession.visibility == Visibility.PUBLIC,
                ServiceSession.start_time > now,
            )
            .order_by(ServiceSession.start_time)
        )
    )


def listed_sessions(service: Service, now: datetime) -> list[ServiceSession]:
    """A workshop's upcoming sessions, or all of a course's sessions."""
    if service.service_type == ServiceType.WORKSHOP:
        return upcoming_sessions(service, now)
    return course_sessions(service)


def my_seats(user: User, session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(
        db.session.scalars(
            select(Booking.service_session_id).where(
                Booking.user_id == user.id,
                Booking.service_session_id.in_(session_ids),
                Booking.status.in_(SEAT_HOLDING),
            )
        )
    )


def my_waitlist(user: User, session_ids: list[int]) -> dict[int, WaitlistEntry]:
    if not session_ids:
        return {}
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.user_id == user.id,
            WaitlistEntry.service_session_id.in_(session_ids),
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
    )
    return {entry.service_session_id: entry for entry in entries}


def slot_is_free(service: Service, start: datetime) -> bool:
    """Whether a 1-on-1 start is still among the offered slots (the window spans the UTC day
    around it, so any day a viewer's timezone puts it on is covered)."""
    midnight = datetime.combine(start.astimezone(UTC).date(), time(0), tzinfo=UTC)
    slots = booking.available_slots(
        service.primary_practitioner,
        timedelta(minutes=service.duration_minutes),
        midnight - timedelta(days=1),
        midnight + timedelta(days=2),
        service=service,
    )
    return start in slots
