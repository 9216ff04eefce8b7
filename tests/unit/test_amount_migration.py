"""Migration 0044 (#20): amounts stored as hundredths of every currency become the
currency's minor unit, in every amount column, and back on downgrade. Yen are divided by
100, dinars multiplied by 10, euros left alone; a remainder is rounded half up and logged.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from portal import booking
from portal.extensions import db
from portal.models import Fee, FeeKind, Notification, NotificationKind, PaymentPolicy, Role
from tests.fixtures.app import make_app
from tests.fixtures.factories import future, make_user, make_workshop
from tests.unit.test_migrations import _scripts, empty_database_url  # noqa: F401

REVISION = "0044"


def _audit_as_today(conn) -> None:
    """Rows are made here by today's code, whose audit appends on PostgreSQL call the
    function migration 0045 creates: it is made ahead of its migration."""
    if conn.dialect.name == "sqlite":
        return
    path = Path(__file__).parents[2] / "portal/migrations/versions/0045_audit_append.py"
    spec = importlib.util.spec_from_file_location("migration_0045", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    conn.exec_driver_sql(module.CREATE)


def _before() -> str:
    down = _scripts().get_revision(REVISION).down_revision
    assert isinstance(down, str)
    return down


def _paid_order(practitioner, currency: str, price: int, *, fee: int, refund: int) -> int:
    """An order of one seat, paid by hand, a fee on it and part refunded: a row in every
    amount column (the service's four, the order's two, the seat's, the ledger's, the
    fee's) and a notice naming an amount."""
    session = make_workshop(
        practitioner,
        # One practitioner's sessions may not overlap: each order its own day.
        start=future(days=2 + db.session.query(Fee).count()),
        price_cents=price,
        currency=currency,
        payment_policy=PaymentPolicy.DEPOSIT,
        deposit_cents=price // 2,
        no_show_fee_cents=fee,
        late_cancel_fee_cents=fee,
    )
    order = booking.book_workshop_seat(make_user(), session)
    booking.confirm_payment(order, reference="cash", actor=practitioner)
    db.session.add(
        Fee(
            order_id=order.id,
            booking_id=order.bookings[0].id,
            kind=FeeKind.NO_SHOW,
            amount_cents=fee,
            currency=currency,
        )
    )
    db.session.commit()
    booking.refund_order(order, refund, reason="Moved", actor=practitioner, manual=True)
    return order.id


def _amounts(order_id: int) -> dict[str, object]:
    with db.engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql), {"o": order_id}).one()  # noqa: E731
        service = one(
            "SELECT price_cents, deposit_cents, late_cancel_fee_cents, no_show_fee_cents "
            "FROM services WHERE id = (SELECT service_id FROM orders WHERE id = :o)"
        )
        payments = conn.execute(
            text("SELECT amount_cents FROM payments WHERE order_id = :o ORDER BY id"),
            {"o": order_id},
        ).scalars()
        return {
            "service": tuple(service),
            "order": tuple(one("SELECT total_cents, deposit_cents FROM orders WHERE id = :o")),
            "seat": one("SELECT price_charged_cents FROM bookings WHERE order_id = :o")[0],
            "payments": list(payments),
            "fee": one("SELECT amount_cents FROM fees WHERE order_id = :o")[0],
        }


def _answer_total(order_id: int) -> int:
    """The total the API's stored answer to the order's purchase names."""
    with db.engine.connect() as conn:
        answer = conn.execute(
            text("SELECT answer FROM idempotent_purchases WHERE order_id = :o"), {"o": order_id}
        ).scalar_one()
    return json.loads(answer)["total_cents"]


def _notice_amount(order_id: int) -> int:
    db.session.remove()  # a fresh snapshot: the migration wrote since the last read
    [notice] = [
        n
        for n in db.session.query(Notification).filter_by(kind=NotificationKind.PAYMENT_REFUNDED)
        if n.payload.get("order_id") == order_id
    ]
    return notice.payload["amount_cents"]


class _Told(logging.Handler):
    """What the migration logged. Alembic's logging config replaces the root's handlers
    (caplog's among them), so this one listens on the migration's own logger."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def told():
    handler = _Told()
    logger = logging.getLogger("portal.migrations.0044")
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def test_amounts_move_to_minor_units_and_back(empty_database_url, told):  # noqa: F811
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade(revision=_before())
        with db.engine.begin() as conn:
            _audit_as_today(conn)
        practitioner = make_user(Role.PRACTITIONER)
        # As stored before: hundredths. ¥1,200 with a ¥500 fee; 12.34 KWD with 1.50; 12.50 €.
        yen = _paid_order(practitioner, "JPY", 120000, fee=50000, refund=30000)
        dinar = _paid_order(practitioner, "KWD", 1234, fee=150, refund=100)
        euro = _paid_order(practitioner, "EUR", 1250, fee=300, refund=250)
        # 15 % of ¥1,234 made a fee with a remainder: 185.10 yen.
        odd = _paid_order(practitioner, "JPY", 123400, fee=18510, refund=30)
        euros_before = _amounts(euro)
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO idempotent_purchases "
                    "(user_id, key, fingerprint, order_id, answer, created_at) "
                    "SELECT user_id, 'key-' || id, 'f', id, "
                    "'{\"id\":' || id || ',\"total_cents\":' || total_cents || "
                    "',\"currency\":\"' || currency || '\"}', created_at FROM orders"
                )
            )

        upgrade(revision=REVISION)

        assert _amounts(yen) == {
            "service": (1200, 600, 500, 500),
            "order": (1200, 600),
            "seat": 1200,
            "payments": [1200, 300],
            "fee": 500,
        }
        assert _amounts(dinar) == {
            "service": (12340, 6170, 1500, 1500),
            "order": (12340, 6170),
            "seat": 12340,
            "payments": [12340, 1000],
            "fee": 1500,
        }
        assert _amounts(euro) == euros_before
        assert (_notice_amount(yen), _notice_amount(dinar), _notice_amount(euro)) == (
            300,
            1000,
            250,
        )
        assert [_answer_total(o) for o in (yen, dinar, euro)] == [1200, 12340, 1250]
        # The remainder, rounded half up and told; a positive amount stays positive.
        assert _amounts(odd)["fee"] == 185 and _amounts(odd)["payments"][-1] == 1
        assert any(m.startswith("fees ") and "18510" in m and "to 185" in m for m in told), told
        assert any("no_show_fee_cents: 18510" in m for m in told), told
        assert any(m.startswith("payments ") and "30 " in m and "to 1" in m for m in told), told

        # After the upgrade a dinar amount may have three decimals: 12.345 KWD.
        with db.engine.begin() as conn:
            conn.execute(
                text("UPDATE fees SET amount_cents = 12345 WHERE order_id = :o"), {"o": dinar}
            )
        told.clear()
        downgrade(revision=_before())

        assert _amounts(yen) == {
            "service": (120000, 60000, 50000, 50000),
            "order": (120000, 60000),
            "seat": 120000,
            "payments": [120000, 30000],
            "fee": 50000,
        }
        assert _amounts(dinar)["service"] == (1234, 617, 150, 150)
        assert _amounts(dinar)["fee"] == 1235  # 12.345 rounded half up to hundredths
        assert any("12345" in m and "to 1235" in m for m in told), told
        assert _amounts(euro) == euros_before
        assert (_notice_amount(yen), _notice_amount(dinar)) == (30000, 100)
        assert [_answer_total(o) for o in (yen, dinar, euro)] == [120000, 1234, 1250]
        db.session.remove()
        db.engine.dispose()
