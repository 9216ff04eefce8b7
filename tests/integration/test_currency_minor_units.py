"""Money in each currency's true minor unit (#20): a yen price typed "1200" is stored,
shown and charged as ¥1,200 (Stripe gets 1200, not 120000); a dinar price keeps its three
decimals through the form, the card and a refund; a euro price stays in cents."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import booking, profiles
from portal.extensions import db
from portal.models import (
    Fee,
    FeeStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
    PractitionerProfile,
    Service,
)
from portal.web.public_page import structured_data
from tests.fixtures.factories import make_service, make_workshop
from tests.fixtures.practice import SERVICE_FORM
from tests.fixtures.stripe_server import pay_by_card, signed_event, stripe_client, stripe_config
from tests.integration.test_cancellation_fees import pay_keeping_the_card


@pytest.fixture
def app_config(checkout_fake):
    return stripe_config(checkout_fake.url)


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def _input_value(html: str, field: str) -> str:
    tag = re.search(rf'<input[^>]*\bid="{field}"[^>]*>', html)
    assert tag, field
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


@pytest.mark.parametrize(
    ("typed", "currency", "stored", "shown_again"),
    [
        ("1200", "JPY", 1200, "1200"),
        ("12.345", "KWD", 12345, "12.345"),
        ("12.50", "EUR", 1250, "12.50"),
    ],
)
def test_a_typed_price_is_stored_in_minor_units_and_shown_again_as_typed(
    signed_in, practitioner, typed, currency, stored, shown_again
):
    web = signed_in(practitioner)
    form = {**SERVICE_FORM, "currency": currency, "price": typed, "no_show_fee": typed}
    assert web.post("/practice/services/new", data=form).status_code == 302
    service = db.session.scalars(select(Service)).one()
    assert (service.price_cents, service.no_show_fee_cents) == (stored, stored)

    page = web.get(f"/practice/services/{service.id}/edit").text
    assert _input_value(page, "price") == shown_again
    assert _input_value(page, "no_show_fee") == shown_again


@pytest.mark.parametrize(
    ("field", "typed", "currency", "error"),
    [
        ("price", "12.3456", "KWD", "At most 3 decimals in KWD"),
        ("no_show_fee", "1.2345", "KWD", "At most 3 decimals in KWD"),
        ("late_cancel_fee", "10.5", "JPY", "JPY has no minor units"),
        ("deposit", "100.5", "JPY", "JPY has no minor units"),
    ],
)
def test_an_amount_finer_than_the_currency_is_refused_next_to_its_field(
    signed_in, practitioner, field, typed, currency, error
):
    form = {**SERVICE_FORM, "currency": currency, "price": "5000", field: typed}
    if field == "deposit":
        form["payment_policy"] = "deposit"
    response = signed_in(practitioner).post("/practice/services/new", data=form)
    assert response.status_code == 200
    assert error in _field_error(response.text, field)
    assert db.session.scalars(select(Service)).all() == []


@pytest.mark.parametrize(("typed", "currency"), [("0.01", "EUR"), ("0.001", "KWD"), ("1", "JPY")])
def test_the_currencys_smallest_amount_is_a_fee_it_takes(signed_in, practitioner, typed, currency):
    """One minor unit, the least fee there is (a float bound of 0.01 refused 0.01)."""
    form = {**SERVICE_FORM, "currency": currency, "price": "5000", "no_show_fee": typed}
    assert signed_in(practitioner).post("/practice/services/new", data=form).status_code == 302
    assert db.session.scalars(select(Service.no_show_fee_cents)).one() == 1


def _pay(client, localstripe_url, order: Order):
    """The client pays on Stripe (localstripe) and Stripe's signed event is applied."""
    intent = pay_by_card(localstripe_url, order)
    body, headers = signed_event(
        "payment_intent.succeeded", {"id": intent.id, "object": "payment_intent"}
    )
    assert client.post("/webhooks/stripe", data=body, headers=headers).status_code == 200
    assert booking.apply_payment_events() == 1
    db.session.expire_all()
    return intent


def test_a_yen_booking_charges_1200_not_120000(
    client, signed_in, practitioner, client_user, checkout_fake, localstripe_url
):
    session = make_workshop(practitioner, price_cents=1200, currency="JPY")
    order = booking.book_workshop_seat(client_user, session)

    page = signed_in(client_user).get(f"/orders/{order.id}").text
    [(checkout, _headers)] = checkout_fake.created
    assert checkout["line_items[0][price_data][unit_amount]"] == "1200"
    assert checkout["line_items[0][price_data][currency]"] == "jpy"
    assert "¥1,200" in page and "¥120,000" not in page

    intent = _pay(client, localstripe_url, order)
    charge = stripe_client(localstripe_url).v1.charges.retrieve(intent.latest_charge.id)
    assert (charge.amount, charge.currency) == (1200, "jpy")
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.PAID
    assert (order.amount_paid, order.amount_due) == (1200, 0)


