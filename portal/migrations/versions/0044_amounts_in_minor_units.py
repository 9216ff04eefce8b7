"""amounts: every amount column in its currency's minor unit, not hundredths (#20)

Until now every amount was stored in hundredths of the unit whatever the currency, so
¥1,200 was 120000 and 12.345 KWD could not be stored at all. From here on an amount is an
integer in the currency's minor unit (portal/money.py): ¥1,200 is 1200, 12.345 KWD is
12345, 12.50 EUR stays 1250. The columns keep their names (`*_cents`); what they mean is
written once, in portal/money.py.

Upgrade, per currency of the row (the amount's own `currency` column, or its order's):
- no minor units (JPY, KRW, ISK, HUF...): divided by 100. A remainder cannot come from a
  price typed in a form (whole yen were enforced), but a percentage fee or deposit of an
  odd price can leave one (15 % of ¥1,234 was 18510): it is rounded half up, a positive
  amount never becomes 0 (the CHECKs keep amounts positive), and each such row is logged
  with its old and new value;
- three decimals (KWD, BHD, JOD, OMR, TND, LYD): multiplied by 10;
- two decimals (EUR, USD...): unchanged.
Downgrade does the inverse; there a three-decimal amount's last digit (12.345 KWD) is
rounded half up to hundredths, and logged.

The notifications' stored facts (`amount_cents` of a refund or a fee notice) and the
API's stored answers to a purchase (`total_cents`, given again to a repeated request)
move with their order's currency, so what is sent after the upgrade says the same amount.

The exponents are frozen here as Babel 2.19 (CLDR) has them, so that the downgrade undoes
exactly what the upgrade did even if a later Babel counts a currency differently.

Revision ID: 0044
Revises: 0043

"""

import json
import logging

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

log = logging.getLogger("portal.migrations.0044")

# Every ISO 4217 code Babel knows whose exponent is not 2.
NO_MINOR_UNITS = (
    "ADP AFN ALL BIF BYR CLP COP DJF ESP GNF HUF IDR IQD IRR ISK ITL JPY KMF KPW KRW "
    "LAK LBP LUF MGA MGF MMK MRO PYG RWF SLL SOS STD SYP TMM TRL UGX UYI VND VUV XAF "
    "XOF XPF YER ZMK ZWD"
)
THREE_DECIMALS = "BHD JOD KWD LYD OMR TND"
EXPONENTS = {
    **dict.fromkeys(NO_MINOR_UNITS.split(), 0),
    **dict.fromkeys(THREE_DECIMALS.split(), 3),
    "CLF": 4,
    "UYW": 4,
}

# Every amount column: table, columns (updated together, so a CHECK comparing two of them
# never sees one converted and the other not), and where the row's currency is.
OWN_CURRENCY = "currency IN :codes"
ORDER_CURRENCY = "order_id IN (SELECT id FROM orders WHERE currency IN :codes)"
AMOUNTS = (
    (
        "services",
        ("price_cents", "deposit_cents", "late_cancel_fee_cents", "no_show_fee_cents"),
        OWN_CURRENCY,
    ),
    ("orders", ("total_cents", "deposit_cents"), OWN_CURRENCY),
    ("bookings", ("price_charged_cents",), ORDER_CURRENCY),
    ("payments", ("amount_cents",), OWN_CURRENCY),
    ("fees", ("amount_cents",), OWN_CURRENCY),
)


def _codes(exponent: int) -> list[str]:
    return sorted(code for code, e in EXPONENTS.items() if e == exponent)


def _divided(column: str, divisor: int) -> str:
    """Half up (amounts are never negative), and a positive amount stays at least 1."""
    half_up = f"(({column} + {divisor // 2}) / {divisor})"
    return f"CASE WHEN {column} > 0 AND {half_up} = 0 THEN 1 ELSE {half_up} END"


def _run(conn, sql: str, codes: list[str]):
    return conn.execute(sa.text(sql).bindparams(sa.bindparam("codes", codes, expanding=True)))


def _shift(direction: int) -> None:
    """Every amount from hundredths to minor units (direction 1) or back (-1)."""
    conn = op.get_bind()
    for exponent in sorted(set(EXPONENTS.values())):
        codes = _codes(exponent)
        steps = (exponent - 2) * direction
        for table, columns, where in AMOUNTS:
            if steps > 0:
                values = [f"{c} = {c} * {10**steps}" for c in columns]
            else:
                divisor = 10**-steps
                values = [f"{c} = {_divided(c, divisor)}" for c in columns]
                _log_remainders(conn, table, columns, where, codes, divisor)
            _run(conn, f"UPDATE {table} SET {', '.join(values)} WHERE {where}", codes)
        orders = set(_run(conn, "SELECT id FROM orders WHERE currency IN :codes", codes).scalars())
        if orders and steps:
            _shift_notices(conn, orders, steps)
            _shift_answers(conn, orders, steps)


def _log_remainders(conn, table: str, columns, where: str, codes, divisor: int) -> None:
    for column in columns:
        rows = _run(
            conn,
            f"SELECT id, {column} FROM {table} WHERE {where} "
            f"AND {column} IS NOT NULL AND {column} % {divisor} <> 0",
            codes,
        ).all()
        for row_id, amount in rows:
            log.warning(
                "%s %s.%s: %s is not a whole number of minor units; rounded half up to %s",
                table,
                row_id,
                column,
                amount,
                _rounded(amount, divisor),
            )


def _rounded(amount: int, divisor: int) -> int:
    """What _divided computes in SQL."""
    return max((amount + divisor // 2) // divisor, 1 if amount > 0 else 0)


def _moved(amount: int, steps: int) -> int:
    return amount * 10**steps if steps > 0 else _rounded(amount, 10**-steps)


def _shift_notices(conn, orders: set[int], steps: int) -> None:
    """The amount a stored notice names (a refund, an unpaid fee), in its order's currency."""
    notifications = sa.table("notifications", sa.column("id"), sa.column("payload", sa.JSON))
    rows = conn.execute(
        sa.select(notifications.c.id, notifications.c.payload).where(
            sa.cast(notifications.c.payload, sa.Text).like('%"amount_cents"%')
        )
    ).all()
    for row_id, payload in rows:
        facts = json.loads(payload) if isinstance(payload, str) else dict(payload)
        if facts.get("order_id") not in orders or not isinstance(facts["amount_cents"], int):
            continue
        facts["amount_cents"] = _moved(facts["amount_cents"], steps)
        conn.execute(
            notifications.update().where(notifications.c.id == row_id).values(payload=facts)
        )


def _shift_answers(conn, orders: set[int], steps: int) -> None:
    """The order an API purchase answered with (its JSON, given again to a repeat of the
    request under the same Idempotency-Key) names the order's total."""
    rows = conn.execute(
        sa.text(
            "SELECT id, order_id, answer FROM idempotent_purchases "
            "WHERE answer LIKE '%\"total_cents\"%'"
        )
    ).all()
    for row_id, order_id, answer in rows:
        order = json.loads(answer)
        if order_id not in orders or not isinstance(order.get("total_cents"), int):
            continue
        order["total_cents"] = _moved(order["total_cents"], steps)
        conn.execute(
            sa.text("UPDATE idempotent_purchases SET answer = :answer WHERE id = :id"),
            {"answer": json.dumps(order, separators=(",", ":")), "id": row_id},
        )


def upgrade():
    _shift(1)


def downgrade():
    _shift(-1)
