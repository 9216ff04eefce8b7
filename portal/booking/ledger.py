"""The payments ledger's one primitive: a money movement written as a row.

Callers hold the order's row lock (locks.lock_order), so the sums they read from the
order's rows (Order.amount_paid and friends) are the sums the new row joins.
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..extensions import db
from ..models import Booking, Order, Payment, PaymentEvent, PaymentKind, User

# Set on the session when a payment event (a provider's, or a refund owed) is stored: the
# worker is woken after the commit (portal/worker.py).
PAYMENT_EVENTS_RECEIVED = "portal_payment_events_received"

# The portal's own event in the payment inbox: a seat's money is owed back.
PORTAL = "portal"
REFUND_DUE = "portal.refund_due"

log = logging.getLogger(__name__)


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
) -> Payment | None:
    """Add one movement to the order's ledger; None when there is nothing to write (a zero
    amount, or a provider object already recorded: a webhook delivered twice)."""
    if amount_cents <= 0:
        return None
    recorded = order.payments
    if provider_object_id is not None and any(
        p.provider == provider and p.kind == kind and p.provider_object_id == provider_object_id
        for p in recorded
    ):
        return None
    payment = Payment(
        kind=kind,
        amount_cents=amount_cents,
        currency=order.currency,
        provider=provider,
        provider_object_id=provider_object_id,
        provider_payment_intent_id=provider_payment_intent_id,
        provider_checkout_session_id=provider_checkout_session_id,
        actor_id=actor.id if actor is not None else None,
        reason=reason,
        created_at=now,
    )
    recorded.append(payment)
    db.session.flush()
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