def test_a_dinar_price_off_stripes_tens_says_what_the_card_will_pay(
    signed_in, practitioner, client_user, checkout_fake
):
    """Stripe charges three-decimal currencies in tens: 12.345 KWD due is 12.350 on the
    card, and the order page says so before the client leaves for Stripe."""
    order = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, price_cents=12345, currency="KWD")
    )
    page = signed_in(client_user).get(f"/orders/{order.id}").text
    [(checkout, _headers)] = checkout_fake.created
    assert checkout["line_items[0][price_data][unit_amount]"] == "12350"
    assert "Pay KWD12.350 by card" in page


def test_a_dinar_refund_keeps_three_decimals(
    client, signed_in, practitioner, client_user, localstripe_url
):
    session = make_workshop(practitioner, price_cents=12340, currency="KWD")
    order = booking.book_workshop_seat(client_user, session)
    intent = _pay(client, localstripe_url, order)
    assert intent.amount == 12340
    desk = signed_in(practitioner)
    page = desk.get(f"/orders/{order.id}").text
    assert _input_value(page, "amount") == "12.340"

    refused = desk.post(f"/orders/{order.id}/refund", data={"amount": "5.1234", "reason": "x"})
    assert refused.status_code == 422
    assert "At most 3 decimals in KWD" in _field_error(refused.text, "amount")

    # Stripe's acquirers take dinars in tens of fils: the card gets 5.120 back, not more.
    done = desk.post(
        f"/orders/{order.id}/refund",
        data={"amount": "5.125", "reason": "Left early"},
        follow_redirects=True,
    )
    assert "Refunded KWD5.120" in done.text
    refunds = stripe_client(localstripe_url).v1.refunds.list({"charge": intent.latest_charge.id})
    assert [r.amount for r in refunds.data] == [5120]
    db.session.expire_all()
    ledger = db.session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
    assert [(p.kind, p.amount_cents) for p in ledger] == [
        (PaymentKind.CHARGE, 12340),
        (PaymentKind.REFUND, 5120),
    ]
    assert db.session.get(Order, order.id).amount_refundable == 7220

    report = desk.get("/orders/revenue.csv").text
    assert "KWD,12.340,5.120,0.000,7.220" in report


def test_a_dinar_fee_goes_to_the_card_in_tens_and_the_ledger_says_what_it_took(
    client, signed_in, practitioner, client_user, localstripe_url
):
    """10 % of 12.340 KWD is 1.234 KWD owed; Stripe takes dinars in tens of fils, so the
    card pays 1.240 and the ledger records 1.240, what the card was charged."""
    session = make_workshop(
        practitioner,
        price_cents=12340,
        currency="KWD",
        start=(datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0),
        late_cancel_fee_percent=10,
        cancellation_cutoff_hours=24,
    )
    order = booking.book_workshop_seat(client_user, session)
    pay_keeping_the_card(client, localstripe_url, order)
    seat_id = order.bookings[0].id
    canceled = signed_in(client_user).post(f"/bookings/{seat_id}/cancel", data={"confirmed": "y"})
    assert canceled.status_code == 302
    assert booking.apply_payment_events() == 1

    db.session.expire_all()
    fee = db.session.scalars(select(Fee).where(Fee.order_id == order.id)).one()
    assert (fee.amount_cents, fee.status) == (1234, FeeStatus.CHARGED)
    intent = stripe_client(localstripe_url).v1.payment_intents.retrieve(
        fee.provider_payment_intent_id
    )
    assert (intent.amount, intent.currency) == (1240, "kwd")
    ledger = db.session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
    assert [(p.kind, p.amount_cents) for p in ledger] == [
        (PaymentKind.CHARGE, 12340),
        (PaymentKind.FEE, 1240),
    ]


def test_search_engines_read_each_currencys_own_decimals(app, practitioner):
    """schema.org's price is a plain decimal: "1200" yen, "12.345" dinars, "12.50" euros."""
    services = [
        make_service(practitioner, price_cents=1200, currency="JPY"),
        make_service(practitioner, price_cents=12345, currency="KWD"),
        make_service(practitioner, price_cents=1250, currency="EUR"),
    ]
    profiles.save_public_profile(practitioner, slug="maya", bio="")
    profile = db.session.get(PractitionerProfile, practitioner.id)
    with app.test_request_context():
        offers = structured_data(profile, services)["makesOffer"]
    assert [(o["price"], o["priceCurrency"]) for o in offers] == [
        ("1200", "JPY"),
        ("12.345", "KWD"),
        ("12.50", "EUR"),
    ]
