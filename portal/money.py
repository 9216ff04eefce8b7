"""Amounts of money: integers in the minor unit of their row's currency, the one meaning of
every amount column.

The columns keep their historical `_cents` names (`price_cents`, `total_cents`,
`amount_cents`...), but none of them holds hundredths: each holds the currency's own minor
unit, as ISO 4217 (CLDR, through Babel) counts it. ¥1,200 is 1200, 12.50 € is 1250, 12.345
KWD is 12345. Migration 0044 moved the amounts stored before as hundredths of every
currency. Whatever turns an amount into a number a person typed or reads, or that Stripe
or a spreadsheet takes, comes through here: `to_minor` and `decimals_problem` for form
input, `from_minor`/`plain` for CSV and structured data (`l10n.format_money` for pages and
emails), `to_stripe_amount`/`from_stripe_amount` for the Stripe API.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision
from flask_babel import gettext

# Stripe's API counts amounts in its own list of exponents (docs.stripe.com/currencies),
# which mostly agrees with ISO 4217 and, where it does not, is what Stripe's API takes:
# every currency is two-decimal for Stripe unless it is listed here.
_STRIPE_ZERO = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
STRIPE_ZERO_DECIMAL = frozenset(_STRIPE_ZERO.split())
_STRIPE_THREE = "BHD JOD KWD OMR TND"
STRIPE_THREE_DECIMAL = frozenset(_STRIPE_THREE.split())
# Stripe's special cases, as this module meets them: ISK and HUF have no minor units in
# ISO 4217 (CLDR) but stay two-decimal in Stripe's API, in whole units (5 ISK is 500); TWD
# is two-decimal in both. Three-decimal amounts must end in 0 for Stripe's card
# acquirers, so a charge rounds up to the next ten (the client pays at most 9 fils more,
# recorded as Stripe reports it) and a refund rounds down (never more than was paid).
STRIPE_THREE_DECIMAL_STEP = 10

# The least positive amount a form takes, a Decimal (a float 0.01 is a hair more than
# 0.01 and would refuse it): a thousandth, a three-decimal currency's minor unit; finer
# than the currency's own, amount_problem refuses it.
SMALLEST_AMOUNT = Decimal("0.001")


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has: JPY 0, EUR 2, KWD 3."""
    return get_currency_precision(currency.upper())


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in units (as typed) as the integer stored: 12.50 EUR is 1250, 1200 JPY
    is 1200. An amount finer than the minor unit is refused (`decimals_problem` says why):
    0.004 dollars rounded would be stored as nothing."""
    minor = amount.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is finer than the currency's minor unit")
    return int(minor)


def from_minor(minor: int, currency: str) -> Decimal:
    """The stored integer as an amount in units, with the currency's decimals: 1250 EUR is
    Decimal("12.50"), 1200 JPY is Decimal("1200")."""
    return Decimal(minor).scaleb(-exponent(currency))


def plain(minor: int, currency: str) -> str:
    """An amount as machines read it (CSV, schema.org): "12.50", "1200", "12.345"."""
    return f"{from_minor(minor, currency):.{exponent(currency)}f}"


def amount_problem(amount: Decimal, currency: str) -> str | None:
    """Why an amount as typed cannot be an amount of this currency, if it cannot."""
    if not amount.is_finite():
        return None  # not a number: the amount field's own range check refuses it
    try:
        to_minor(amount, currency)
    except ValueError:
        return decimals_problem(currency)
    return None


def decimals_problem(currency: str) -> str:
    decimals = exponent(currency)
    if decimals == 0:
        return gettext("%(currency)s has no minor units: give a whole amount.", currency=currency)
    return gettext(
        "At most %(decimals)d decimals in %(currency)s.", decimals=decimals, currency=currency
    )


def stripe_exponent(currency: str) -> int:
    code = currency.upper()
    if code in STRIPE_ZERO_DECIMAL:
        return 0
    return 3 if code in STRIPE_THREE_DECIMAL else 2


def to_stripe_amount(minor: int, currency: str, *, refund: bool = False) -> int:
    """A stored amount as Stripe's API takes it: ¥1,200 is 1200, 5 ISK is 500, and a
    three-decimal amount rounded to Stripe's ten (up for a charge, down for a refund)."""
    shift = stripe_exponent(currency) - exponent(currency)
    amount = minor * 10**shift if shift >= 0 else _rounded(Decimal(minor).scaleb(shift))
    if currency.upper() in STRIPE_THREE_DECIMAL and amount % STRIPE_THREE_DECIMAL_STEP:
        step = STRIPE_THREE_DECIMAL_STEP
        amount = amount - amount % step + (0 if refund else step)
    return amount


def charged_by_stripe(minor: int, currency: str) -> int:
    """What the card pays when Stripe is asked to charge this amount: itself, but for a
    three-decimal amount not ending in 0 (12.345 KWD is charged 12.350)."""
    return from_stripe_amount(to_stripe_amount(minor, currency), currency)


def from_stripe_amount(amount: int, currency: str) -> int:
    """An amount Stripe reports, in the currency's stored minor unit."""
    shift = exponent(currency) - stripe_exponent(currency)
    return amount * 10**shift if shift >= 0 else _rounded(Decimal(amount).scaleb(shift))


def _rounded(amount: Decimal) -> int:
    # Only for a currency ISO 4217 and Stripe count differently (IDR: none, and two).
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))
