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
    BookingStatus,
    Order,
    OrderStatus,
    Role,
    Service,
    ServiceComponent,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
    WaitlistEntry,
    WaitlistStatus,
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


def seats_left(sessions: list[ServiceSession], now: datetime) -> dict[int, int]:
    """The seats a buyer can take now, by session id.

    A seat whose hold has expired is free although the worker has not released it yet: a
    page only reads (a GET writes nothing), and the purchase releases it before counting.
    Such a seat goes to the waitlist first, so it counts only beyond those waiting.
    """
    ids = [s.id for s in sessions]
    lapsed: dict[int, int] = {}
    waiting: dict[int, int] = {}
    if ids:
        lapsed = dict(
            db.session.execute(
                select(Booking.service_session_id, func.count())
                .join(Order, Booking.order_id == Order.id)
                .where(
                    Booking.service_session_id.in_(ids),
                    Booking.status == BookingStatus.PENDING_PAYMENT,
                    Order.status == OrderStatus.PENDING,
                    Order.hold_expires_at < now,
                )
                .group_by(Booking.service_session_id)
            ).all()
        )
        if lapsed:
            waiting = dict(
                db.session.execute(
                    select(WaitlistEntry.service_session_id, func.count())
                    .where(
                        WaitlistEntry.service_session_id.in_(list(lapsed)),
                        WaitlistEntry.status == WaitlistStatus.WAITING,
                    )
                    .group_by(WaitlistEntry.service_session_id)
                ).all()
            )
    return {
        s.id: s.seats_left + max(0, lapsed.get(s.id, 0) - waiting.get(s.id, 0)) for s in sessions
    }


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
