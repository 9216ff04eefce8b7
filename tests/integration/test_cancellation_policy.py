"""A service's cancellation policy (#20): free until the cut-off, then a late-cancel fee
(an amount or a percentage), and a no-show fee. The client reads it in plain words before
paying and again in the confirmation email."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Service
from portal.notifications import delivery
from tests.fixtures.factories import make_service, make_workshop
from tests.fixtures.l10n import shown_money
from tests.fixtures.practice import SERVICE_FORM


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def test_a_practitioner_sets_the_fees_and_sees_them_again(signed_in, practitioner):
    web = signed_in(practitioner)
    form = {**SERVICE_FORM, "late_cancel_fee_percent": "50", "no_show_fee": "25.00"}

    assert web.post("/practice/services/new", data=form).status_code == 302

    service = db.session.scalar(select(Service))
    assert (service.late_cancel_fee_cents, service.late_cancel_fee_percent) == (None, 50)
    assert service.no_show_fee_cents == 2500
    edit = web.get(f"/practice/services/{service.id}/edit").text
    assert re.search(
        r'name="no_show_fee"[^>]*value="25.00"|value="25.00"[^>]*name="no_show_fee"', edit
    )
    assert re.search(
        r'name="late_cancel_fee_percent"[^>]*value="50"|value="50"[^>]*name="late_cancel_fee_percent"',
        edit,
    )


def test_a_new_service_starts_from_the_practitioners_latest_policy(signed_in, practitioner):
    make_service(practitioner, cancellation_cutoff_hours=48, no_show_fee_cents=2500)
    make_service(
        practitioner, cancellation_cutoff_hours=12, late_cancel_fee_cents=1000, name="Latest"
    )
    web = signed_in(practitioner)

    for path in ("/practice/services/new", "/practice/packages/new", "/courses/new"):
        page = web.get(path).text
        assert _value(page, "cancellation_cutoff_hours") == "12", path
        assert _value(page, "late_cancel_fee") == "10.00", path
        assert _value(page, "no_show_fee") == "", path


def _value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    found = re.search(r'value="([^"]*)"', tag)
    return found.group(1) if found else ""


def test_a_late_fee_given_twice_is_refused_on_its_field(signed_in, practitioner):
    web = signed_in(practitioner)
    form = {**SERVICE_FORM, "late_cancel_fee": "10", "late_cancel_fee_percent": "50"}

    response = web.post("/practice/services/new", data=form)

    assert response.status_code == 200
    assert "not both" in _field_error(response.text, "late_cancel_fee")
    assert db.session.scalar(select(Service)) is None


def test_a_fee_finer_than_the_currency_is_refused(signed_in, practitioner):
    form = {**SERVICE_FORM, "currency": "JPY", "price": "5000", "no_show_fee": "10.50"}
    response = signed_in(practitioner).post("/practice/services/new", data=form)
    assert response.status_code == 200
    assert _field_error(response.text, "no_show_fee")


def test_the_service_page_states_the_policy_before_paying(client, practitioner):
    fees = make_service(
        practitioner,
        price_cents=8000,
        cancellation_cutoff_hours=48,
        late_cancel_fee_percent=50,
        no_show_fee_cents=8000,
    )
    fixed = make_service(practitioner, price_cents=8000, late_cancel_fee_cents=2000)
    none = make_service(practitioner, price_cents=8000)

    said = {s.id: client.get(f"/book/services/{s.id}").text for s in (fees, fixed, none)}

    assert "up to 48 hours before the start" in said[fees.id]
    assert "Canceling later than 48 hours before the start costs 50% of the price." in said[fees.id]
    assert f"Missing the session without canceling costs {shown_money(8000)}." in said[fees.id]
    assert "charged to the card you book with" in said[fees.id]
    assert f"costs {shown_money(2000)}." in said[fixed.id]
    assert "costs" not in said[none.id] and "card you book with" not in said[none.id]


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def _body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_the_confirmation_email_repeats_the_policy(practitioner, client_user, smtp_server):
    session = make_workshop(
        practitioner, price_cents=0, late_cancel_fee_cents=1500, cancellation_cutoff_hours=12
    )
    booking.book_workshop_seat(client_user, session)

    before = len(smtp_server.messages)
    delivery.deliver_due()
    (confirmation,) = [m for m in smtp_server.messages[before:] if m["To"] == client_user.email]

    text = _body(confirmation)
    assert "Cancellation policy: free up to 12 hours before the start." in text
    assert f"Canceling later than 12 hours before the start costs {shown_money(1500)}." in text


def test_a_service_without_fees_says_nothing_more_in_the_email(
    practitioner, client_user, smtp_server
):
    booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=0))
    before = len(smtp_server.messages)
    delivery.deliver_due()
    (confirmation,) = [m for m in smtp_server.messages[before:] if m["To"] == client_user.email]
    assert "Cancellation policy" not in _body(confirmation)
