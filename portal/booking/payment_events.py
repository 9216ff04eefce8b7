"""A payment provider's webhook events: stored on arrival, applied by the worker.

The webhook stores the event (once per event id: the unique column decides) and answers
at once. Applying one never trusts what the event carried: the objects it names are
fetched again from Stripe, outside any transaction (an HTTP call must not hold SQLite's
write lock or a row lock), and then one unit of work claims the event (a conditional
UPDATE of its row: pending -> applied) and records what Stripe said. Two appliers of
one event both fetch; one claims, the other finds it applied and writes nothing. Events
out of order are harmless: each records the state Stripe reports now, and every movement
is recorded once by its provider id (payments.record_provider_payment, ledger).

A payment that arrives after its hold lapsed takes its seats again if they are free;
otherwise the client is refunded in full at once and told (refund_unplaceable). A payment
whose intent names a fee (the off-session charge, or a due fee paid on Checkout) is the
fee's: recorded once as a fee row; if the fee was waived or paid meanwhile, it goes back to
that charge. A connected account's event (Stripe Connect) is asked again on that account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..core.errors import HoldExpired
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    Booking,
    CancelReason,
    Fee,
    FeeStatus,
    Order,
    Payment,
    PaymentEvent,
    PaymentKind,
    Service,
    StripeCustomer,
)
from . import notices
from .connect import record_account_state
from .fees import FEE_DUE, keep_card, mark_fee_due
from .ledger import PAYMENT_EVENTS_RECEIVED, REFUND_DUE, record_movement
from .locks import lock_order
from .memberships import apply_subscription, grant_period, payment_failed, take_back_refunded
from .payments import record_provider_payment
from .refunds import refund_locked
from .stripe_billing import StripeInvoice, StripeSubscription, fetch_invoice, fetch_subscription
from .stripe_provider import (
    STRIPE,
    OffSessionCharge,
    StripeCharge,
    StripeDispute,
    account_of,
    charge_off_session,
    configured,
    create_refund,
    fetch_account_ready,
    fetch_checkout_payment,
    fetch_dispute,
    fetch_payment,
    fetch_refunds,
)

log = logging.getLogger(__name__)

# The Stripe events acted on; any other is acknowledged and dropped.
PAYMENT_SUCCEEDED = "payment_intent.succeeded"
CHECKOUT_COMPLETED = "checkout.session.completed"
CHARGE_REFUNDED = "charge.refunded"
DISPUTE_CREATED = "charge.dispute.created"
DISPUTE_CLOSED = "charge.dispute.closed"
# A connected account's onboarding moved on (Stripe Connect).
ACCOUNT_UPDATED = "account.updated"
# A membership's subscription (memberships.py): each fetched again and recorded as it is now.
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)
INVOICE_PAID = "invoice.paid"
INVOICE_PAYMENT_FAILED = "invoice.payment_failed"
HANDLED_EVENTS = (
    PAYMENT_SUCCEEDED,
    CHECKOUT_COMPLETED,
    CHARGE_REFUNDED,
    DISPUTE_CREATED,
    DISPUTE_CLOSED,
    ACCOUNT_UPDATED,
    *SUBSCRIPTION_EVENTS,
    INVOICE_PAID,
    INVOICE_PAYMENT_FAILED,
)

APPLY_BATCH = 100

# The ledger row's reason: for the practitioner's order page and the revenue report.
LATE_REASON = "paid after the hold lapsed; the place was taken"


@unit_of_work
def receive_payment_event(
    event_id: str, event_type: str, object_id: str, account: str = ""
) -> bool:
    """Store a verified event for the worker; False when its id came before (or it is a
    kind not acted on). `account`: the connected account it happened on (Connect), "" for
    the installation's own. One INSERT, no other query."""
    if event_type not in HANDLED_EVENTS:
        return False
    spelling = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stored = db.session.execute(
        spelling.insert(PaymentEvent)
        .values(
            provider=STRIPE,
            event_id=event_id,
            event_type=event_type,
            object_id=object_id,
            account=account,
            received_at=utcnow(),
            outcome="",
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(PaymentEvent.id)
    ).first()
    if stored is None:
        return False
    db.session.info[PAYMENT_EVENTS_RECEIVED] = True
    log.info("payment event stored: %s %s (%s)", event_type, event_id, object_id)
    return True


def _claim(event_id: int, outcome: str, now: datetime) -> bool:
    """Pending -> applied, in the unit that applies it; False if another applier won."""
    claimed = db.session.execute(
        update(PaymentEvent)
        .where(PaymentEvent.id == event_id, PaymentEvent.applied_at.is_(None))
        .values(applied_at=now, outcome=outcome[:200])
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, claimed).rowcount == 1


@unit_of_work
def _apply_charge(event_id: int, charge: StripeCharge, now: datetime) -> str:
    if not _claim(event_id, f"order {charge.order_id} charged", now):
        return "already applied"
    if db.session.get(Order, charge.order_id) is None:
        log.warning("Stripe charge %s names no order %s", charge.charge_id, charge.order_id)
        return "no such order"
    record_provider_payment(
        charge.order_id,
        amount_cents=charge.amount_cents,
        provider=STRIPE,
        charge_id=charge.charge_id,
        payment_intent_id=charge.payment_intent_id,
        account=charge.account,
        now=now,
    )
    keep_card(
        db.session.get_one(Order, charge.order_id).user_id,
        charge.customer_id,
        charge.payment_method_id,
        charge.account,
    )
    return "charge recorded"


@unit_of_work
def _record_unplaceable(
    event_id: int, charge: StripeCharge, refund_id: str, refunded: int, now: datetime
) -> str:
    if not _claim(event_id, f"order {charge.order_id} refunded: seats gone", now):
        return "already applied"
    order = lock_order(charge.order_id)
    record_movement(
        order,
        PaymentKind.CHARGE,
        charge.amount_cents,
        provider=STRIPE,
        now=now,
        provider_object_id=charge.charge_id,
        provider_payment_intent_id=charge.payment_intent_id,
        account=charge.account,
    )
    back = record_movement(
        order,
        PaymentKind.REFUND,
        refunded,
        provider=STRIPE,
        now=now,
        provider_object_id=refund_id,
        provider_payment_intent_id=charge.payment_intent_id,
        reason=LATE_REASON,
        account=charge.account,
        send_receipt=False,
    )
    notices.payment_refunded(order, refunded, place_taken=True, refund=back)
    log.info(
        "late payment refunded: order %s, charge %s, refund %s, its seats were taken",
        order.id,
        charge.charge_id,
        refund_id,
    )
    return "refunded: seats gone"


def refund_unplaceable(event_id: int, charge: StripeCharge, now: datetime) -> str:
    """A payment for an order whose seats are gone: refund it whole, then record both."""
    currency = db.session.execute(
        select(Order.currency).where(Order.id == charge.order_id)
    ).scalar_one()
    db.session.rollback()
    refund = create_refund(
        charge.charge_id,
        charge.amount_cents,
        currency,
        key=f"unplaceable-{charge.charge_id}",
        account=charge.account,
    )
    return _record_unplaceable(event_id, charge, refund.refund_id, refund.amount_cents, now)


def _refund_fee_charge(
    order: Order,
    charged: int,
    charge_id: str,
    payment_intent_id: str | None,
    why: str,
    now: datetime,
    account: str,
) -> None:
    """Give a fee's card payment back to that very charge, once (the key is the charge's):
    the fee ended another way (waived, or paid already) while the card was paying."""
    refund = create_refund(
        charge_id, charged, order.currency, key=f"fee-back-{charge_id}", account=account
    )
    back = record_movement(
        order,
        PaymentKind.REFUND,
        refund.amount_cents,
        provider=STRIPE,
        now=now,
        provider_object_id=refund.refund_id,
        provider_payment_intent_id=payment_intent_id,
        reason=why,
        account=account,
        send_receipt=False,
    )
    if back is not None:
        notices.payment_refunded(order, refund.amount_cents, reason=why, refund=back)


def _fee_charged(
    order: Order,
    fee: Fee,
    charge_id: str,
    payment_intent_id: str | None,
    now: datetime,
    account: str = "",
    charged: int | None = None,
) -> str:
    """A locked order's fee was paid by card (off-session, or on Checkout once due): the
    money is a fee row, once per charge. The one who records it decides the fee: still
    owed, it is charged; waived or paid meanwhile, the money goes back to that card.
    `charged` is what the card paid as Stripe says (a three-decimal fee goes in tens,
    money.py), else the fee's amount."""
    charged = charged or fee.amount_cents
    recorded = record_movement(
        order,
        PaymentKind.FEE,
        charged,
        provider=STRIPE,
        now=now,
        provider_object_id=charge_id,
        provider_payment_intent_id=payment_intent_id,
        reason=fee.kind.value,
        account=account,
    )
    if recorded is None:
        return f"fee {fee.id}: charge {charge_id} already recorded"
    if fee.status in (FeeStatus.PENDING, FeeStatus.DUE):
        fee.status = FeeStatus.CHARGED
        fee.settled_at = now
        log.info("fee charged: fee %s, order %s, charge %s", fee.id, order.id, charge_id)
        return f"fee charged {fee.amount_cents}"
    why = "fee waived" if fee.status == FeeStatus.WAIVED else "fee paid already"
    _refund_fee_charge(order, charged, charge_id, payment_intent_id, why, now, account)
    log.info("fee %s was %s: charge %s refunded", fee.id, fee.status.value, charge_id)
    return f"charged, then refunded: {why}"


@unit_of_work
def _apply_fee_payment(event_id: int, charge: StripeCharge, now: datetime) -> str:
    if not _claim(event_id, f"fee {charge.fee_id} paid", now):
        return "already applied"
    fee = db.session.get(Fee, charge.fee_id)
    if fee is None or fee.order_id != charge.order_id:
        log.warning("Stripe charge %s names no fee %s", charge.charge_id, charge.fee_id)
        return "no such fee"
    order = lock_order(fee.order_id)
    db.session.refresh(fee)
    return _fee_charged(
        order,
        fee,
        charge.charge_id,
        charge.payment_intent_id,
        now,
        charge.account,
        charged=charge.amount_cents,
    )


def _on_charge(event_id: int, charge: StripeCharge | None, now: datetime) -> str:
    if charge is None:
        return _nothing(event_id, "not paid", now)
    if charge.fee_id is not None:
        return _apply_fee_payment(event_id, charge, now)
    try:
        return _apply_charge(event_id, charge, now)
    except HoldExpired:
        return refund_unplaceable(event_id, charge, now)


@unit_of_work
def _nothing(event_id: int, outcome: str, now: datetime) -> str:
    _claim(event_id, outcome, now)
    return outcome


def _order_of_charge(charge_id: str) -> int | None:
    return db.session.scalar(
        select(Payment.order_id).where(
            Payment.provider == STRIPE,
            Payment.kind == PaymentKind.CHARGE,
            Payment.provider_object_id == charge_id,
        )
    )


@unit_of_work
def _apply_refunds(event_id: int, charge_id: str, refunds, account: str, now: datetime) -> str:
    if not _claim(event_id, f"refunds of {charge_id}", now):
        return "already applied"
    order_id = _order_of_charge(charge_id)
    if order_id is None:
        return "charge not ours"
    order = lock_order(order_id)
    for refund in refunds:
        record_movement(
            order,
            PaymentKind.REFUND,
            refund.amount_cents,
            provider=STRIPE,
            now=now,
            provider_object_id=refund.refund_id,
            reason="refunded at Stripe",
            account=account,
        )
    if take_back_refunded(order, now):
        return "refunds recorded: the period's credits taken back"
    return "refunds recorded"


def _on_refunded(event_id: int, charge_id: str, account: str, now: datetime) -> str:
    _currency, refunds = fetch_refunds(charge_id, account)
    return _apply_refunds(event_id, charge_id, refunds, account, now)


@unit_of_work
def _apply_dispute(event_id: int, dispute: StripeDispute, now: datetime) -> str:
    """A dispute as Stripe reports it now, whichever of its events came: the amount the
    bank took is a dispute row, and a dispute won gives it back in a row of its own. Each
    is recorded once by the dispute's id, so the created and closed events, in either
    order or twice, leave the same rows."""
    if not _claim(event_id, f"dispute {dispute.dispute_id}: {dispute.status}", now):
        return "already applied"
    order_id = _order_of_charge(dispute.charge_id)
    if order_id is None:
        return "charge not ours"
    order = lock_order(order_id)
    record_movement(
        order,
        PaymentKind.DISPUTE,
        dispute.amount_cents,
        provider=STRIPE,
        now=now,
        provider_object_id=dispute.dispute_id,
        reason="disputed with the bank",
    )
    if dispute.won:
        record_movement(
            order,
            PaymentKind.DISPUTE_WON,
            dispute.amount_cents,
            provider=STRIPE,
            now=now,
            provider_object_id=dispute.dispute_id,
            reason="dispute won",
        )
    log.info(
        "dispute %s of order %s (charge %s): %s %s",
        dispute.dispute_id,
        order.id,
        dispute.charge_id,
        dispute.amount_cents,
        dispute.status,
    )
    return f"dispute {dispute.status}"


def _on_dispute(event_id: int, dispute_id: str, account: str, now: datetime) -> str:
    return _apply_dispute(event_id, fetch_dispute(dispute_id, account), now)


@unit_of_work
def _refund_due(event_id: int, booking_id: str, now: datetime) -> str:
    """A canceled seat's price back to the card that paid it, once (the claim and the
    idempotency key are both the seat's)."""
    if not _claim(event_id, f"refund of booking {booking_id}", now):
        return "already applied"
    seat = db.session.get_one(Booking, int(booking_id))
    order = lock_order(seat.order_id)
    if not any(p.kind == PaymentKind.CHARGE and p.provider == STRIPE for p in order.payments):
        return "paid by hand: refunded by hand"
    amount = min(seat.price_charged_cents, order.amount_refundable)
    if amount <= 0:
        return "nothing left to refund"
    refund_locked(
        order,
        amount,
        reason=CancelReason.SESSION_CANCELED.value,
        actor=None,
        now=now,
        key=f"refund-due-booking-{seat.id}",
    )
    return f"refunded {amount}"


@unit_of_work
def _settle_fee(
    event_id: int, fee_id: int, answer: OffSessionCharge | None, account: str, now: datetime
) -> str:
    """Record what the card said (None: no card to ask) under the order's lock."""
    if not _claim(event_id, f"fee {fee_id}", now):
        return "already applied"
    order_id = db.session.execute(select(Fee.order_id).where(Fee.id == fee_id)).scalar_one()
    order = lock_order(order_id)
    fee = next(f for f in order.fees if f.id == fee_id)
    db.session.refresh(fee)
    if answer is not None:
        fee.provider_payment_intent_id = answer.payment_intent_id
    if answer is not None and answer.charge_id is not None:
        return _fee_charged(
            order,
            fee,
            answer.charge_id,
            answer.payment_intent_id,
            now,
            account,
            charged=answer.amount_cents,
        )
    if fee.status != FeeStatus.PENDING:
        return f"fee {fee.status.value}"
    mark_fee_due(fee, order.user_id, answer.failure if answer else "no card on file", now)
    return "fee due"


def _fee_due(event_id: int, fee_id: str, _account: str, now: datetime) -> str:
    """Charge a fee to the card kept at the account the practitioner is paid on, outside
    any transaction (the key is the fee's, so a second applier's call returns the same
    charge), then record the answer."""
    row = db.session.execute(
        select(
            Fee.id,
            Fee.status,
            Fee.amount_cents,
            Fee.currency,
            Fee.order_id,
            Order.user_id,
            Service.primary_practitioner_id,
        )
        .join(Order, Order.id == Fee.order_id)
        .join(Service, Service.id == Order.service_id)
        .where(Fee.id == int(fee_id))
    ).one()
    account = account_of(row.primary_practitioner_id)
    card = db.session.execute(
        select(StripeCustomer.customer_id, StripeCustomer.payment_method_id).where(
            StripeCustomer.user_id == row.user_id, StripeCustomer.account == account
        )
    ).first()
    db.session.rollback()
    if row.status != FeeStatus.PENDING:
        return _nothing(event_id, f"fee {row.status.value}", now)
    answer = None
    if card is not None and card.payment_method_id and configured():
        answer = charge_off_session(
            card.customer_id,
            card.payment_method_id,
            row.amount_cents,
            row.currency,
            order_id=row.order_id,
            fee_id=row.id,
            account=account,
        )
    return _settle_fee(event_id, row.id, answer, account, now)


@unit_of_work
def _apply_account(event_id: int, account_id: str, ready: bool, now: datetime) -> str:
    if not _claim(event_id, f"account {account_id}: {'ready' if ready else 'not ready'}", now):
        return "already applied"
    return record_account_state(account_id, ready, now)


def _on_account(event_id: int, account_id: str, _account: str, now: datetime) -> str:
    """A connected account changed: whether it takes charges, as Stripe says now."""
    return _apply_account(event_id, account_id, fetch_account_ready(account_id), now)


def _on_subscription(event_id: int, subscription_id: str, _account: str, now: datetime) -> str:
    return _record_subscription(event_id, fetch_subscription(subscription_id), now)


@unit_of_work
def _record_subscription(event_id: int, sub: StripeSubscription, now: datetime) -> str:
    if not _claim(event_id, f"subscription {sub.subscription_id}", now):
        return "already applied"
    return apply_subscription(sub, now)


def _on_invoice(event_id: int, invoice_id: str, _account: str, now: datetime) -> str:
    """An invoice paid or declined, with its subscription as Stripe has both now: a paid
    one grants its period (once by invoice), a declined one leaves the membership past due."""
    invoice = fetch_invoice(invoice_id)
    if invoice.subscription_id is None:
        return _nothing(event_id, "not a subscription's invoice", now)
    return _record_invoice(event_id, invoice, fetch_subscription(invoice.subscription_id), now)


@unit_of_work
def _record_invoice(event_id: int, invoice: StripeInvoice, sub: StripeSubscription, now) -> str:
    if not _claim(event_id, f"invoice {invoice.invoice_id}", now):
        return "already applied"
    if invoice.paid:
        return grant_period(invoice, sub, now)
    return payment_failed(invoice, sub, now)


_APPLIERS: dict[str, Callable[[int, str, str, datetime], str]] = {
    PAYMENT_SUCCEEDED: lambda eid, oid, acct, now: _on_charge(eid, fetch_payment(oid, acct), now),
    CHECKOUT_COMPLETED: lambda eid, oid, acct, now: _on_charge(
        eid, fetch_checkout_payment(oid, acct), now
    ),
    CHARGE_REFUNDED: _on_refunded,
    DISPUTE_CREATED: _on_dispute,
    DISPUTE_CLOSED: _on_dispute,
    ACCOUNT_UPDATED: _on_account,
    REFUND_DUE: lambda eid, oid, _acct, now: _refund_due(eid, oid, now),
    FEE_DUE: _fee_due,
    **dict.fromkeys(SUBSCRIPTION_EVENTS, _on_subscription),
    INVOICE_PAID: _on_invoice,
    INVOICE_PAYMENT_FAILED: _on_invoice,
}


def apply_payment_events(*, now: datetime | None = None) -> int:
    """Apply the pending payment events, oldest first; returns how many this call applied.
    An event whose fetch fails stays pending for the next run."""
    applied = 0
    with db.engine.connect() as connection:
        pending = connection.execute(
            select(
                PaymentEvent.id,
                PaymentEvent.event_type,
                PaymentEvent.object_id,
                PaymentEvent.account,
            )
            .where(PaymentEvent.applied_at.is_(None))
            .order_by(PaymentEvent.id)
            .limit(APPLY_BATCH)
        ).all()
    for event_id, event_type, object_id, account in pending:
        try:
            outcome = _APPLIERS[event_type](event_id, object_id, account, now or utcnow())
        except Exception:  # noqa: BLE001 - left pending: the next run tries it again
            log.exception("payment event %s (%s) not applied; will retry", event_id, event_type)
            db.session.rollback()
            continue
        if outcome != "already applied":
            applied += 1
        log.info("payment event %s (%s %s): %s", event_id, event_type, object_id, outcome)
    return applied
