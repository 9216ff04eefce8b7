"""The practitioner chooses when clients pay; the shop tells the client in plain words (#20)."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Order, PaymentKind, PaymentPolicy, Service
from tests.fixtures.factories import make_service, make_workshop
from tests.fixtures.l10n import shown_money
from tests.fixtures.practice import SERVICE_FORM


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def test_a_practitioner_sets_a_percentage_deposit(signed_in, practitioner):
    web = signed_in(practitioner)
    form = {**SERVICE_FORM, "payment_policy": "deposit", "deposit_percent": "30"}

    assert web.post("/practice/services/new", data=form).status_code == 302

    service = db.session.scalar(select(Service))
    assert (service.payment_policy, service.deposit_percent) == (PaymentPolicy.DEPOSIT, 30)
    edit = web.get(f"/practice/services/{service.id}/edit").text
    assert re.search(r'<option selected value="deposit">|<option value="deposit" selected', edit)


def test_a_deposit_without_its_amount_is_shown_on_its_field(signed_in, practitioner):
    web = signed_in(practitioner)
    response = web.post(
        "/practice/services/new", data={**SERVICE_FORM, "payment_policy": "deposit"}
    )
    assert response.status_code == 200
    assert "amount or as a percentage" in _field_error(response.text, "deposit")
    assert db.session.scalar(select(Service)) is None


def test_the_shop_page_says_when_to_pay(client, practitioner):
    later = make_service(practitioner, price_cents=6000, payment_policy=PaymentPolicy.PAY_LATER)
    deposit = make_service(
        practitioner, price_cents=6000, payment_policy=PaymentPolicy.DEPOSIT, deposit_cents=1500
    )
    in_full = make_service(practitioner, price_cents=6000)

    said = {s.id: client.get(f"/book/services/{s.id}").text for s in (later, deposit, in_full)}

    assert "confirmed at once" in said[later.id] and shown_money(6000) in said[later.id]
    assert f"deposit of {shown_money(1500)}" in said[deposit.id]
    assert shown_money(4500) in said[deposit.id]
    assert "when you book" in said[in_full.id]


def test_the_order_page_shows_the_ledger_and_what_is_due(signed_in, practitioner, client_user):
    session = make_workshop(
        practitioner, price_cents=4000, payment_policy=PaymentPolicy.DEPOSIT, deposit_cents=1000
    )
    order = booking.book_workshop_seat(client_user, session)
    booking.record_provider_payment(
        order.id, amount_cents=1000, provider="stripe", charge_id="ch_d", payment_intent_id="pi_d"
    )

    page = signed_in(client_user).get(f"/orders/{order.id}").text

    assert "Payments" in page
    assert re.search(r'class="amount-paid">\s*' + re.escape(shown_money(1000)), page)
    assert re.search(r'class="amount-due">\s*' + re.escape(shown_money(3000)), page)
    assert "Refund" not in page


def test_a_manual_refund_is_recorded_by_hand(signed_in, practitioner, client_user):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=4000))
    booking.confirm_payment(order, actor=practitioner)

    response = signed_in(practitioner).post(
        f"/orders/{order.id}/refund", data={"amount": "40", "reason": "Moved away", "manual": "y"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refund = order.payments[-1]
    assert (refund.kind, refund.provider, refund.amount_cents) == (
        PaymentKind.REFUND,
        "manual",
        4000,
    )
    assert order.amount_net == 0
