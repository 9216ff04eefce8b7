"""Reads for packages and bundles: what a practitioner sells, and a client's credit to schedule
(the credits still to schedule are listed in My bookings, whose reads list them)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    CREDIT_SERVICE_TYPES,
    Service,
    ServiceComponent,
    ServiceType,
    User,
)


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
