"""The client pays on Stripe Checkout (#20): the session carries the order and an
idempotency key; the client's return waits; checkout.session.completed, asked again
from Stripe, confirms the order."""

from __future__ import annotations

import re

import pytest

from portal import booking
from portal.extensions import db
from portal.models import BookingStatus, Order, OrderStatus, PaymentPolicy, StripeCustomer
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.stripe_server import pay_by_card, signed_event, stripe_config


@pytest.fixture
def app_config(checkout_fake):
    return stripe_config(checkout_fake.url)


def test_the_order_page_sends_the_client_to_checkout(
    signed_in, practitioner, client_user, checkout_fake
):
    session = make_workshop(
        practitioner, price_cents=4000, payment_policy=PaymentPolicy.DEPOSIT, deposit_cents=1000
    )
    order = booking.book_workshop_seat(client_user, session)
    web = signed_in(client_user)

    page = web.get(f"/orders/{order.id}").text
    again = web.get(f"/orders/{order.id}").text

    [(form, headers), (form2, headers2)] = checkout_fake.created
    assert form["mode"] == "payment"
    assert form["client_reference_id"] == str(order.id)
    assert (
        form["metadata[order_id]"]
        == form["payment_intent_data[metadata][order_id]"]
        == str(order.id)
    )
    # The deposit, in the currency's minor units.
    assert form["line_items[0][price_data][unit_amount]"] == "1000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert f"/orders/{order.id}?returned=1" in form["success_url"]
    # Asked twice, one session: the same idempotency key.
    assert headers["HTTP_IDEMPOTENCY_KEY"] == headers2["HTTP_IDEMPOTENCY_KEY"]
    assert form == form2
    session_id = next(iter(checkout_fake.sessions))
    # The same page both times, but for the CSRF token: it carries the second it was signed.
    assert f"https://checkout.stripe.com/c/pay/{session_id}" in page
    assert _without_csrf(page) == _without_csrf(again)


def _without_csrf(page: str) -> str:
    page = re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', page)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', page)


def test_checkout_completed_confirms_after_asking_stripe(
    client, signed_in, practitioner, client_user, checkout_fake, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=4000))
    signed_in(client_user).get(f"/orders/{order.id}")
    session_id = next(iter(checkout_fake.sessions))
    body, headers = signed_event(
        "checkout.session.completed", {"id": session_id, "object": "checkout.session"}
    )
    client.post("/webhooks/stripe", data=body, headers=headers)

    # Not paid yet at Stripe: the event alone confirms nothing.
    booking.apply_payment_events()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING

    checkout_fake.complete(session_id, pay_by_card(localstripe_url, order).id)
    body, headers = signed_event(
        "checkout.session.completed", {"id": session_id, "object": "checkout.session"}
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    assert order.bookings[0].status == BookingStatus.CONFIRMED
    assert order.amount_paid == 4000


def test_stripe_unreachable_leaves_the_order_page_working(
    app, signed_in, practitioner, client_user
):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=4000))
    response = signed_in(client_user).get(f"/orders/{order.id}")
    assert response.status_code == 200
    assert "Card payment is unavailable right now" in response.text


def test_checkout_keeps_the_card_and_a_returning_client_keeps_their_customer(
    signed_in, practitioner, client_user, checkout_fake
):
    web = signed_in(client_user)
    first = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=4000))
    web.get(f"/orders/{first.id}")
    db.session.add(StripeCustomer(user_id=client_user.id, account="", customer_id="cus_kept"))
    db.session.commit()
    second = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(9))
    )
    web.get(f"/orders/{second.id}")

    [(new, _), (returning, _)] = checkout_fake.created
    # Kept for charges made while the client is away: the cancellation policy's fees.
    assert new["payment_intent_data[setup_future_usage]"] == "off_session"
    assert (new["customer_creation"], new["customer_email"]) == ("always", client_user.email)
    assert returning["customer"] == "cus_kept" and "customer_email" not in returning
    assert returning["payment_intent_data[setup_future_usage]"] == "off_session"


def test_the_client_pays_a_deposits_balance_in_a_second_checkout(
    client, signed_in, practitioner, client_user, checkout_fake, localstripe_url
):
    session = make_workshop(
        practitioner, price_cents=4000, payment_policy=PaymentPolicy.DEPOSIT, deposit_cents=2000
    )
    order = booking.book_workshop_seat(client_user, session)
    booking.record_provider_payment(
        order.id, amount_cents=2000, provider="stripe", charge_id="ch_dep", payment_intent_id="pi_d"
    )
    web = signed_in(client_user)
    assert "Pay the balance by card" in web.get(f"/orders/{order.id}").text

    answer = web.post(f"/orders/{order.id}/pay-balance")

    [(form, headers)] = checkout_fake.created
    # The balance, under its own key: equal to the deposit, it is still another session.
    assert form["line_items[0][price_data][unit_amount]"] == "2000"
    assert headers["HTTP_IDEMPOTENCY_KEY"] == f"order-{order.id}-balance-2000"
    session_id = next(iter(checkout_fake.sessions))
    assert answer.status_code == 303 and answer.location.endswith(session_id)
    # Chromium holds a form's redirect to form-action: the POST's 303 must be let reach
    # Stripe's Checkout, and nothing else beyond the portal.
    assert _form_action(answer) == ["'self'", "https://checkout.stripe.com"]

    checkout_fake.complete(session_id, pay_by_card(localstripe_url, order, 2000).id)
    body, headers = signed_event(
        "checkout.session.completed", {"id": session_id, "object": "checkout.session"}
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.amount_paid, order.amount_due) == (OrderStatus.PAID, 4000, 0)
    assert "Pay the balance by card" not in web.get(f"/orders/{order.id}").text


def test_the_practitioner_marks_the_balance_paid(signed_in, practitioner, client_user):
    session = make_workshop(
        practitioner, price_cents=4000, payment_policy=PaymentPolicy.DEPOSIT, deposit_cents=1000
    )
    order = booking.book_workshop_seat(client_user, session)
    booking.record_provider_payment(
        order.id, amount_cents=1000, provider="stripe", charge_id="ch_dep", payment_intent_id="pi_d"
    )
    web = signed_in(practitioner)
    page = web.get(f"/orders/{order.id}").text
    assert "Mark the balance paid" in page and "Pay the balance by card" not in page

    web.post(f"/orders/{order.id}/mark-paid", data={"reference": "cash at the door"})

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.amount_paid, order.amount_due) == (4000, 0)
    assert order.payments[-1].reason == "cash at the door"


def _form_action(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    [directive] = [d.split() for d in policy.split(";") if d.split()[:1] == ["form-action"]]
    return directive[1:]
