"""Stripe Billing: a membership's subscription, started on Checkout and read back from Stripe.

As with payments (stripe_provider.py), nothing an event carried is trusted: the subscription
and the invoice it names are fetched again and reduced to the few facts the portal records.
The client's own changes (pause, resume, cancel, another plan) are asked of Stripe here; the
membership changes only when Stripe's event about it is applied (memberships.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import stripe
from flask_babel import gettext
from stripe.params import SubscriptionUpdateParams
from stripe.params.checkout import SessionCreateParams

from ..core.errors import PaymentProviderUnavailable
from ..extensions import db
from ..models import BillingPeriod, MembershipPlan, MembershipStatus, StripeCustomer, User
from ..money import from_stripe_amount, to_stripe_amount
from .stripe_provider import _id, client

log = logging.getLogger(__name__)

# What Stripe bills for each of the portal's periods.
RECURRING: dict[BillingPeriod, dict[str, str | int]] = {
    BillingPeriod.MONTH: {"interval": "month", "interval_count": 1},
    BillingPeriod.FOUR_WEEKS: {"interval": "week", "interval_count": 4},
    BillingPeriod.YEAR: {"interval": "year", "interval_count": 1},
}


def _moment(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _field(obj, name: str):
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


@dataclass(frozen=True)
class StripeSubscription:
    """A subscription as Stripe has it now."""

    subscription_id: str
    customer_id: str
    status: MembershipStatus
    period_start: datetime | None
    period_end: datetime | None
    cancel_at_period_end: bool
    cancel_at: datetime | None
    user_id: int | None
    plan_id: int | None
    item_id: str | None
    price_cents: int
    currency: str


def membership_status(stripe_status: str, paused: bool) -> MembershipStatus:
    """Stripe's eight statuses, as the four a client's credits depend on: only a paid-up
    subscription spends; one Stripe still retries (or never got paid) waits."""
    if stripe_status in ("canceled", "incomplete_expired"):
        return MembershipStatus.CANCELED
    if paused or stripe_status == "paused":
        return MembershipStatus.PAUSED
    if stripe_status in ("active", "trialing"):
        return MembershipStatus.ACTIVE
    return MembershipStatus.PAST_DUE


def fetch_subscription(subscription_id: str) -> StripeSubscription:
    sub = client().v1.subscriptions.retrieve(subscription_id)
    metadata = sub.metadata.to_dict() if sub.metadata else {}
    items = _field(_field(sub, "items"), "data") or []
    item = items[0] if items else None
    # A price, or the older plan object some servers still answer with (localstripe).
    price = _field(item, "price") or _field(item, "plan")
    currency = (_field(price, "currency") or _field(sub, "currency") or "usd").upper()
    # Newer API versions keep the period on the item, older ones on the subscription.
    start = _field(sub, "current_period_start") or _field(item, "current_period_start")
    end = _field(sub, "current_period_end") or _field(item, "current_period_end")
    return StripeSubscription(
        subscription_id=sub.id,
        customer_id=_id(_field(sub, "customer")) or "",
        status=membership_status(sub.status, bool(_field(sub, "pause_collection"))),
        period_start=_moment(start),
        period_end=_moment(end),
        cancel_at_period_end=bool(_field(sub, "cancel_at_period_end")),
        cancel_at=_moment(_field(sub, "cancel_at")),
        user_id=int(metadata["user_id"]) if metadata.get("user_id") else None,
        plan_id=int(metadata["plan_id"]) if metadata.get("plan_id") else None,
        item_id=_field(item, "id"),
        price_cents=from_stripe_amount(
            _field(price, "unit_amount") or _field(price, "amount") or 0, currency
        ),
        currency=currency,
    )


@dataclass(frozen=True)
class StripeInvoice:
    """A subscription's invoice as Stripe has it now: paid or not, for which period."""

    invoice_id: str
    subscription_id: str | None
    paid: bool
    amount_cents: int
    currency: str
    charge_id: str | None
    payment_intent_id: str | None
    period_start: datetime | None
    period_end: datetime | None


