"""Reads for a client's package and bundle credits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import booking
from ...extensions import db
from ...models import (
    CREDIT_SERVICE_TYPES,
    Booking,
    Service,
    ServiceComponent,
    ServiceType,
    User,
)


def own_booking(user: User, booking_id: int) -> Booking | None:
    found = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).options(*booking.CREDIT_LOADS)
    )
    return found if found is not None and found.user_id == user.id else None


def own_individual_services(practitioner: User) -> list[Service]:
    """What a package or bundle of this practitioner may contain."""
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type == ServiceType.INDIVIDUAL,
            )
            .order_by(Service.name)
        )
    )


def offered_package(service_id: int) -> Service | None:
    """An active package or bundle as the shop offers it."""
    return db.session.scalar(
        select(Service)
        .where(
            Service.id == service_id,
            Service.is_active,
            Service.service_type.in_(CREDIT_SERVICE_TYPES),
        )
        .options(
            selectinload(Service.primary_practitioner),
            selectinload(Service.components).selectinload(ServiceComponent.included_service),
        )
    )
