"""Reads for the order pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Booking, Order, OrderStatus, Payment, Service, ServiceSession, User

# An order's page: its buyer, the practitioner it pays, each booking's session and each
# movement's receipt.
ORDER_LOADS = (
    selectinload(Order.payments).selectinload(Payment.receipt),
    selectinload(Order.user),
    selectinload(Order.service).selectinload(Service.primary_practitioner),
    selectinload(Order.bookings)
    .selectinload(Booking.service_session)
    .selectinload(ServiceSession.service),
    selectinload(Order.fees),
)


def pending_orders_for(viewer: User, status: OrderStatus = OrderStatus.PENDING) -> list[Order]:
    """Orders awaiting payment (or, asked for, those whose hold expired unpaid): all of them
    for staff, their own services' for a practitioner."""
    query = (
        select(Order)
        .join(Service, Order.service_id == Service.id)
        .where(Order.status == status)
        .options(
            selectinload(Order.user),
            selectinload(Order.service),
            selectinload(Order.bookings).selectinload(Booking.service_session),
        )
        .order_by(Order.created_at, Order.id)
    )
    if not viewer.is_staff:
        query = query.where(Service.primary_practitioner_id == viewer.id)
    return list(db.session.scalars(query))
