"""Reads for a client's package and bundle credits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import booking
from ...extensions import db
from ...models import (
    CREDIT_SERVICE_TYPES,
    Booking,
    BookingStatus,
    Order,
    Service,
    ServiceComponent,
    ServiceSession,
    ServiceType,
    User,
)


@dataclass
class CreditKind:
    """The credits of one service in a group: how many are left and the one to schedule next."""

    service: Service
    count: int
    next_credit: Booking


@dataclass
class CreditGroup:
    """One purchased package or bundle and its credits still to schedule."""

    order: Order
    credits: list[Booking]
    total: int
    expires_at: datetime | None
    expired: bool
    # One line per service: a 10-class pass is one pass with a count, not ten buttons.
    kinds: list[CreditKind] = field(default_factory=list)


def _credit_options():
    return (
        selectinload(Booking.service),
        selectinload(Booking.service_session).selectinload(ServiceSession.practitioner),
        selectinload(Booking.order).selectinload(Order.service).selectinload(Service.components),
    )


def credit_groups(user: User, now: datetime) -> list[CreditGroup]:
    """The client's unscheduled credits, one group per order, in order of purchase."""
    drafts = db.session.scalars(
        select(Booking)
        .where(Booking.user_id == user.id, Booking.status == BookingStatus.DRAFT)
        .options(*_credit_options())
        .order_by(Booking.order_id, Booking.id)
    ).all()
    by_order: dict[int, list[Booking]] = {}
    for credit in drafts:
        by_order.setdefault(credit.order_id, []).append(credit)
    groups = []
    for credits in by_order.values():
        order = credits[0].order
        expires = booking.credit_expires_at(order)
        kinds: dict[int, CreditKind] = {}
        for credit in credits:
            kind = kinds.setdefault(credit.service_id, CreditKind(credit.service, 0, credit))
            kind.count += 1
        groups.append(
            CreditGroup(
                order=order,
                credits=credits,
                total=sum(c.quantity for c in order.service.components),
                expires_at=expires,
                expired=expires is not None and now >= expires,
                kinds=sorted(kinds.values(), key=lambda k: k.service.name),
            )
        )
    return groups


def own_booking(user: User, booking_id: int) -> Booking | None:
    found = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).options(*_credit_options())
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
