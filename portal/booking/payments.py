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
    PaymentKind,
    ServiceType,
    User,
    WebhookEventType,
)
from . import events, notices
from .checkout import purchase
from .ledger import has_movement, record_movement
from .locks import lock_order
from .offers import offer_claimed
from .payment_providers import MANUAL
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


def settle(order: Order, *, reference: str, now: datetime) -> Order:
    """A locked order's booking amount has arrived: pending (or expired) -> paid, and the
    bookings awaiting payment become confirmed. The caller records the money after, and
    tells the client (notices.payment_received, which carries the money's receipt)."""
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
        # An expired order: a late payment still counts, if its seats are free.
        _rebook_expired(order, expired, now)
        order = lock_order(order.id)
    move_order(order, OrderStatus.PAID, now=now, payment_reference=reference, hold_expires_at=None)
    awaiting = [b for b in order.bookings if b.status == BookingStatus.PENDING_PAYMENT]
    move_bookings(awaiting, BookingStatus.CONFIRMED, now=now)
    offer_claimed(order, now=now)
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
            # Whether one was given, not its words: a typed reference ("cash from Ann") can
            # name the payer, and this log outlives an erased client (portal/privacy).
            "reference_given": bool(reference),
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


@unit_of_work
def confirm_payment(
    order: Order,
    *,
    reference: str = "",
    now: datetime | None = None,
    actor: User | None = None,
) -> Order:
    """Money received outside any provider (cash, transfer), marked by a person: the
    amount still due becomes a manual_payment row; a pending order becomes paid.

    A paid order with a balance due (a deposit paid, or pay-later) has its balance
    recorded and stays paid.
    """
    now = now or utcnow()
    order = lock_order(order.id)
    if order.status == OrderStatus.PAID and order.amount_due > 0:
        record_movement(
            order,
            PaymentKind.MANUAL_PAYMENT,
            order.amount_due,
            provider=MANUAL,
            now=now,
            actor=actor,
            reason=reference,
        )
        return order
    amount = order.total_cents - order.amount_paid
    order = settle(order, reference=reference, now=now)
    payment = record_movement(
        order,
        PaymentKind.MANUAL_PAYMENT,
        amount,
        provider=MANUAL,
        now=now,
        actor=actor,
        reason=reference,
        send_receipt=False,
    )
    notices.payment_received(order, payment)
    return order


@unit_of_work
def record_provider_payment(
    order_id: int,
    *,
    amount_cents: int,
    provider: str,
    charge_id: str,
    payment_intent_id: str | None = None,
    checkout_session_id: str | None = None,
    account: str = "",
    now: datetime | None = None,
) -> Order:
    """A provider reports money received for an order (its verified event, re-fetched).

    The charge is a row, once per charge id: a second report changes nothing. When what
    is paid covers what the booking asks at booking (the deposit or the total), a pending
    order becomes paid; an expired one takes its seats again, or raises HoldExpired
    (nothing is recorded then: the caller refunds and records both, refund_unplaceable).
    """
    now = now or utcnow()
    order = lock_order(order_id)
    if has_movement(order, PaymentKind.CHARGE, provider, charge_id):
        return order
    settles = (
        order.status in (OrderStatus.PENDING, OrderStatus.EXPIRED)
        and order.amount_paid + amount_cents >= order.amount_due_at_booking
    )
    if settles:
        # Settled before the charge is recorded: recording takes the receipt counter's
        # lock, which comes after the seats' (ledger.py).
        order = settle(order, reference=charge_id, now=now)
    payment = record_movement(
        order,
        PaymentKind.CHARGE,
        amount_cents,
        provider=provider,
        now=now,
        provider_object_id=charge_id,
        provider_payment_intent_id=payment_intent_id,
        provider_checkout_session_id=checkout_session_id,
        account=account,
        # A payment that confirms the booking says so and carries its receipt in one email.
        send_receipt=not settles,
    )
    if settles:
        notices.payment_received(order, payment)
    return order
