"""Opt-in (#20): the Stripe calls the portal makes, against Stripe's real test mode rather
than localstripe. Runs only when STRIPE_TEST_SECRET_KEY holds a test-mode secret key
(sk_test_...); every other run skips it with that reason, and it is the one test allowed
past 127.0.0.1 (to api.stripe.com). It creates a Checkout Session for an order, pays an
order with Stripe's test card, has the worker fetch and apply the payment, and refunds part
of it; nothing it makes moves real money."""

from __future__ import annotations

import os

import pytest
import stripe

from portal import booking
from portal.extensions import db
from portal.models import Order, OrderStatus, PaymentKind
from tests.fixtures.factories import future, make_workshop

KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")

pytestmark = [
    pytest.mark.skipif(
        not KEY, reason="set STRIPE_TEST_SECRET_KEY (a test-mode key) to run against Stripe"
    ),
    pytest.mark.timeout(120),
]


@pytest.fixture
def app_config():
    # A live key would move real money: refused, not skipped, so the mistake is seen.
    assert KEY.startswith(("sk_test_", "rk_test_")), "STRIPE_TEST_SECRET_KEY is not a test key"
    return {
        "STRIPE_SECRET_KEY": KEY,
        "STRIPE_WEBHOOK_SECRET": "whsec_unused",
        "PORTAL_PAYMENT_PROVIDER": "stripe",
    }


def stripe_client() -> stripe.StripeClient:
    return stripe.StripeClient(KEY)


def test_the_order_page_creates_a_checkout_session_at_stripe(signed_in, practitioner, client_user):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )

    page = signed_in(client_user).get(f"/orders/{order.id}").text

    assert "https://checkout.stripe.com/" in page
    listed = stripe_client().v1.checkout.sessions.list({"limit": 10})
    [created] = [s for s in listed.data if s.client_reference_id == str(order.id)]
    assert (created.mode, created.amount_total, created.currency) == ("payment", 4000, "usd")
    assert created.metadata.to_dict() == {"order_id": str(order.id)}
    assert created.url in page


def test_a_test_card_payment_is_applied_and_refunded_in_part(practitioner, client_user):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    intent = stripe_client().v1.payment_intents.create(
        {
            "amount": 4000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"order_id": str(order.id)},
        }
    )
    # What the verified webhook stores; the worker asks Stripe again before acting.
    booking.receive_payment_event(f"evt_test_{intent.id}", "payment_intent.succeeded", intent.id)
    booking.apply_payment_events()
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert (order.status, order.amount_paid) == (OrderStatus.PAID, 4000)

    refund = booking.refund_order(order, 1500, reason="left early", actor=practitioner)

    assert refund is not None and refund.kind == PaymentKind.REFUND
    at_stripe = stripe_client().v1.refunds.retrieve(refund.provider_object_id or "")
    assert (at_stripe.amount, at_stripe.status) == (1500, "succeeded")
    charge = intent.latest_charge
    assert at_stripe.charge == (charge if isinstance(charge, str) else charge.id)
