"""The payment provider interface: a registry by name, the manual provider built in."""

from __future__ import annotations

import pytest

from portal import booking
from portal.models import OrderStatus
from tests.fixtures.factories import make_workshop
from tests.fixtures.l10n import shown_money


def test_unknown_provider_is_a_lookup_error():
    with pytest.raises(LookupError):
        booking.get_provider("carrier-pigeon")


def test_manual_provider_tells_the_client_how_to_pay(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    assert order.payment_provider == "manual"

    start = booking.get_provider(order.payment_provider).start(order)

    assert start.redirect_url is None
    assert shown_money(3500) in start.instructions and practitioner.name in start.instructions
    assert f"EST-{order.id:06d}" in start.instructions


def test_new_orders_use_the_configured_provider(redirect_provider, practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    assert order.payment_provider == "test-redirect"
    assert order.status == OrderStatus.PENDING
