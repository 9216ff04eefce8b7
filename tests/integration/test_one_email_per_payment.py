"""One email per money movement (#20): a payment that confirms a booking sends one message,
the confirmation carrying the receipt's lines; a refund sends one, its notice carrying the
refund's receipt. Counted at the SMTP server (127.0.0.1), as the client's inbox would."""

from __future__ import annotations

import pytest

from portal import booking
from portal.extensions import db
from portal.models import Order, PaymentPolicy
from portal.notifications import delivery
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.stripe_server import pay_by_card, signed_event, stripe_config


@pytest.fixture
def app_config(localstripe_url, smtp_server):
    return {**stripe_config(localstripe_url), **smtp_server.config}


def inbox(smtp_server, user):
    """Deliver what is due; the messages the user has received so far."""
    delivery.deliver_due()
    return [m for m in smtp_server.messages if m["To"] == user.email]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_payment_marked_by_hand_sends_one_message_with_its_receipt(
    practitioner, client_user, smtp_server
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=3500, start=future(3))
    )
    before = len(inbox(smtp_server, client_user))

    booking.confirm_payment(order, reference="cash", actor=practitioner)

    [mail] = inbox(smtp_server, client_user)[before:]
    text = text_of(mail)
    assert mail["Subject"].startswith("Payment received")
    assert "Your booking is confirmed." in text
    assert f"Receipt {practitioner.id}-00001" in text
    assert "Paid to date: $35.00" in text and "Total: $35.00" in text
    assert order.bookings[0].service_session.display_title in text
    # Still the confirmation: the session's invite rides with it.
    assert any(part.get_content_type() == "text/calendar" for part in mail.walk())


def test_a_card_payment_confirmed_by_its_event_sends_one_message(
    client, practitioner, client_user, smtp_server, localstripe_url
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    before = len(inbox(smtp_server, client_user))
    intent = pay_by_card(localstripe_url, order)
    body, headers = signed_event(
        "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    client.post("/webhooks/stripe", data=body, headers=headers)
    booking.apply_payment_events()
    booking.apply_payment_events()

    [mail] = inbox(smtp_server, client_user)[before:]
    assert f"Receipt {practitioner.id}-00001" in text_of(mail)
    assert "Card payment: $40.00" in text_of(mail)


@pytest.mark.parametrize("manual", [True, False])
def test_a_refund_sends_one_message_with_its_receipt(
    client, practitioner, client_user, smtp_server, localstripe_url, manual
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=future(3))
    )
    if manual:
        booking.confirm_payment(order, actor=practitioner)
    else:
        intent = pay_by_card(localstripe_url, order)
        body, headers = signed_event(
            "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}
        )
        client.post("/webhooks/stripe", data=body, headers=headers)
        booking.apply_payment_events()
    before = len(inbox(smtp_server, client_user))

    booking.refund_order(
        db.session.get_one(Order, order.id), 1000, reason="left early", actor=practitioner
    )

    [mail] = inbox(smtp_server, client_user)[before:]
    text = text_of(mail)
    assert mail["Subject"].startswith("Refund")
    assert "We refunded $10.00" in text and "Reason: left early" in text
    assert f"Receipt {practitioner.id}-00002" in text
    assert "Refunded: $10.00" in text and "Refunded to date: $10.00" in text


def test_a_balance_paid_later_sends_its_receipt_alone(practitioner, client_user, smtp_server):
    order = booking.book_workshop_seat(
        client_user,
        make_workshop(
            practitioner,
            price_cents=4000,
            start=future(3),
            payment_policy=PaymentPolicy.DEPOSIT,
            deposit_cents=1000,
        ),
    )
    booking.record_provider_payment(
        order.id, amount_cents=1000, provider="stripe", charge_id="ch_d", payment_intent_id="pi_d"
    )
    [deposit_mail] = [
        m for m in inbox(smtp_server, client_user) if m["Subject"].startswith("Payment received")
    ]
    assert "We received your payment of $10.00" in text_of(deposit_mail)
    assert "Still due: $30.00" in text_of(deposit_mail)
    before = len(inbox(smtp_server, client_user))

    booking.confirm_payment(db.session.get_one(Order, order.id), actor=practitioner)

    [mail] = inbox(smtp_server, client_user)[before:]
    assert mail["Subject"].startswith("Receipt") and "Paid to date: $40.00" in text_of(mail)
