"""Stripe Connect (#20), against a recorded-response fake of Stripe's API on 127.0.0.1
(localstripe has no Connect): a practitioner connects their own Express account, Stripe's
account.updated event (asked again) marks it ready, and from then on their orders' Checkout
Sessions, the payment's re-fetch and refunds are made on it (the Stripe-Account header),
with the installation's application fee. The responses are Stripe's, recorded in
tests/fixtures/stripe_connect/; the test asserts what the portal sent."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Order, OrderStatus, StripeAccount, StripeCustomer
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.stripe_server import SECRET_KEY, WEBHOOK_SECRET, signed_event

RECORDED = Path(__file__).parent.parent / "fixtures" / "stripe_connect"
ACCOUNT = "acct_1QeConnectPia0001"


def recorded(name: str, **changes) -> dict:
    answer = json.loads((RECORDED / f"{name}.json").read_text())
    answer.update(changes)
    return answer


@pytest.fixture
def stripe_fake():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def connect(request):
    return getattr(request, "param", True)


@pytest.fixture
def app_config(stripe_fake, connect):
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_fake.url_for("").rstrip("/"),
        "PORTAL_PAYMENT_PROVIDER": "stripe",
        "PORTAL_STRIPE_CONNECT": connect,
        "PORTAL_STRIPE_APPLICATION_FEE_PERCENT": "2.5",
    }


def sent(server: HTTPServer, method: str, path: str) -> list[tuple[dict, dict]]:
    """(form, headers) of each request the portal made to this path."""
    return [
        (dict(parse_qsl(request.get_data(as_text=True))), dict(request.headers))
        for request, _response in server.log
        if request.method == method and request.path == path
    ]


def ready_account(practitioner) -> None:
    db.session.add(
        StripeAccount(practitioner_id=practitioner.id, account_id=ACCOUNT, charges_enabled=True)
    )
    db.session.commit()


def test_a_practitioner_connects_their_account_and_stripe_marks_it_ready(
    client, signed_in, practitioner, stripe_fake
):
    stripe_fake.expect_request("/v1/accounts", method="POST").respond_with_json(
        recorded("account_created")
    )
    stripe_fake.expect_request("/v1/account_links", method="POST").respond_with_json(
        recorded("account_link")
    )
    stripe_fake.expect_request(f"/v1/accounts/{ACCOUNT}", method="GET").respond_with_json(
        recorded("account_ready")
    )
    web = signed_in(practitioner)
    assert "Connect with Stripe" in web.get("/settings/payouts/").text

    answer = web.post("/settings/payouts/connect")

    assert answer.status_code == 303
    assert answer.location == recorded("account_link")["url"]
    [(account, headers)] = sent(stripe_fake, "POST", "/v1/accounts")
    assert (account["type"], account["email"]) == ("express", practitioner.email)
    assert account["metadata[practitioner_id]"] == str(practitioner.id)
    assert account["capabilities[card_payments][requested]"] == "true"
    assert headers["Idempotency-Key"] == f"connect-account-{practitioner.id}"
    # Made on the installation's own account: no Stripe-Account header.
    assert "Stripe-Account" not in headers
    [(link, _)] = sent(stripe_fake, "POST", "/v1/account_links")
    assert (link["account"], link["type"]) == (ACCOUNT, "account_onboarding")
    assert link["return_url"].endswith("/settings/payouts/?returned=1")
    assert link["refresh_url"].endswith("/settings/payouts/refresh")
    kept = db.session.get_one(StripeAccount, practitioner.id)
    assert (kept.account_id, kept.charges_enabled) == (ACCOUNT, False)

    # Back from Stripe: the return itself proves nothing.
    back = web.get("/settings/payouts/?returned=1").text
    assert "Not ready yet" in back and "Stripe is checking your details" in back
    # Again (the link expired): the same account, a new link.
    assert web.get("/settings/payouts/refresh").status_code == 303
    assert len(sent(stripe_fake, "POST", "/v1/accounts")) == 1
    assert len(sent(stripe_fake, "POST", "/v1/account_links")) == 2

    body, headers = signed_event(
        "account.updated", {"id": ACCOUNT, "object": "account"}, account=ACCOUNT
    )
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    assert booking.apply_payment_events() == 1

    db.session.expire_all()
    assert db.session.get_one(StripeAccount, practitioner.id).charges_enabled
    assert "Ready" in web.get("/settings/payouts/").text
    assert len(sent(stripe_fake, "GET", f"/v1/accounts/{ACCOUNT}")) == 1


def test_a_connected_practitioners_checkout_and_refunds_are_made_on_their_account(
    client, signed_in, practitioner, client_user, stripe_fake
):
    ready_account(practitioner)
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    session = recorded("checkout_session", client_reference_id=str(order.id))
    stripe_fake.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(session)
    stripe_fake.expect_request(
        f"/v1/checkout/sessions/{session['id']}", method="GET"
    ).respond_with_json(
        {**session, "payment_status": "paid", "payment_intent": "pi_3QeConnectDirect01"}
    )
    stripe_fake.expect_request(
        "/v1/payment_intents/pi_3QeConnectDirect01", method="GET"
    ).respond_with_json(recorded("payment_intent", metadata={"order_id": str(order.id)}))
    stripe_fake.expect_request("/v1/refunds", method="POST").respond_with_json(recorded("refund"))

    page = signed_in(client_user).get(f"/orders/{order.id}").text

    assert session["url"] in page
    [(form, headers)] = sent(stripe_fake, "POST", "/v1/checkout/sessions")
    # A direct charge on the practitioner's account, less the installation's 2.5 %.
    assert headers["Stripe-Account"] == ACCOUNT
    assert form["payment_intent_data[application_fee_amount]"] == "100"
    assert form["line_items[0][price_data][unit_amount]"] == "4000"

    body, headers = signed_event(
        "checkout.session.completed",
        {"id": session["id"], "object": "checkout.session"},
        account=ACCOUNT,
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    booking.apply_payment_events()

    # The payment is asked for again on the account it was made on.
    for path in (
        f"/v1/checkout/sessions/{session['id']}",
        "/v1/payment_intents/pi_3QeConnectDirect01",
    ):
        [(_, asked)] = sent(stripe_fake, "GET", path)
        assert asked["Stripe-Account"] == ACCOUNT
    db.session.expire_all()
    order = db.session.get_one(Order, order.id)
    assert (order.status, order.amount_paid) == (OrderStatus.PAID, 4000)
    # The card is kept at the practitioner's account, where a fee would be charged.
    kept = db.session.scalar(select(StripeCustomer).where(StripeCustomer.user_id == client_user.id))
    assert kept is not None and (kept.account, kept.customer_id) == (
        ACCOUNT,
        "cus_QeConnectClient1",
    )

    booking.refund_order(order, 1000, reason="left early", actor=practitioner)

    [(refund, headers)] = sent(stripe_fake, "POST", "/v1/refunds")
    assert headers["Stripe-Account"] == ACCOUNT
    assert (refund["charge"], refund["amount"]) == ("ch_3QeConnectDirect01", "1000")
    assert refund["refund_application_fee"] == "true"
    db.session.expire_all()
    assert db.session.get_one(Order, order.id).amount_refunded == 1000


@pytest.mark.parametrize("connect", [False], indirect=True)
def test_with_connect_off_everything_stays_on_the_installations_account(
    signed_in, practitioner, client_user, stripe_fake
):
    ready_account(practitioner)
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    stripe_fake.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        recorded("checkout_session", client_reference_id=str(order.id))
    )

    signed_in(client_user).get(f"/orders/{order.id}")

    [(form, headers)] = sent(stripe_fake, "POST", "/v1/checkout/sessions")
    assert "Stripe-Account" not in headers
    assert "payment_intent_data[application_fee_amount]" not in form


@pytest.mark.parametrize("connect", [False], indirect=True)
def test_with_connect_off_a_practitioner_cannot_start_connecting(
    signed_in, practitioner, stripe_fake
):
    web = signed_in(practitioner)
    assert "not switched on here" in web.get("/settings/payouts/").text

    answer = web.post("/settings/payouts/connect")

    assert answer.status_code == 302 and stripe_fake.log == []
    assert db.session.get(StripeAccount, practitioner.id) is None


def test_a_practitioner_not_yet_ready_is_paid_into_the_installations_account(
    signed_in, practitioner, client_user, stripe_fake
):
    db.session.add(
        StripeAccount(practitioner_id=practitioner.id, account_id=ACCOUNT, charges_enabled=False)
    )
    db.session.commit()
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    stripe_fake.expect_request("/v1/checkout/sessions", method="POST").respond_with_json(
        recorded("checkout_session", client_reference_id=str(order.id))
    )

    signed_in(client_user).get(f"/orders/{order.id}")

    [(_, headers)] = sent(stripe_fake, "POST", "/v1/checkout/sessions")
    assert "Stripe-Account" not in headers


def test_a_payment_made_before_connecting_is_refunded_where_it_was_made(
    practitioner, client_user, stripe_fake
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    booking.record_provider_payment(
        order.id, amount_cents=4000, provider="stripe", charge_id="ch_3QeConnectDirect01"
    )
    ready_account(practitioner)
    stripe_fake.expect_request("/v1/refunds", method="POST").respond_with_json(recorded("refund"))

    booking.refund_order(
        db.session.get_one(Order, order.id), 1000, reason="left early", actor=practitioner
    )

    [(refund, headers)] = sent(stripe_fake, "POST", "/v1/refunds")
    assert "Stripe-Account" not in headers and "refund_application_fee" not in refund
    assert refund["charge"] == "ch_3QeConnectDirect01"
