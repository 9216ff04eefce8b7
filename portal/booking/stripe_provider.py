"""Stripe, behind the payment provider interface (payment_providers.py).

The client pays on Stripe's hosted Checkout page; the order is paid only when Stripe's
signed event says so, and the objects it names are fetched again from Stripe before
anything is recorded (payment_events.py). Without STRIPE_SECRET_KEY the provider is
never chosen and every call here refuses.

Stripe Connect (PORTAL_STRIPE_CONNECT): a practitioner who connected their own account
has their orders charged on it (direct charges: every call carries the Stripe-Account
header), with the installation's application fee taken from each payment; the objects of
such a payment are asked for on that account again. A practitioner without a ready
account is charged on the installation's own account ("").

Amounts: the portal keeps each currency's minor unit (portal/money.py), which is what
Stripe's API takes but for its special cases; every amount sent or read here goes through
money.to_stripe_amount / from_stripe_amount.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import stripe
from flask import current_app, url_for
from flask_babel import gettext
from stripe.params import RefundCreateParams
from stripe.params.checkout import SessionCreateParams

from ..core.errors import PaymentProviderUnavailable
from ..extensions import db
from ..models import Fee, Order, StripeAccount, StripeCustomer
from ..money import charged_by_stripe, from_stripe_amount, to_stripe_amount
from .payment_providers import PaymentStart, register_provider

STRIPE = "stripe"

# The metadata key naming the fee a payment intent pays.
FEE_METADATA = "fee_id"

log = logging.getLogger(__name__)


def configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def client() -> stripe.StripeClient:
    if not configured():
        raise PaymentProviderUnavailable(gettext("Card payments are not set up."))
    base = current_app.config.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        current_app.config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
        # A connection per call, closed with its answer: a pooled session left open by a
        # finished worker thread is a socket nobody closes.
        http_client=stripe.UrllibClient(),
    )


def connect_on() -> bool:
    return configured() and bool(current_app.config.get("PORTAL_STRIPE_CONNECT"))


def account_of(practitioner_id: int) -> str:
    """The Stripe account a practitioner's orders are charged on: their own once it takes
    charges (Connect on), else the installation's ("")."""
    if not connect_on():
        return ""
    own = db.session.get(StripeAccount, practitioner_id)
    return own.account_id if own is not None and own.charges_enabled else ""


def order_account(order: Order) -> str:
    return account_of(order.service.primary_practitioner_id)


def options(account: str = "", key: str | None = None) -> stripe.RequestOptions:
    """A call's request options: on a connected account (the Stripe-Account header), and
    once per key."""
    chosen: stripe.RequestOptions = {}
    if account:
        chosen["stripe_account"] = account
    if key:
        chosen["idempotency_key"] = key
    return chosen


