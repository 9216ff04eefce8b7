"""A cancellation policy's fees: owed when a client cancels late or does not come,
charged by the worker to the card Checkout kept, waived by the practitioner.

Owing a fee writes the fee row and a portal event in the payment inbox in the caller's
unit of work (a cancel or an attendance mark): the charge happens after the commit, or
never. The worker (payment_events) charges the card off-session with the fee's own
idempotency key, outside any transaction, then records what Stripe answered under the
order's row lock; a waiver takes the same lock, so a fee ends one way only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from .. import audit
from ..core.errors import InvalidTransition
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    AuditAction,
    Booking,
    Fee,
    FeeKind,
    FeeStatus,
    PaymentEvent,
    StripeCustomer,
    User,
)
from . import notices
from .ledger import PAYMENT_EVENTS_RECEIVED, PORTAL
from .locks import lock_order

# The portal's own event in the payment inbox: a fee is to be charged.
FEE_DUE = "portal.fee_due"

log = logging.getLogger(__name__)


def owe_fee(booking: Booking, kind: FeeKind, now: datetime) -> Fee | None:
    """The policy's fee for this booking, owed once per kind (a second late cancel or
    no-show mark of the same booking owes nothing more); None when the policy has none."""
    amount = booking.service.fee_for(kind, booking.price_charged_cents)
    if amount <= 0 or any(
        f.booking_id == booking.id and f.kind == kind for f in booking.order.fees
    ):
        return None
    fee = Fee(
        order_id=booking.order_id,
        booking_id=booking.id,
        kind=kind,
        amount_cents=amount,
        currency=booking.order.currency,
        status=FeeStatus.PENDING,
        failure="",
        waive_reason="",
        created_at=now,
    )
    booking.order.fees.append(fee)
    db.session.flush()
    db.session.add(
        PaymentEvent(
            provider=PORTAL,
            event_id=f"fee-due:{fee.id}",
            event_type=FEE_DUE,
            object_id=str(fee.id),
            received_at=now,
            outcome="",
        )
    )
    db.session.info[PAYMENT_EVENTS_RECEIVED] = True
    log.info(
        "fee owed: %s %s %s, booking %s, order %s",
        kind.value,
        amount,
        fee.currency,
        booking.id,
        booking.order_id,
    )
    return fee


def keep_card(user_id: int, customer_id: str | None, payment_method_id: str | None) -> None:
    """Remember the customer and card a Checkout payment kept (the latest card wins)."""
    if not customer_id:
        return
    kept = db.session.get(StripeCustomer, (user_id, ""))
    if kept is None:
        kept = StripeCustomer(user_id=user_id, account="")
        db.session.add(kept)
    kept.customer_id = customer_id
    kept.payment_method_id = payment_method_id or kept.payment_method_id
    kept.updated_at = utcnow()
    db.session.flush()


def mark_fee_due(fee: Fee, client_id: int, failure: str, now: datetime) -> None:
    """The card did not pay: the fee is a balance the client owes, and they are told."""
    fee.status = FeeStatus.DUE
    fee.failure = failure[:200]
    fee.settled_at = now
    notices.fee_unpaid(fee, client_id)
    log.info("fee due: fee %s, order %s, %s", fee.id, fee.order_id, failure)


@unit_of_work
def waive_fee(fee: Fee, actor: User, *, reason: str = "", now: datetime | None = None) -> Fee:
    """The practitioner lets a fee go, before it is charged or once it is due."""
    now = now or utcnow()
    order = lock_order(fee.order_id)
    fee = next(f for f in order.fees if f.id == fee.id)
    db.session.refresh(fee)
    if fee.status not in (FeeStatus.PENDING, FeeStatus.DUE):
        raise InvalidTransition(
            gettext(
                "This fee is %(status_label)s; it can no longer be waived.",
                status_label=fee.status.label,
            )
        )
    before = fee.status
    fee.status = FeeStatus.WAIVED
    fee.waived_by_id = actor.id
    fee.waive_reason = reason
    fee.settled_at = now
    db.session.flush()
    audit.record(
        AuditAction.FEE_WAIVED,
        "fee",
        fee.id,
        practitioner_id=order.service.primary_practitioner_id,
        client_id=order.user_id,
        actor_id=actor.id,
        before={"status": before},
        after={"status": FeeStatus.WAIVED, "amount_cents": fee.amount_cents, "reason": reason},
    )
    log.info("fee waived: fee %s, order %s, by user %s", fee.id, order.id, actor.id)
    return fee
