"""The API's reads: each runs a fixed number of queries whatever the data size."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from ...database import utcnow
from ...extensions import db
from ...models import (
    SEAT_HOLDING,
    Booking,
    ClassPass,
    Fee,
    FeeStatus,
    Order,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
)

EVENT_LOADS = (
    selectinload(ServiceSession.service),
    selectinload(ServiceSession.bookings).selectinload(Booking.user),
)


def held_session_ids(user: User):
    return select(Booking.service_session_id).where(
        Booking.user_id == user.id, Booking.status.in_(SEAT_HOLDING)
    )


def calendar_sessions(
    viewer: User, start: datetime, end: datetime, practitioner_id: int | None
) -> list[ServiceSession]:
    """Scheduled (not draft, not canceled) sessions overlapping [start, end) the viewer may see."""
    query = (
        select(ServiceSession)
        .where(
            ServiceSession.start_time.is_not(None),
            ServiceSession.start_time < end,
            ServiceSession.end_time > start,
            ServiceSession.status.not_in((SessionStatus.DRAFT, SessionStatus.CANCELED)),
        )
        .options(*EVENT_LOADS)
        .order_by(ServiceSession.start_time, ServiceSession.id)
    )
    if viewer.is_practitioner:
        query = query.where(ServiceSession.practitioner_id == viewer.id)
    elif viewer.is_client:
        query = query.where(ServiceSession.id.in_(held_session_ids(viewer)))
    if practitioner_id is not None:
        query = query.where(ServiceSession.practitioner_id == practitioner_id)
    return list(db.session.scalars(query))


def listed_services(viewer: User, practitioner_id: int | None) -> list[Service]:
    owner = practitioner_id if practitioner_id is not None else None
    if owner is None and viewer.is_practitioner:
        owner = viewer.id
    query = select(Service).options(selectinload(Service.components)).order_by(Service.id)
    if owner is not None:
        query = query.where(Service.primary_practitioner_id == owner)
    # Inactive services are the owner's and staff's business only.
    if not (viewer.is_staff or owner == viewer.id):
        query = query.where(Service.is_active.is_(True))
    return list(db.session.scalars(query))


def offered_service(service_id: int) -> Service | None:
    """An active service with its practitioner, as anyone may see it."""
    return db.session.scalar(
        select(Service)
        .where(Service.id == service_id, Service.is_active.is_(True))
        .options(selectinload(Service.primary_practitioner))
    )


def upcoming_sessions(services: list[Service]) -> dict[int, list[ServiceSession]]:
    """Open sessions of the listed workshops and courses, by service id."""
    ids = [s.id for s in services if s.service_type in (ServiceType.WORKSHOP, ServiceType.COURSE)]
    by_service: dict[int, list[ServiceSession]] = defaultdict(list)
    if not ids:
        return by_service
    rows = db.session.scalars(
        select(ServiceSession)
        .where(
            ServiceSession.service_id.in_(ids),
            ServiceSession.status == SessionStatus.SCHEDULED,
            ServiceSession.visibility == Visibility.PUBLIC,
            ServiceSession.start_time > utcnow(),
        )
        .order_by(ServiceSession.start_time, ServiceSession.id)
    )
    for row in rows:
        by_service[row.service_id].append(row)
    return by_service


# An order as the API shows it, read afresh (its bookings change when it is paid).
ORDER_LOADS = (
    joinedload(Order.service),
    joinedload(Order.bookings).joinedload(Booking.service_session),
)


def order_with_bookings(order_id: int) -> Order | None:
    return db.session.get(Order, order_id, options=ORDER_LOADS, populate_existing=True)


def booking_with_session(booking_id: int) -> Booking | None:
    return db.session.get(
        Booking,
        booking_id,
        options=(selectinload(Booking.service_session), selectinload(Booking.service)),
        populate_existing=True,
    )


def course_session_counts(course: Service) -> tuple[int, int]:
    """(sessions not canceled, sessions completed) of a course."""
    completed = func.sum(case((ServiceSession.status == SessionStatus.COMPLETED, 1), else_=0))
    total, done = db.session.execute(
        select(func.count(ServiceSession.id), completed).where(
            ServiceSession.service_id == course.id,
            ServiceSession.status != SessionStatus.CANCELED,
        )
    ).one()
    return int(total or 0), int(done or 0)


# A pass as the API shows it: its order's state and the classes it names, as sold.
PASS_LOADS = (
    joinedload(ClassPass.order),
    joinedload(ClassPass.service),
    selectinload(ClassPass.eligible_services),
)


def own_passes(user: User) -> list[ClassPass]:
    return list(
        db.session.scalars(
            select(ClassPass)
            .where(ClassPass.user_id == user.id)
            .options(*PASS_LOADS)
            .order_by(ClassPass.created_at.desc(), ClassPass.id.desc())
        ).unique()
    )


def pass_of_order(order_id: int) -> ClassPass:
    return db.session.scalars(
        select(ClassPass)
        .where(ClassPass.order_id == order_id)
        .options(*PASS_LOADS)
        .execution_options(populate_existing=True)
    ).one()


def offered_pass(service_id: int) -> Service | None:
    """An active class pass, as the shop sells it."""
    return db.session.scalar(
        select(Service).where(
            Service.id == service_id,
            Service.is_active,
            Service.service_type == ServiceType.CLASS_PASS,
        )
    )


MAX_FEES = 500


def listed_fees(
    viewer: User,
    *,
    status: FeeStatus | None,
    order_id: int | None,
    practitioner_id: int | None,
) -> list[tuple[Fee, Order]]:
    """Fees the viewer may see, newest first: a client's own orders', a practitioner's
    services' orders', every one for staff (narrowed by practitioner_id). One query."""
    query = select(Fee, Order).join(Order, Order.id == Fee.order_id)
    if viewer.is_client:
        query = query.where(Order.user_id == viewer.id)
    elif not viewer.is_staff:
        practitioner_id = viewer.id
    if practitioner_id is not None:
        query = query.join(Service, Service.id == Order.service_id).where(
            Service.primary_practitioner_id == practitioner_id
        )
    if status is not None:
        query = query.where(Fee.status == status)
    if order_id is not None:
        query = query.where(Fee.order_id == order_id)
    rows = db.session.execute(query.order_by(Fee.created_at.desc(), Fee.id.desc()).limit(MAX_FEES))
    return [(fee, order) for fee, order in rows]
