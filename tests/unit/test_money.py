"""Amounts in each currency's minor unit (portal/money.py): what a typed amount is stored
as, how a stored one is read back, written for a person, and sent to Stripe (#20)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

import pytest

from portal import money
from portal.l10n import format_money, legal_tender

MIGRATION = Path(money.__file__).parent / "migrations/versions/0044_amounts_in_minor_units.py"


@pytest.mark.parametrize(
    ("typed", "currency", "stored"),
    [
        ("1200", "JPY", 1200),
        ("12.345", "KWD", 12345),
        ("12", "KWD", 12000),
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("0", "USD", 0),
        ("5", "ISK", 5),
    ],
)
def test_a_typed_amount_is_stored_in_the_currencys_minor_unit(typed, currency, stored):
    assert money.to_minor(Decimal(typed), currency) == stored
    assert money.from_minor(stored, currency) == Decimal(typed)


@pytest.mark.parametrize(
    ("typed", "currency"),
    [("12.5", "JPY"), ("1200.00001", "JPY"), ("12.3456", "KWD"), ("12.505", "EUR")],
)
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(app, typed, currency):
    with pytest.raises(ValueError):
        money.to_minor(Decimal(typed), currency)
    with app.test_request_context():
        problem = money.amount_problem(Decimal(typed), currency)
    decimals = money.exponent(currency)
    expected = f"{currency} has no minor units" if decimals == 0 else f"At most {decimals} decimals"
    assert problem is not None and expected in problem


def test_trailing_zeros_are_not_finer_than_the_unit(app):
    with app.test_request_context():
        assert money.amount_problem(Decimal("1200.00"), "JPY") is None
        assert money.amount_problem(Decimal("12.340"), "EUR") is None


@pytest.mark.parametrize(
    ("stored", "currency", "text"),
    [(1200, "JPY", "1200"), (12345, "KWD", "12.345"), (1250, "EUR", "12.50"), (0, "EUR", "0.00")],
)
def test_machines_read_the_currencys_own_decimals(stored, currency, text):
    assert money.plain(stored, currency) == text


@pytest.mark.parametrize(
    ("stored", "currency", "locale", "shown"),
    [
        (1200, "JPY", "en_US", "¥1,200"),
        (1200, "JPY", "ja_JP", "￥1,200"),
        (12345, "KWD", "en_US", "KWD12.345"),
        (1250, "EUR", "de_DE", "12,50\xa0€"),
        (1250, "USD", "en_US", "$12.50"),
    ],
)
def test_people_read_the_amount_with_the_currencys_decimals(stored, currency, locale, shown):
    assert format_money(stored, currency, locale) == shown


@pytest.mark.parametrize(
    ("stored", "currency", "sent"),
    [
        (1200, "JPY", 1200),
        (5000, "KRW", 5000),
        (1250, "EUR", 1250),
        (12340, "KWD", 12340),
        (1250, "TWD", 1250),
        (5000, "UGX", 5000),
        # Stripe's special cases: no minor units in ISO 4217, two decimals in Stripe's API.
        (5, "ISK", 500),
        (1000, "HUF", 100000),
    ],
)
def test_stripe_gets_the_amount_it_counts(stored, currency, sent):
    assert money.to_stripe_amount(stored, currency) == sent
    assert money.to_stripe_amount(stored, currency, refund=True) == sent
    assert money.from_stripe_amount(sent, currency) == stored
    assert money.from_stripe_amount(sent, currency.lower()) == stored


def test_a_three_decimal_amount_goes_to_stripe_in_tens():
    """Stripe's acquirers take 3-decimal amounts ending in 0: a charge rounds up (what is
    due is covered), a refund rounds down (never more than was paid)."""
    assert money.to_stripe_amount(12345, "KWD") == 12350
    assert money.to_stripe_amount(12345, "KWD", refund=True) == 12340
    assert money.to_stripe_amount(12341, "BHD") == 12350
    assert money.from_stripe_amount(12350, "KWD") == 12350
    assert money.charged_by_stripe(12345, "KWD") == 12350
    assert money.charged_by_stripe(1200, "JPY") == 1200


def test_babel_and_stripe_agree_on_stripes_own_lists():
    """The cross-check: each currency Stripe names zero- or three-decimal has that many
    decimals in ISO 4217 as Babel has it; where they differ (ISK, HUF, IDR...) Stripe's API
    counts two decimals and to_stripe_amount says so."""
    assert {money.exponent(c) for c in money.STRIPE_ZERO_DECIMAL} == {0}
    assert {money.exponent(c) for c in money.STRIPE_THREE_DECIMAL} == {3}
    differing = {c for c in legal_tender() if money.exponent(c) != money.stripe_exponent(c)}
    assert {"ISK", "HUF", "IDR"} <= differing
    assert not differing & {"JPY", "KRW", "EUR", "USD", "KWD", "TWD"}
    for code in differing:
        assert money.stripe_exponent(code) == 2
        whole = 7 * 10 ** money.exponent(code)
        assert money.from_stripe_amount(money.to_stripe_amount(whole, code), code) == whole


def test_the_migrations_frozen_exponents_are_babels():
    """0044 froze the exponents it converted with; today's Babel still agrees for every
    currency someone pays in (if not, a new migration must move those amounts)."""
    spec = importlib.util.spec_from_file_location("migration_0044", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for code in legal_tender():
        assert migration.EXPONENTS.get(code, 2) == money.exponent(code), code