def application_fee(amount: int) -> int:
    """The installation's cut of a payment on a connected account, in Stripe's units."""
    percent = Decimal(str(current_app.config.get("PORTAL_STRIPE_APPLICATION_FEE_PERCENT") or 0))
    return int((Decimal(amount) * percent / 100).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class StripeCharge:
    """A succeeded payment as Stripe itself reports it when asked again."""

    order_id: int
    amount_cents: int
    charge_id: str
    payment_intent_id: str
    # The customer and card Checkout kept for charges made while the client is away.
    customer_id: str | None = None
    payment_method_id: str | None = None
    # Set when the payment was for one of the order's fees, not toward its total.
    fee_id: int | None = None
    # The connected account it was made on; "" for the installation's own.
    account: str = ""


def _id(value) -> str | None:
    """An expandable field: Stripe answers with the id, or the object itself."""
    return value if value is None or isinstance(value, str) else value.id


def _charge_of(intent, account: str) -> StripeCharge | None:
    metadata = intent.metadata.to_dict() if intent.metadata else {}
    order_id = metadata.get("order_id")
    if intent.status != "succeeded" or not order_id:
        return None
    if not intent.latest_charge:
        return None
    charge = intent.latest_charge
    return StripeCharge(
        order_id=int(order_id),
        # Stripe always says amount_received; servers that mimic it may not (localstripe).
        amount_cents=from_stripe_amount(
            getattr(intent, "amount_received", None) or intent.amount, intent.currency
        ),
        charge_id=charge if isinstance(charge, str) else charge.id,
        payment_intent_id=intent.id,
        customer_id=_id(getattr(intent, "customer", None)),
        payment_method_id=_id(getattr(intent, "payment_method", None)),
        # A fee's charge (off-session, or paid on Checkout once due) is the fee's, never a
        # payment toward the order's total (payment_events).
        fee_id=int(metadata[FEE_METADATA]) if FEE_METADATA in metadata else None,
        account=account,
    )


def fetch_payment(payment_intent_id: str, account: str = "") -> StripeCharge | None:
    """The payment intent as Stripe has it now; None unless it succeeded for an order."""
    return _charge_of(
        client().v1.payment_intents.retrieve(payment_intent_id, options=options(account)),
        account,
    )


def fetch_checkout_payment(checkout_session_id: str, account: str = "") -> StripeCharge | None:
    session = client().v1.checkout.sessions.retrieve(checkout_session_id, options=options(account))
    intent = session.payment_intent
    if session.payment_status != "paid" or not intent:
        return None
    return fetch_payment(intent if isinstance(intent, str) else intent.id, account)


@dataclass(frozen=True)
class StripeRefund:
    refund_id: str
    amount_cents: int


def fetch_refunds(charge_id: str, account: str = "") -> tuple[str, list[StripeRefund]]:
    """A charge's succeeded refunds, as Stripe has them now, and the charge's currency."""
    charge = client().v1.charges.retrieve(charge_id, options=options(account))
    refunds = client().v1.refunds.list(
        {"charge": charge_id, "limit": 100}, options=options(account)
    )
    return charge.currency, [
        StripeRefund(r.id, from_stripe_amount(r.amount, r.currency))
        for r in refunds.data
        if r.status == "succeeded"
    ]


@dataclass(frozen=True)
class StripeDispute:
    """A dispute as Stripe has it now: the charge it is about, the amount the bank took,
    and where it stands (needs_response, under_review, won, lost...)."""

    dispute_id: str
    charge_id: str
    amount_cents: int
    status: str

    @property
    def won(self) -> bool:
        return self.status == "won"


def fetch_dispute(dispute_id: str, account: str = "") -> StripeDispute:
    dispute = client().v1.disputes.retrieve(dispute_id, options=options(account))
    charge = dispute.charge
    return StripeDispute(
        dispute_id=dispute.id,
        charge_id=charge if isinstance(charge, str) else charge.id,
        amount_cents=from_stripe_amount(dispute.amount, dispute.currency),
        status=dispute.status,
    )


def fetch_account_ready(account_id: str) -> bool:
    """Whether a connected account takes charges now, as Stripe says when asked."""
    return bool(client().v1.accounts.retrieve(account_id).charges_enabled)


def create_refund(
    charge_id: str, amount_cents: int, currency: str, key: str, account: str = ""
) -> StripeRefund:
    """Refund part or all of a charge (on the account that took it); the same key never
    refunds twice. A connected account's refund gives back the installation's fee in
    proportion, as Stripe does when asked."""
    params: RefundCreateParams = {
        "charge": charge_id,
        "amount": to_stripe_amount(amount_cents, currency, refund=True),
    }
    if account:
        params["refund_application_fee"] = True
    refund = client().v1.refunds.create(params, options(account, key))
    return StripeRefund(refund.id, from_stripe_amount(refund.amount, refund.currency))


@dataclass(frozen=True)
class OffSessionCharge:
    """What Stripe answered to a charge made while the client is away: charged, or why not."""

    payment_intent_id: str | None
    charge_id: str | None = None
    failure: str = ""
    # What the card paid, as Stripe says: a three-decimal fee goes in tens (money.py).
    amount_cents: int | None = None


def charge_off_session(
    customer_id: str,
    payment_method_id: str,
    amount_cents: int,
    currency: str,
    *,
    order_id: int,
    fee_id: int,
    account: str = "",
) -> OffSessionCharge:
    """Charge the kept card now, once per fee (the key is the fee's): a decline, or a card
    that needs the client present (3-D Secure), is an answer, not an error."""
    try:
        intent = client().v1.payment_intents.create(
            {
                "amount": to_stripe_amount(amount_cents, currency),
                "currency": currency.lower(),
                "customer": customer_id,
                "payment_method": payment_method_id,
                "off_session": True,
                "confirm": True,
                "metadata": {"order_id": str(order_id), FEE_METADATA: str(fee_id)},
            },
            options(account, f"fee-{fee_id}"),
        )
    except stripe.CardError as exc:
        error = exc.error
        intent_id = _id(getattr(error, "payment_intent", None)) if error else None
        return OffSessionCharge(intent_id, failure=(exc.code or "card_declined")[:200])
    if intent.status != "succeeded" or not intent.latest_charge:
        return OffSessionCharge(intent.id, failure=intent.status)
    return OffSessionCharge(
        intent.id,
        charge_id=_id(intent.latest_charge),
        amount_cents=from_stripe_amount(intent.amount, intent.currency),
    )


class StripeProvider:
    """Card payments on Stripe Checkout."""

    name = STRIPE
    label = "Card (Stripe)"

    def start(self, order: Order) -> PaymentStart:
        """A Checkout Session for what the booking asks now (the deposit or the total).
        The idempotency key names the order and the amount: asked again, Stripe answers
        with the same session."""
        amount = order.amount_due_at_booking - order.amount_paid
        session = self._started(order, amount, "checkout")
        return PaymentStart(
            instructions=gettext(
                "Pay %(amount)s by card on Stripe's secure page. Your booking is confirmed as "
                "soon as Stripe tells us the payment went through.",
                amount=order.money_display(charged_by_stripe(amount, order.currency)),
            ),
            redirect_url=session.url,
        )

    def start_balance(self, order: Order) -> PaymentStart:
        """A second Checkout Session, for the balance a paid deposit left due; its key
        says "balance", so a balance equal to the deposit is not answered with the
        deposit's session."""
        amount = order.amount_due
        session = self._started(order, amount, "balance")
        return PaymentStart(
            instructions=gettext(
                "Pay the balance of %(amount)s by card on Stripe's secure page.",
                amount=order.money_display(charged_by_stripe(amount, order.currency)),
            ),
            redirect_url=session.url,
        )

    def start_fee(self, order: Order, fee: Fee) -> PaymentStart:
        """A Checkout Session for a fee the kept card did not pay; the fee's id rides in
        the payment's metadata, so its event settles the fee, not the order's total."""
        session = self._started(
            order,
            fee.amount_cents,
            f"fee-{fee.id}",
            fee_id=fee.id,
            name=f"{order.service.name} · {fee.kind.label}",
        )
        return PaymentStart(
            instructions=gettext(
                "Pay the %(kind)s of %(amount)s by card on Stripe's secure page.",
                kind=fee.kind.label,
                amount=fee.amount_display,
            ),
            redirect_url=session.url,
        )

    def _started(
        self,
        order: Order,
        amount: int,
        purpose: str,
        fee_id: int | None = None,
        name: str | None = None,
    ):
        try:
            return self._checkout_session(order, amount, purpose, fee_id, name)
        except stripe.StripeError as exc:
            log.warning("Stripe Checkout not started for order %s: %s", order.id, exc)
            raise PaymentProviderUnavailable(
                gettext("Card payment is unavailable right now; try again in a few minutes.")
            ) from exc

    def _checkout_session(
        self, order: Order, amount: int, purpose: str, fee_id: int | None, name: str | None
    ):
        # The card is kept (setup_future_usage) at the client's customer, so a fee of the
        # cancellation policy can be charged while they are away; a returning client's
        # customer is reused, a new one made by Checkout and saved with the payment.
        account = order_account(order)
        known = db.session.get(StripeCustomer, (order.user_id, account))
        metadata = {"order_id": str(order.id)}
        if fee_id is not None:
            metadata[FEE_METADATA] = str(fee_id)
        params: SessionCreateParams = {
            "mode": "payment",
            "client_reference_id": str(order.id),
            "metadata": metadata,
            "payment_intent_data": {
                "metadata": metadata,
                "setup_future_usage": "off_session",
            },
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency.lower(),
                        "unit_amount": to_stripe_amount(amount, order.currency),
                        "product_data": {"name": name or order.service.name},
                    },
                }
            ],
            "success_url": url_for(
                "orders.view_order", order_id=order.id, returned=1, _external=True
            ),
            "cancel_url": url_for("orders.view_order", order_id=order.id, _external=True),
        }
        cut = application_fee(to_stripe_amount(amount, order.currency)) if account else 0
        if cut:
            params["payment_intent_data"]["application_fee_amount"] = cut
        if known is not None:
            params["customer"] = known.customer_id
        else:
            params["customer_email"] = order.user.email
            params["customer_creation"] = "always"
        return client().v1.checkout.sessions.create(
            params,
            options(account, f"order-{order.id}-{purpose}-{amount}"),
        )


PROVIDER = StripeProvider()
register_provider(PROVIDER)
