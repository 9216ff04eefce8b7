"""Paying for an order. The manual (offline) provider is the built-in one: a
practitioner or staff member records that the money arrived.

A payment takes the order's row lock, the lock hold release takes too (see
holds.py): whichever comes first decides, and the other sees what it decided.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from .. import audit
from ..core.errors import DomainError, HoldExpired, InvalidTransition
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..models import (
    AuditAction,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceType,
    WebhookEventType,
)
from . import events, notices
from .checkout import purchase
from .locks import lock_order
from .offers import order_paid
from .transitions import move_bookings, move_order

log = logging.getLogger(__name__)


def _rebook_expired(order: Order, expired: list[Booking], now: datetime) -> None:
    """The hold expired and its seats were released: take them again, if still free."""
    service = order.service
    released = expired[0].service_session
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
            gettext(
                "The hold on order %(id)s expired before payment and its seats could not "
                "be taken again: %(message)s",
                id=order.id,
                message=exc.message,
            )
        ) from exc


@unit_of_work
def confirm_payment(order: Order, *, reference: str = "", now: datetime | None = None) -> Order:
    """Pending -> paid; the order's bookings awaiting payment become confirmed."""
    now = now or utcnow()
    order = lock_order(order.id)
    # An expired order: a late payment still counts, if its seats are free.
    if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
        raise InvalidTransition(
            gettext(
                "Order %(id)s is %(status_label)s, not awaiting payment.",
                id=order.id,
                status_label=order.status.label,
            )
        )
    previous_status = order.status
    live = [b for b in order.bookings if b.status != BookingStatus.CANCELED]
    expired = [b for b in order.bookings if b.hold_expired]
    if not live and expired:
        _rebook_expired(order, expired, now)
        order = lock_order(order.id)
    move_order(order, OrderStatus.PAID, now=now, payment_reference=reference, hold_expires_at=None)
    awaiting = [b for b in order.bookings if b.status == BookingStatus.PENDING_PAYMENT]
    move_bookings(awaiting, BookingStatus.CONFIRMED, now=now)
    order_paid(order, now=now)
    notices.payment_received(order)
    for booking in awaiting:
        events.booking_event(
            WebhookEventType.BOOKING_CONFIRMED, booking, booking.service_session, now
        )
    audit.record(
        AuditAction.ORDER_PAID,
        "order",
        order.id,
        practitioner_id=order.service.primary_practitioner_id,
        client_id=order.user_id,
        before={"status": previous_status},
        after={
            "status": OrderStatus.PAID,
            "total_cents": order.total_cents,
            "currency": order.currency,
            "reference": reference,
            "bookings_confirmed": [b.id for b in awaiting],
        },
    )
    log.info(
        "payment marked: order %s, user %s, %s %s, reference %r, bookings %s",
        order.id,
        order.user_id,
        order.total_cents,
        order.currency,
        reference,
        [b.id for b in awaiting],
    )
    return order
