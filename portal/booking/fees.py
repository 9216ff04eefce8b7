"""A cancellation policy's fees: owed when a client cancels late or does not come,
charged by the worker to the card Checkout kept, waived by the practitioner; a fee the
card did not pay is due: the client pays it on Checkout (settled by its verified event,
payment_events) or the practitioner marks it paid by hand.

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
from ..core.errors import InvalidTransition, PaymentProviderUnavailable
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    AuditAction,
    Booking,
    Fee,
    FeeKind,
    FeeStatus,
    Order,
    PaymentEvent,
    PaymentKind,
    StripeCustomer,
    User,
)
from . import notices
from .ledger import PAYMENT_EVENTS_RECEIVED, PORTAL, record_movement
from .locks import lock_order
from .payment_providers import MANUAL, PaymentStart
from .stripe_provider import PROVIDER, configured

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


def keep_card(
    user_id: int, customer_id: str | None, payment_method_id: str | None, account: str = ""
) -> None:
    """Remember the customer and card a Checkout payment kept at the account it was made
    on (the latest card wins)."""
    if not customer_id:
        return
    kept = db.session.get(StripeCustomer, (user_id, account))
    if kept is None:
        kept = StripeCustomer(user_id=user_id, account=account)
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
    order, fee = _locked_fee(fee)
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


def _locked_fee(fee: Fee) -> tuple[Order, Fee]:
    """The fee as it stands under its order's row lock (the lock its charge, its online
    payment and its waiver all take, so a fee ends one way only)."""
    order = lock_order(fee.order_id)
    fee = next(f for f in order.fees if f.id == fee.id)
    db.session.refresh(fee)
    return order, fee


def _refuse_unless_due(fee: Fee) -> None:
    if fee.status != FeeStatus.DUE:
        raise InvalidTransition(
            gettext(
                "This fee is %(status_label)s; nothing is due on it.",
                status_label=fee.status.label,
            )
        )


def can_pay_fee_online(fee: Fee) -> bool:
    """Whether the client can pay this fee by card now: it is due and cards are taken."""
    return fee.status == FeeStatus.DUE and configured()


def start_fee_payment(order: Order, fee: Fee) -> PaymentStart:
    """Send the client to pay a due fee on Checkout. The fee is settled only by the
    payment's verified event (payment_events), never by the browser's return."""
    _refuse_unless_due(fee)
    if not configured():
        raise PaymentProviderUnavailable(gettext("Card payments are not set up."))
    return PROVIDER.start_fee(order, fee)


@unit_of_work
def mark_fee_paid(
    fee: Fee, actor: User, *, reference: str = "", now: datetime | None = None
) -> Fee:
    """The practitioner records a due fee paid outside the portal (cash, transfer): a fee
    row of the ledger, by hand, with who recorded it."""
    now = now or utcnow()
    order, fee = _locked_fee(fee)
    _refuse_unless_due(fee)
    fee.status = FeeStatus.CHARGED
    fee.settled_at = now
    record_movement(
        order,
        PaymentKind.FEE,
        fee.amount_cents,
        provider=MANUAL,
        now=now,
        actor=actor,
        reason=reference or fee.kind.value,
    )
    log.info("fee paid by hand: fee %s, order %s, by user %s", fee.id, order.id, actor.id)
    return fee
