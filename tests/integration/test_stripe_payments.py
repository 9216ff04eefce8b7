"""Card payments through Stripe (#20), against a real Stripe API server (localstripe) on
127.0.0.1 and webhook events signed exactly as Stripe signs them.

The order is paid only by the verified event, applied by the worker after it asked Stripe
again; the browser's return proves nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentKind,
)
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.stripe_server import pay_by_card, signed_event, stripe_client, stripe_config


@pytest.fixture
def app_config(localstripe_url):
    return stripe_config(localstripe_url)


def _deliver(client, event_type: str, obj: dict, **kwargs):
    body, headers = signed_event(event_type, obj, **kwargs)
    return client.post("/webhooks/stripe", data=body, headers=headers)


def _succeeded(client, intent, **kwargs):
    return _deliver(
        client, "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}, **kwargs
    )


def _charge(intent) -> str:
    """The intent's charge id (localstripe answers with the charge itself)."""
    charge = intent.latest_charge
    return charge if isinstance(charge, str) else charge.id


def _ledger(order_id: int) -> list[tuple[PaymentKind, int, str | None]]:
    return [
        (p.kind, p.amount_cents, p.provider_object_id)
        for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def test_new_orders_go_to_stripe_when_it_is_configured(practitioner, client_user):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    assert (order.payment_provider, order.status) == ("stripe", OrderStatus.PENDING)


def test_a_verified_payment_event_confirms_the_order(
    app, client, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    intent = pay_by_card(localstripe_url, order)
    assert intent.status == "succeeded"

    response = _succeeded(client, intent)

    assert response.status_code == 200 and response.json["status"] == "accepted"
    # Stored, not yet applied: the endpoint answers without asking Stripe anything.
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING
    assert booking.apply_payment_events() == 1
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    assert order.bookings[0].status == BookingStatus.CONFIRMED
    assert _ledger(order.id) == [(PaymentKind.CHARGE, 3500, _charge(intent))]
    assert (order.amount_paid, order.amount_due) == (3500, 0)
    assert order.payments[0].provider_payment_intent_id == intent.id


def test_a_bad_signature_stores_nothing(client, practitioner, client_user, localstripe_url):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    intent = pay_by_card(localstripe_url, order)
    body, headers = signed_event(
        "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}
    )
    headers["Stripe-Signature"] = headers["Stripe-Signature"][:-4] + "0000"

    response = client.post("/webhooks/stripe", data=body, headers=headers)

    assert response.status_code == 400
    assert db.session.scalar(select(func.count(PaymentEvent.id))) == 0


def test_an_old_signature_is_refused(client, practitioner, client_user, localstripe_url):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    intent = pay_by_card(localstripe_url, order)
    # Stripe's tolerance is five minutes: a replayed event is older than that.
    response = _succeeded(client, intent, at=intent.created - 3600)
    assert response.status_code == 400


def test_an_event_whose_payment_did_not_succeed_confirms_nothing(
    client, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    # Signed, but Stripe says otherwise when asked: the intent was never confirmed.
    intent = pay_by_card(localstripe_url, order, confirm=False)

    assert _succeeded(client, intent).status_code == 200
    booking.apply_payment_events()

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.PENDING
    assert _ledger(order.id) == []


def test_an_event_delivered_twice_and_a_second_event_record_one_charge(
    client, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    intent = pay_by_card(localstripe_url, order)

    first = _succeeded(client, intent, event_id="evt_same")
    again = _succeeded(client, intent, event_id="evt_same")
    # checkout.session.completed and payment_intent.succeeded name one payment.
    other = _succeeded(client, intent, event_id="evt_other")

    assert [r.json["status"] for r in (first, again, other)] == ["accepted", "ignored", "accepted"]
    booking.apply_payment_events()
    assert booking.apply_payment_events() == 0
    assert _ledger(order.id) == [(PaymentKind.CHARGE, 3500, _charge(intent))]


def test_a_payment_after_the_hold_lapsed_takes_the_free_seat_again(
    client, practitioner, client_user, localstripe_url
):
    session = make_workshop(practitioner, seats=1, price_cents=3500)
    booked_at = future(0) - timedelta(days=1)
    order = booking.book_workshop_seat(client_user, session, now=booked_at)
    booking.release_expired_holds(now=order.hold_expires_at + timedelta(seconds=1))
    assert db.session.get(Order, order.id).status == OrderStatus.EXPIRED

    _succeeded(client, pay_by_card(localstripe_url, order))
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    seats = [b for b in order.bookings if b.status == BookingStatus.CONFIRMED]
    assert len(seats) == 1
    assert order.amount_paid == 3500


def test_a_payment_after_the_seat_was_sold_is_refunded_and_told(
    client, practitioner, client_user, localstripe_url
):
    session = make_workshop(practitioner, seats=1, price_cents=3500)
    booked_at = future(0) - timedelta(days=1)
    order = booking.book_workshop_seat(client_user, session, now=booked_at)
    booking.release_expired_holds(now=order.hold_expires_at + timedelta(seconds=1))
    booking.book_workshop_seat(make_user(), db.session.get(type(session), session.id))
    intent = pay_by_card(localstripe_url, order)

    _succeeded(client, intent)
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.EXPIRED
    refunds = stripe_client(localstripe_url).v1.refunds.list({"charge": _charge(intent)})
    [refund] = refunds.data
    assert refund.amount == 3500
    assert _ledger(order.id) == [
        (PaymentKind.CHARGE, 3500, _charge(intent)),
        (PaymentKind.REFUND, 3500, refund.id),
    ]
    assert (order.amount_paid, order.amount_refunded, order.amount_net) == (3500, 3500, 0)
    told = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PAYMENT_REFUNDED)
    ).all()
    assert [(n.user_id, n.payload["order_id"]) for n in told] == [(client_user.id, order.id)]


def test_a_refund_made_in_stripes_dashboard_is_recorded_once(
    client, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    intent = pay_by_card(localstripe_url, order)
    _succeeded(client, intent)
    booking.apply_payment_events()
    refund = stripe_client(localstripe_url).v1.refunds.create(
        {"charge": _charge(intent), "amount": 1000}
    )
    charge = {"id": _charge(intent), "object": "charge"}

    _deliver(client, "charge.refunded", charge)
    _deliver(client, "charge.refunded", charge)
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert _ledger(order.id)[1:] == [(PaymentKind.REFUND, 1000, refund.id)]
    assert (order.amount_paid, order.amount_refunded, order.amount_net) == (3500, 1000, 2500)


def test_without_a_webhook_secret_the_endpoint_is_absent(app, client):
    app.config["STRIPE_WEBHOOK_SECRET"] = ""
    body, headers = signed_event("payment_intent.succeeded", {"id": "pi_x"})
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 404


def test_the_seat_stays_unconfirmed_until_the_event(signed_in, practitioner, client_user):
    """The client's return from Checkout shows a page that waits; it confirms nothing."""
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=3500))
    page = signed_in(client_user).get(f"/orders/{order.id}?returned=1")
    assert page.status_code == 200
    assert "waiting for Stripe" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Booking, order.bookings[0].id).status == BookingStatus.PENDING_PAYMENT


