"""Paying for an order. The manual (offline) provider is the built-in one: a
practitioner or staff member records that the money arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..database import utcnow
from ..extensions import db
from ..models import Booking, BookingStatus, Order, OrderStatus, ServiceType
from . import waitlist
from .errors import DomainError, HoldExpired, InvalidTransition
from .seats import HOLD_EXPIRED
from .transactions import unit_of_work
from .transitions import move_bookings, move_order


def _lock_order(order: Order) -> Order:
    return db.session.scalars(
        select(Order)
        .where(Order.id == order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _rebook_lapsed(order: Order, lapsed: list[Booking], now: datetime) -> None:
    """The hold lapsed and its seats were released: take them again, if still free."""
    from .purchases import purchase

    service = order.service
    released = lapsed[0].service_session
    try:
        purchase(
            order.user,
            service,
            start_time=released.start_time
            if service.service_type == ServiceType.INDIVIDUAL
            else None,
            session=released if service.service_type == ServiceType.WORKSHOP else None,
            now=now,
            order=order,
        )
    except DomainError as exc:
        raise HoldExpired(
            f"The hold on order {order.id} lapsed before payment and its seats could not "
            f"be taken again: {exc.message}"
        ) from exc


@unit_of_work
def confirm_payment(order: Order, *, reference: str = "", now: datetime | None = None) -> Order:
    """Pending -> paid; the order's bookings awaiting payment become confirmed."""
    now = now or utcnow()
    order = _lock_order(order)
    if order.status != OrderStatus.PENDING:
        raise InvalidTransition(f"Order {order.id} is {order.status.label}, not awaiting payment.")
    live = [b for b in order.bookings if b.status != BookingStatus.CANCELED]
    lapsed = [b for b in order.bookings if b.cancel_reason == HOLD_EXPIRED]
    if not live and lapsed:
        _rebook_lapsed(order, lapsed, now)
        db.session.refresh(order)
    move_order(order, OrderStatus.PAID, now=now, payment_reference=reference, hold_expires_at=None)
    awaiting = [b for b in order.bookings if b.status == BookingStatus.PENDING_PAYMENT]
    move_bookings(awaiting, BookingStatus.CONFIRMED, now=now)
    waitlist.order_paid(order, now=now)
    return order
