"""Giving money back: a refund through the provider that took it, or recorded by hand.

A refund holds the order's row lock from the check to the record, the provider's call
included: two refunds of one order (a double click, the practitioner and an automatic
refund) queue there, and the second sees what the first gave back, so together they never
return more than was paid. The call carries an idempotency key fixed by the order's state
under that lock: a retry after a failure between the provider's answer and the commit asks
again with the same key and gets the same refund, and the provider's charge.refunded event
records it anyway (by its refund id, once).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..models import Order, Payment, PaymentKind, User
from . import notices
from .ledger import record_movement
from .locks import lock_order
from .payment_providers import MANUAL
from .stripe_provider import STRIPE, create_refund

log = logging.getLogger(__name__)


def _stripe_charge_with_room(order: Order, amount_cents: int) -> Payment | None:
    """The latest Stripe charge of the order with at least this much not yet refunded."""
    for charge in reversed(order.payments):
        if charge.kind != PaymentKind.CHARGE or charge.provider != STRIPE:
            continue
        refunded = sum(
            p.amount_cents
            for p in order.payments
            if p.kind == PaymentKind.REFUND
            and p.provider == STRIPE
            and p.provider_payment_intent_id == charge.provider_payment_intent_id
        )
        if charge.amount_cents - refunded >= amount_cents:
            return charge
    return None


def refund_locked(
    order: Order,
    amount_cents: int,
    *,
    reason: str,
    actor: User | None,
    now: datetime,
    manual: bool = False,
    key: str | None = None,
) -> Payment | None:
    """Refund part or all of a locked order (lock_order): through Stripe when a card
    charge can take it, else (or with `manual`) recorded as money given back by hand."""
    if amount_cents <= 0:
        raise InvalidInput(gettext("A refund is more than nothing."), field="amount")
    if amount_cents > order.amount_refundable:
        raise InvalidInput(
            gettext(
                "At most %(amount)s can be refunded.",
                amount=order.money_display(order.amount_refundable),
            ),
            field="amount",
        )
    charge = None if manual else _stripe_charge_with_room(order, amount_cents)
    if charge is None:
        payment = record_movement(
            order,
            PaymentKind.REFUND,
            amount_cents,
            provider=MANUAL,
            now=now,
            actor=actor,
            reason=reason,
            send_receipt=False,
        )
    else:
        refunds_so_far = sum(1 for p in order.payments if p.kind == PaymentKind.REFUND)
        refund = create_refund(
            charge.provider_object_id or "",
            amount_cents,
            order.currency,
            key=key or f"refund-order-{order.id}-{refunds_so_far}-{amount_cents}",
            # Back through the account that took the charge (Connect: maybe the
            # practitioner's own, maybe the installation's, if paid before they connected).
            account=charge.account,
        )
        payment = record_movement(
            order,
            PaymentKind.REFUND,
            refund.amount_cents,
            provider=STRIPE,
            now=now,
            actor=actor,
            reason=reason,
            provider_object_id=refund.refund_id,
            provider_payment_intent_id=charge.provider_payment_intent_id,
            account=charge.account,
            send_receipt=False,
        )
    if payment is not None:
        # One email: the refund's notice carries its receipt.
        notices.payment_refunded(order, payment.amount_cents, reason=reason, refund=payment)
    return payment


@unit_of_work
def refund_order(
    order: Order,
    amount_cents: int,
    *,
    reason: str,
    actor: User | None,
    manual: bool = False,
    now: datetime | None = None,
) -> Payment | None:
    """The practitioner (or staff) refunds an order, in full or in part, with a reason."""
    if not reason.strip():
        raise InvalidInput(gettext("Say why the money is refunded."), field="reason")
    order = lock_order(order.id)
    return refund_locked(
        order, amount_cents, reason=reason.strip(), actor=actor, now=now or utcnow(), manual=manual
    )