# -- Refunds ---------------------------------------------------------------------------


def _paid_by_card(client, practitioner, client_user, localstripe_url, price=4000):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=price))
    intent = pay_by_card(localstripe_url, order)
    _succeeded(client, intent)
    booking.apply_payment_events()
    db.session.expire_all()
    return db.session.get(Order, order.id), intent


def _stripe_refunds(localstripe_url, intent) -> list[int]:
    listed = stripe_client(localstripe_url).v1.refunds.list({"charge": _charge(intent)})
    return sorted(r.amount for r in listed.data)


def test_a_partial_refund_goes_back_to_the_card_with_its_reason(
    client, practitioner, client_user, localstripe_url
):
    order, intent = _paid_by_card(client, practitioner, client_user, localstripe_url)

    booking.refund_order(order, 1500, reason="Arrived late", actor=practitioner)

    assert _stripe_refunds(localstripe_url, intent) == [1500]
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refund = order.payments[-1]
    assert (refund.kind, refund.amount_cents, refund.actor_id, refund.reason) == (
        PaymentKind.REFUND,
        1500,
        practitioner.id,
        "Arrived late",
    )
    assert (order.amount_refunded, order.amount_refundable) == (1500, 2500)
    with pytest.raises(booking.InvalidInput, match="At most"):
        booking.refund_order(order, 2600, reason="Too much", actor=practitioner)
    assert _stripe_refunds(localstripe_url, intent) == [1500]


def test_the_refund_event_of_our_own_refund_records_nothing_more(
    client, practitioner, client_user, localstripe_url
):
    order, intent = _paid_by_card(client, practitioner, client_user, localstripe_url)
    booking.refund_order(order, 4000, reason="Canceled by phone", actor=practitioner)

    _deliver(client, "charge.refunded", {"id": _charge(intent), "object": "charge"})
    booking.apply_payment_events()

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert [p.kind for p in order.payments] == [PaymentKind.CHARGE, PaymentKind.REFUND]
    assert order.amount_net == 0


def test_a_refund_needs_a_reason(client, practitioner, client_user, localstripe_url):
    order, intent = _paid_by_card(client, practitioner, client_user, localstripe_url)
    with pytest.raises(booking.InvalidInput) as refused:
        booking.refund_order(order, 1000, reason="  ", actor=practitioner)
    assert refused.value.field == "reason"
    assert _stripe_refunds(localstripe_url, intent) == []


def test_a_practitioner_canceling_the_session_refunds_the_card_in_full(
    client, practitioner, client_user, localstripe_url
):
    order, intent = _paid_by_card(client, practitioner, client_user, localstripe_url)
    session = order.bookings[0].service_session

    booking.cancel_session(session, practitioner, note="Teacher ill")
    booking.apply_payment_events()

    assert _stripe_refunds(localstripe_url, intent) == [4000]
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.amount_refunded, order.amount_net) == (4000, 0)
    told = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.PAYMENT_REFUNDED)
    ).all()
    assert [n.payload["amount_cents"] for n in told] == [4000]


def test_the_refund_form_refunds_and_the_client_may_not(
    signed_in, app, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=4000))
    intent = pay_by_card(localstripe_url, order)
    booking.receive_payment_event("evt_form", "payment_intent.succeeded", intent.id)
    booking.apply_payment_events()

    buyer = signed_in(client_user)
    refused = buyer.post(f"/orders/{order.id}/refund", data={"amount": "40", "reason": "me"})
    assert refused.status_code == 403
    buyer.post("/auth/logout")

    desk = signed_in(practitioner)
    page = desk.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Refund" in page
    bad = desk.post(f"/orders/{order.id}/refund", data={"amount": "41", "reason": "Overpaid"})
    assert bad.status_code == 422 and "At most" in bad.get_data(as_text=True)
    done = desk.post(f"/orders/{order.id}/refund", data={"amount": "10", "reason": "Overpaid"})
    assert done.status_code == 302
    assert _stripe_refunds(localstripe_url, intent) == [1000]