def fetch_invoice(invoice_id: str) -> StripeInvoice:
    invoice = client().v1.invoices.retrieve(invoice_id)
    currency = (invoice.currency or "usd").upper()
    subscription = _field(invoice, "subscription") or _field(
        _field(_field(invoice, "parent"), "subscription_details"), "subscription"
    )
    lines = _field(_field(invoice, "lines"), "data") or []
    # The subscription's own line says which period was billed (a proration line does not).
    billed = next((line for line in lines if not _field(line, "proration")), None)
    period = _field(billed, "period") if billed is not None else None
    return StripeInvoice(
        invoice_id=invoice.id,
        subscription_id=_id(subscription),
        paid=invoice.status == "paid",
        amount_cents=from_stripe_amount(_field(invoice, "amount_paid") or 0, currency),
        currency=currency,
        charge_id=_id(_field(invoice, "charge")),
        payment_intent_id=_id(_field(invoice, "payment_intent")),
        period_start=_moment(_field(period, "start")),
        period_end=_moment(_field(period, "end")),
    )


def _price_data(plan: MembershipPlan) -> dict:
    service = plan.service
    return {
        "currency": service.currency.lower(),
        "unit_amount": to_stripe_amount(service.price_cents, service.currency),
        "recurring": RECURRING[plan.period],
        "product_data": {"name": service.name},
    }


def _unavailable(exc: stripe.StripeError, what: str) -> PaymentProviderUnavailable:
    log.warning("Stripe refused %s: %s", what, exc)
    return PaymentProviderUnavailable(
        gettext("Card payment is unavailable right now; try again in a few minutes.")
    )


def start_subscription(
    user: User, plan: MembershipPlan, *, key: str, success_url: str, cancel_url: str
) -> str:
    """A Checkout Session in subscription mode; its URL. The subscription carries the client
    and the plan, so its events name them whoever delivers them first."""
    metadata = {"user_id": str(user.id), "plan_id": str(plan.service_id)}
    params: dict = {
        "mode": "subscription",
        "client_reference_id": str(user.id),
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "line_items": [{"quantity": 1, "price_data": _price_data(plan)}],
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    known = db.session.get(StripeCustomer, (user.id, ""))
    if known is not None:
        params["customer"] = known.customer_id
    else:
        params["customer_email"] = user.email
    try:
        session = client().v1.checkout.sessions.create(
            cast(SessionCreateParams, params), {"idempotency_key": key}
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc, f"a subscription for user {user.id}") from exc
    return session.url or ""


def update_subscription(subscription_id: str, params: dict, *, key: str) -> None:
    """Ask Stripe for a change (pause, resume, cancel, another plan); its event records it."""
    try:
        client().v1.subscriptions.update(
            subscription_id, cast(SubscriptionUpdateParams, params), {"idempotency_key": key}
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc, f"a change of {subscription_id}") from exc


def change_plan(subscription_id: str, item_id: str, plan: MembershipPlan, *, key: str) -> None:
    """Another plan on the same subscription, prorated by Stripe (a subscription item's
    price_data names a product, so the plan gets one first)."""
    service = plan.service
    try:
        product = client().v1.products.create(
            {"name": service.name, "metadata": {"plan_id": str(plan.service_id)}},
            {"idempotency_key": f"{key}-product"},
        )
    except stripe.StripeError as exc:
        raise _unavailable(exc, f"a product for plan {plan.service_id}") from exc
    price = {k: v for k, v in _price_data(plan).items() if k != "product_data"}
    update_subscription(
        subscription_id,
        {
            "items": [{"id": item_id, "price_data": {**price, "product": product.id}}],
            "proration_behavior": "create_prorations",
            "metadata": {"plan_id": str(plan.service_id)},
        },
        key=key,
    )
