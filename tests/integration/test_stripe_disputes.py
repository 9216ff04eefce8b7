"""Disputes made through the client's bank arrive as Stripe's signed events (#20):
`charge.dispute.created` records the amount taken as a dispute row, `charge.dispute.closed`
won gives it back in a row of its own; each event applied once by its id, the dispute
fetched again from Stripe before anything is recorded, in any order.

localstripe has no disputes: Stripe's answer for the dispute is a recorded response
served on 127.0.0.1 (pytest-httpserver), asked by the real `stripe` client."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Order, Payment, PaymentKind
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.stripe_server import signed_event, stripe_config

DISPUTE = "dp_1PortalTest"
CHARGE = "ch_1PortalTest"


@pytest.fixture
def app_config(httpserver):
    return stripe_config(httpserver.url_for("").rstrip("/"))


def _stripe_says(httpserver, status: str) -> None:
    """Stripe's answer to GET /v1/disputes/<id>, in its shape, as it stands now."""
    httpserver.clear()
    httpserver.expect_request(f"/v1/disputes/{DISPUTE}", method="GET").respond_with_json(
        {
            "id": DISPUTE,
            "object": "dispute",
            "amount": 3500,
            "currency": "usd",
            "charge": CHARGE,
            "payment_intent": "pi_1PortalTest",
            "reason": "fraudulent",
            "status": status,
            "livemode": False,
        }
    )


def _deliver(client, event_type: str, event_id: str):
    body, headers = signed_event(
        event_type, {"id": DISPUTE, "object": "dispute"}, event_id=event_id
    )
    return client.post("/webhooks/stripe", data=body, headers=headers)


@pytest.fixture
def paid_order(app, practitioner) -> Order:
    order = booking.book_workshop_seat(make_user(), make_workshop(practitioner, price_cents=3500))
    return booking.record_provider_payment(
        order.id, amount_cents=3500, provider="stripe", charge_id=CHARGE, payment_intent_id="pi_1"
    )


def _ledger(order_id: int) -> list[tuple[PaymentKind, int]]:
    db.session.expire_all()
    return [
        (p.kind, p.amount_cents)
        for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def test_a_dispute_taken_then_won_back(client, httpserver, paid_order):
    _stripe_says(httpserver, "needs_response")
    assert _deliver(client, "charge.dispute.created", "evt_dp_created").json["status"] == (
        "accepted"
    )
    assert _deliver(client, "charge.dispute.created", "evt_dp_created").json["status"] == (
        "ignored"
    )
    booking.apply_payment_events()

    assert _ledger(paid_order.id) == [(PaymentKind.CHARGE, 3500), (PaymentKind.DISPUTE, 3500)]
    assert db.session.get(Order, paid_order.id).amount_refunded == 3500

    _stripe_says(httpserver, "won")
    _deliver(client, "charge.dispute.closed", "evt_dp_closed")
    booking.apply_payment_events()

    assert _ledger(paid_order.id) == [
        (PaymentKind.CHARGE, 3500),
        (PaymentKind.DISPUTE, 3500),
        (PaymentKind.DISPUTE_WON, 3500),
    ]
    order = db.session.get(Order, paid_order.id)
    assert (order.amount_refunded, order.amount_net) == (0, 3500)
    # The bank's doing, not the practitioner's: no receipt for either row.
    assert [p.receipt is not None for p in order.payments] == [True, False, False]


def test_a_lost_dispute_reported_out_of_order_is_recorded_once(client, httpserver, paid_order):
    _stripe_says(httpserver, "lost")
    _deliver(client, "charge.dispute.closed", "evt_dp_closed_first")
    _deliver(client, "charge.dispute.created", "evt_dp_created_late")

    assert booking.apply_payment_events() == 2

    assert _ledger(paid_order.id) == [(PaymentKind.CHARGE, 3500), (PaymentKind.DISPUTE, 3500)]
    order = db.session.get(Order, paid_order.id)
    assert (order.amount_refunded, order.amount_refundable) == (3500, 0)
