"""The payments ledger's one primitive: a money movement written as a row.

Callers hold the order's row lock (locks.lock_order), so the sums they read from the
order's rows (Order.amount_paid and friends) are the sums the new row joins. Recording
issues the movement's receipt, which locks the practitioner's receipt counter to the
commit: callers record after their other writes (sessions, seats), so that lock is the
last they take and two payments of one practitioner never wait on each other in a circle.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..extensions import db
from ..models import Booking, Order, Payment, PaymentEvent, PaymentKind, User
from .receipts import issue_receipt

# Set on the session when a payment event (a provider's, or a refund owed) is stored: the
# worker is woken after the commit (portal/worker.py).
PAYMENT_EVENTS_RECEIVED = "portal_payment_events_received"

# The portal's own event in the payment inbox: a seat's money is owed back.
PORTAL = "portal"
REFUND_DUE = "portal.refund_due"

log = logging.getLogger(__name__)


def has_movement(order: Order, kind: PaymentKind, provider: str, provider_object_id: str) -> bool:
    """Whether the provider's movement is already a row of the order."""
    return any(
        p.provider == provider and p.kind == kind and p.provider_object_id == provider_object_id
        for p in order.payments
    )


def record_movement(
    order: Order,
    kind: PaymentKind,
    amount_cents: int,
    *,
    provider: str,
    now: datetime,
    actor: User | None = None,
    reason: str = "",
    provider_object_id: str | None = None,
    provider_payment_intent_id: str | None = None,
    provider_checkout_session_id: str | None = None,
    account: str = "",
    send_receipt: bool = True,
) -> Payment | None:
    """Add one movement to the order's ledger, with its receipt; None when there is nothing
    to write (a zero amount, or a provider object already recorded: a webhook delivered
    twice). `send_receipt` False: the caller sends the receipt (payment.receipt) in its own
    message about the movement."""
    if amount_cents <= 0:
        return None
    if provider_object_id is not None and has_movement(order, kind, provider, provider_object_id):
        return None
    payment = Payment(
        kind=kind,
        amount_cents=amount_cents,
        currency=order.currency,
        provider=provider,
        provider_object_id=provider_object_id,
        provider_payment_intent_id=provider_payment_intent_id,
        provider_checkout_session_id=provider_checkout_session_id,
        account=account,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
        created_at=now,
    )
    order.payments.append(payment)
    db.session.flush()
    issue_receipt(order, payment, now, send=send_receipt)
    log.info(
        "money movement: order %s, %s %s %s via %s (%s), by user %s, reason %r",
        order.id,
        kind.value,
        amount_cents,
        order.currency,
        provider,
        provider_object_id,
        payment.actor_id,
        reason,
    )
    return payment


def owe_refund(booking: Booking, now: datetime) -> None:
    """The practitioner canceled a paid seat: its price goes back to the card, by the
    worker (payment_events), in this unit of work's commit or not at all. Once per seat."""
    db.session.add(
        PaymentEvent(
            provider=PORTAL,
            event_id=f"refund-due:booking:{booking.id}",
            event_type=REFUND_DUE,
            object_id=str(booking.id),
            received_at=now,
            outcome="",
        )
    )
    db.session.info[PAYMENT_EVENTS_RECEIVED] = True
    log.info("refund owed: booking %s, order %s", booking.id, booking.order_id)
