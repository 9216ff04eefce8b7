"""A fee the kept card did not pay is a balance due (#20): the client sees it on their
bookings and the order, and pays it on Stripe Checkout; only the verified event, asked
again from Stripe (localstripe on 127.0.0.1), settles it, once however often it comes. The
practitioner can mark it paid by hand instead. A payment that lands on a fee waived (or
paid) meanwhile goes back to the card that made it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    Fee,
    FeeStatus,
    Order,
    Payment,
    PaymentKind,
    Receipt,
)
from tests.fixtures.fees import NO_SHOW_FEE, card_pays_fee, owe_due_fees
from tests.fixtures.stripe_server import signed_event, stripe_client, stripe_config


@pytest.fixture
def app_config(checkout_fake):
    return stripe_config(checkout_fake.url)


def deliver(client, event_type: str, obj: dict, event_id: str | None = None) -> None:
    body, headers = signed_event(event_type, obj, event_id=event_id)
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200


def ledger(order_id: int) -> list[tuple[PaymentKind, int, str]]:
    db.session.expire_all()
    return [
        (p.kind, p.amount_cents, p.provider)
        for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def fee_status(fee_id: int) -> FeeStatus:
    db.session.expire_all()
    return db.session.get_one(Fee, fee_id).status


def test_the_client_pays_a_due_fee_on_checkout_settled_once_by_its_event(
    client, signed_in, practitioner, client_user, checkout_fake, localstripe_url
):
    [fee] = owe_due_fees(practitioner, [client_user])
    web = signed_in(client_user)
    mine = web.get("/bookings/").text
    assert "Fees due" in mine and f"/orders/{fee.order_id}" in mine
    page = web.get(f"/orders/{fee.order_id}").text
    assert "Pay $15.00 by card" in page

    answer = web.post(f"/orders/{fee.order_id}/fees/{fee.id}/pay")

    [(form, headers)] = checkout_fake.created
    session_id = next(iter(checkout_fake.sessions))
    assert answer.status_code == 303 and answer.location.endswith(session_id)
    assert form["mode"] == "payment"
    assert form["line_items[0][price_data][unit_amount]"] == str(NO_SHOW_FEE)
    assert form["payment_intent_data[metadata][fee_id]"] == str(fee.id)
    assert form["payment_intent_data[metadata][order_id]"] == str(fee.order_id)
    assert headers["HTTP_IDEMPOTENCY_KEY"] == f"order-{fee.order_id}-fee-{fee.id}-{NO_SHOW_FEE}"
    # The browser's return settles nothing: the fee waits for Stripe's event.
    web.get(f"/orders/{fee.order_id}?returned=1")
    assert fee_status(fee.id) == FeeStatus.DUE

    intent = card_pays_fee(localstripe_url, fee)
    checkout_fake.complete(session_id, intent.id)
    completed = {"id": session_id, "object": "checkout.session"}
    deliver(client, "checkout.session.completed", completed, event_id="evt_fee_paid")
    # Stripe delivers the same event again, and the intent's own event too.
    deliver(client, "checkout.session.completed", completed, event_id="evt_fee_paid")
    deliver(client, "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"})
    booking.apply_payment_events()
    booking.apply_payment_events()

    assert fee_status(fee.id) == FeeStatus.CHARGED
    assert ledger(fee.order_id) == [(PaymentKind.FEE, NO_SHOW_FEE, "stripe")]
    order = db.session.get_one(Order, fee.order_id)
    assert (order.fees_due, order.amount_fees) == (0, NO_SHOW_FEE)
    assert db.session.scalar(select(Receipt).where(Receipt.payment_id == order.payments[0].id))
    assert "Pay $15.00 by card" not in web.get(f"/orders/{fee.order_id}").text
    assert "Fees due" not in web.get("/bookings/").text


def test_only_a_due_fee_is_paid_online_and_only_by_its_client(
    signed_in, practitioner, client_user, checkout_fake
):
    [fee] = owe_due_fees(practitioner, [client_user])
    web = signed_in(client_user)
    assert "Mark fee paid" not in web.get(f"/orders/{fee.order_id}").text
    booking.waive_fee(fee, practitioner)

    assert "by card" not in web.get(f"/orders/{fee.order_id}").text
    answer = web.post(f"/orders/{fee.order_id}/fees/{fee.id}/pay")

    assert answer.status_code == 302 and checkout_fake.created == []
    assert "nothing is due on it" in web.get(answer.location).text


def test_the_practitioner_marks_a_due_fee_paid_by_hand(signed_in, practitioner, client_user):
    [fee] = owe_due_fees(practitioner, [client_user])
    web = signed_in(practitioner)
    page = web.get(f"/orders/{fee.order_id}").text
    assert "by card" not in page and "Mark fee paid" in page

    answer = web.post(f"/orders/{fee.order_id}/fees/{fee.id}/mark-paid", data={"reference": "cash"})

    assert answer.status_code == 302
    assert fee_status(fee.id) == FeeStatus.CHARGED
    [row] = db.session.scalars(select(Payment).where(Payment.order_id == fee.order_id))
    assert (row.kind, row.amount_cents, row.provider, row.actor_id, row.reason) == (
        PaymentKind.FEE,
        NO_SHOW_FEE,
        "manual",
        practitioner.id,
        "cash",
    )
    # Marked again (a second click): refused, nothing more recorded.
    web.post(f"/orders/{fee.order_id}/fees/{fee.id}/mark-paid", data={"reference": "cash"})
    assert len(ledger(fee.order_id)) == 1
    with pytest.raises(booking.InvalidTransition):
        booking.mark_fee_paid(fee, practitioner)


@pytest.mark.parametrize("ended", ["waived", "paid by hand"])
def test_a_card_payment_for_a_fee_that_ended_meanwhile_goes_back_to_that_card(
    client, practitioner, client_user, localstripe_url, ended
):
    [fee] = owe_due_fees(practitioner, [client_user])
    intent = card_pays_fee(localstripe_url, fee)
    # The client paid on Checkout; before Stripe's event came, the fee ended another way.
    if ended == "waived":
        booking.waive_fee(fee, practitioner, reason="first time")
    else:
        booking.mark_fee_paid(fee, practitioner, reference="cash")
    deliver(client, "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"})
    booking.apply_payment_events()

    refund = db.session.scalar(
        select(Payment).where(Payment.order_id == fee.order_id, Payment.kind == PaymentKind.REFUND)
    )
    assert refund is not None and refund.amount_cents == NO_SHOW_FEE
    at_stripe = stripe_client(localstripe_url).v1.refunds.retrieve(refund.provider_object_id)
    assert (at_stripe.charge, at_stripe.amount) == (intent.latest_charge.id, NO_SHOW_FEE)
    assert fee_status(fee.id) == (FeeStatus.WAIVED if ended == "waived" else FeeStatus.CHARGED)
    order = db.session.get_one(Order, fee.order_id)
    # What the fee brought in, once: the card's payment was given back.
    assert order.amount_fees - order.amount_refunded == (0 if ended == "waived" else NO_SHOW_FEE)
