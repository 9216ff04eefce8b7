"""Cancellation and no-show fees (#20), charged off-session to the card Checkout kept, on a
real Stripe API server (localstripe) on 127.0.0.1: a late cancel by the client charges the
late fee, a no-show marked by the practitioner the no-show fee, a declined card leaves a
balance due with a notice, and the practitioner can waive a fee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    AttendanceStatus,
    AuditAction,
    AuditEntry,
    BookingStatus,
    Fee,
    FeeKind,
    FeeStatus,
    Notification,
    NotificationKind,
    Order,
    Payment,
    PaymentKind,
    StripeCustomer,
)
from portal.notifications import delivery
from tests.fixtures.attendance import book_past_session, finish, past
from tests.fixtures.factories import make_service, make_workshop
from tests.fixtures.stripe_server import signed_event, stripe_client, stripe_config

POLICY = {"late_cancel_fee_percent": 50, "no_show_fee_cents": 1500, "cancellation_cutoff_hours": 24}


@pytest.fixture
def app_config(localstripe_url, smtp_server):
    return {**stripe_config(localstripe_url), **smtp_server.config}


def _soon(hours: int) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def pay_keeping_the_card(client, api_base: str, order: Order, payment_method="pm_card_visa"):
    """What Checkout does with setup_future_usage: the customer pays, the card stays with
    the customer; the signed event makes the portal keep both."""
    stripe = stripe_client(api_base)
    customer = stripe.v1.customers.create({"email": order.user.email})
    intent = stripe.v1.payment_intents.create(
        {
            "amount": order.amount_due_at_booking,
            "currency": order.currency.lower(),
            "customer": customer.id,
            "payment_method": payment_method,
            "metadata": {"order_id": str(order.id)},
            "confirm": True,
        }
    )
    body, headers = signed_event(
        "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}
    )
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    booking.apply_payment_events()
    return customer.id


def _fees(order_id: int) -> list[Fee]:
    db.session.expire_all()
    return list(db.session.scalars(select(Fee).where(Fee.order_id == order_id)))


def _ledger(order_id: int) -> list[tuple[PaymentKind, int]]:
    return [
        (p.kind, p.amount_cents)
        for p in db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
    ]


def _cancel_as_client(signed_in, client_user, seat_id: int):
    return signed_in(client_user).post(f"/bookings/{seat_id}/cancel", data={"confirmed": "y"})


def test_paying_keeps_the_card_at_the_clients_customer(
    client, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, **POLICY)
    )
    customer_id = pay_keeping_the_card(client, localstripe_url, order)

    kept = db.session.get(StripeCustomer, (client_user.id, ""))
    assert (kept.customer_id, kept.payment_method_id) == (customer_id, "pm_card_visa")


def test_a_late_cancel_by_the_client_charges_the_late_fee(
    client, signed_in, practitioner, client_user, localstripe_url
):
    session = make_workshop(practitioner, price_cents=4000, start=_soon(5), **POLICY)
    order = booking.book_workshop_seat(client_user, session)
    pay_keeping_the_card(client, localstripe_url, order)
    seat_id = order.bookings[0].id

    page = signed_in(client_user).get("/bookings/").text
    assert "a fee of" in page
    asked = signed_in(client_user).post(f"/bookings/{seat_id}/cancel")
    assert "late-cancel fee" in asked.text
    assert _cancel_as_client(signed_in, client_user, seat_id).status_code == 302

    [fee] = _fees(order.id)
    assert (fee.kind, fee.amount_cents, fee.status) == (
        FeeKind.LATE_CANCEL,
        2000,
        FeeStatus.PENDING,
    )
    assert booking.apply_payment_events() == 1

    [fee] = _fees(order.id)
    assert fee.status == FeeStatus.CHARGED
    assert _ledger(order.id) == [(PaymentKind.CHARGE, 4000), (PaymentKind.FEE, 2000)]
    intent = stripe_client(localstripe_url).v1.payment_intents.retrieve(
        fee.provider_payment_intent_id
    )
    assert intent.status == "succeeded"
    assert intent.metadata.to_dict() == {"order_id": str(order.id), "fee_id": str(fee.id)}
    # Applied again (a second worker): the fee's own key and claim charge it once.
    assert booking.apply_payment_events() == 0
    assert _ledger(order.id).count((PaymentKind.FEE, 2000)) == 1


def test_the_fee_charges_own_event_is_not_a_payment_of_the_order(
    client, signed_in, practitioner, client_user, localstripe_url
):
    session = make_workshop(practitioner, price_cents=4000, start=_soon(5), **POLICY)
    order = booking.book_workshop_seat(client_user, session)
    pay_keeping_the_card(client, localstripe_url, order)
    _cancel_as_client(signed_in, client_user, order.bookings[0].id)
    booking.apply_payment_events()
    [fee] = _fees(order.id)

    body, headers = signed_event(
        "payment_intent.succeeded",
        {"id": fee.provider_payment_intent_id, "object": "payment_intent"},
    )
    client.post("/webhooks/stripe", data=body, headers=headers)
    booking.apply_payment_events()

    assert _ledger(order.id) == [(PaymentKind.CHARGE, 4000), (PaymentKind.FEE, 2000)]


def test_inside_the_free_window_a_cancel_costs_nothing(
    client, signed_in, practitioner, client_user, localstripe_url
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=4000, start=_soon(72), **POLICY)
    )
    pay_keeping_the_card(client, localstripe_url, order)

    assert _cancel_as_client(signed_in, client_user, order.bookings[0].id).status_code == 302

    assert _fees(order.id) == []
    assert booking.apply_payment_events() == 0


def test_without_a_late_fee_the_cut_off_still_closes_online_cancels(
    signed_in, practitioner, client_user
):
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=0, start=_soon(5))
    )
    response = _cancel_as_client(signed_in, client_user, order.bookings[0].id)
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Order, order.id).bookings[0].status == BookingStatus.CONFIRMED


def test_a_declined_fee_becomes_a_balance_due_with_a_notice(
    client, signed_in, practitioner, client_user, localstripe_url, smtp_server
):
    session = make_workshop(practitioner, price_cents=4000, start=_soon(5), **POLICY)
    order = booking.book_workshop_seat(client_user, session)
    pay_keeping_the_card(client, localstripe_url, order)
    # The kept card has since stopped paying (Stripe's test card that attaches, then declines).
    db.session.get(
        StripeCustomer, (client_user.id, "")
    ).payment_method_id = "pm_card_chargeCustomerFail"
    db.session.commit()

    _cancel_as_client(signed_in, client_user, order.bookings[0].id)
    booking.apply_payment_events()

    [fee] = _fees(order.id)
    assert (fee.status, fee.failure) == (FeeStatus.DUE, "card_declined")
    assert db.session.get(Order, order.id).fees_due == 2000
    assert _ledger(order.id) == [(PaymentKind.CHARGE, 4000)]
    notice = db.session.scalar(
        select(Notification).where(Notification.kind == NotificationKind.FEE_UNPAID)
    )
    assert notice.user_id == client_user.id and notice.payload["fee_id"] == fee.id
    page = signed_in(client_user).get(f"/orders/{order.id}").text
    assert "Your card did not pay this fee" in page and "Waive fee" not in page
    before = len(smtp_server.messages)
    delivery.deliver_due()
    [mail] = [
        m
        for m in smtp_server.messages[before:]
        if m["To"] == client_user.email and m["Subject"].startswith("Fee due")
    ]
    text = mail.get_body(("plain",)).get_content()
    assert "could not charge the fee of" in text and "20.00" in text


def test_marking_a_no_show_charges_the_no_show_fee(
    practitioner, client_user, staff_user, localstripe_url
):
    service = make_service(practitioner, price_cents=0, max_participants=5, **POLICY)
    service.service_type = service.service_type.WORKSHOP
    db.session.commit()
    session = book_past_session(practitioner, [client_user], past(1), service=service)
    finish(session)
    booking.record_outcomes([session.id])
    seat = session.bookings[0]
    stripe = stripe_client(localstripe_url)
    customer = stripe.v1.customers.create({"email": client_user.email})
    db.session.add(
        StripeCustomer(
            user_id=client_user.id,
            account="",
            customer_id=customer.id,
            payment_method_id="pm_card_visa",
        )
    )
    db.session.commit()

    booking.override_outcome(seat, AttendanceStatus.NO_SHOW, practitioner, reason="not there")
    # Marked again (a second click): one fee.
    booking.override_outcome(seat, AttendanceStatus.NO_SHOW, practitioner, reason="still not")
    booking.apply_payment_events()

    [fee] = _fees(seat.order_id)
    assert (fee.kind, fee.amount_cents, fee.status) == (
        FeeKind.NO_SHOW,
        1500,
        FeeStatus.CHARGED,
    )
    assert _ledger(seat.order_id) == [(PaymentKind.FEE, 1500)]


def test_without_a_card_on_file_the_fee_is_due(practitioner, client_user):
    service = make_service(practitioner, price_cents=0, max_participants=5, **POLICY)
    service.service_type = service.service_type.WORKSHOP
    db.session.commit()
    session = book_past_session(practitioner, [client_user], past(1), service=service)
    finish(session)
    booking.override_outcome(
        session.bookings[0], AttendanceStatus.NO_SHOW, practitioner, reason="not there"
    )
    booking.apply_payment_events()

    [fee] = _fees(session.bookings[0].order_id)
    assert (fee.status, fee.failure) == (FeeStatus.DUE, "no card on file")


def test_the_practitioner_waives_a_due_fee_and_it_is_audited(signed_in, practitioner, client_user):
    service = make_service(practitioner, price_cents=0, max_participants=5, **POLICY)
    service.service_type = service.service_type.WORKSHOP
    db.session.commit()
    session = book_past_session(practitioner, [client_user], past(1), service=service)
    finish(session)
    seat = session.bookings[0]
    booking.override_outcome(seat, AttendanceStatus.NO_SHOW, practitioner, reason="not there")
    booking.apply_payment_events()
    [fee] = _fees(seat.order_id)
    web = signed_in(practitioner)
    assert "Waive fee" in web.get(f"/orders/{seat.order_id}").text

    response = web.post(
        f"/orders/{seat.order_id}/fees/{fee.id}/waive", data={"reason": "first time"}
    )

    assert response.status_code == 302
    [fee] = _fees(seat.order_id)
    assert (fee.status, fee.waived_by_id, fee.waive_reason) == (
        FeeStatus.WAIVED,
        practitioner.id,
        "first time",
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.FEE_WAIVED))
    assert entry is not None and entry.object_id == fee.id
    assert db.session.get(Order, seat.order_id).fees_due == 0
    with pytest.raises(booking.InvalidTransition):
        booking.waive_fee(fee, practitioner)
