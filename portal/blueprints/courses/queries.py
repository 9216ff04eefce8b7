"""Reads for the course pages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import SEAT_HOLDING, Booking, Order, Service, ServiceSession, ServiceType, User


def courses_with_counts(practitioner: User) -> list[tuple[Service, int, int]]:
    """The practitioner's courses, each with its number of sessions and of enrolled clients."""
    sessions = (
        select(ServiceSession.service_id, func.count(ServiceSession.id).label("n"))
        .group_by(ServiceSession.service_id)
        .subquery()
    )
    enrolled = (
        select(Order.service_id, func.count(func.distinct(Order.user_id)).label("n"))
        .join(Booking, Booking.order_id == Order.id)
        .where(Booking.status.in_(SEAT_HOLDING))
        .group_by(Order.service_id)
        .subquery()
    )
    return list(
        db.session.execute(
            select(Service, func.coalesce(sessions.c.n, 0), func.coalesce(enrolled.c.n, 0))
            .outerjoin(sessions, sessions.c.service_id == Service.id)
            .outerjoin(enrolled, enrolled.c.service_id == Service.id)
            .where(
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type == ServiceType.COURSE,
            )
            .order_by(Service.name)
        ).all()
    )


def sessions_with_rosters(course: Service) -> list[ServiceSession]:
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(ServiceSession.service_id == course.id)
            .options(selectinload(ServiceSession.bookings).selectinload(Booking.user))
            .order_by(ServiceSession.sequence_number, ServiceSession.start_time)
        )
    )


def orders_of(course: Service) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.service_id == course.id)
            .options(selectinload(Order.user), selectinload(Order.bookings))
            .order_by(Order.created_at)
        )
    )
