"""The revenue report (#20): money in, back and owed, by month in the practitioner's
timezone and by service, for the practitioner (their own) and staff (all, or one);
summed in SQL, so its statements do not grow with the payments; CSV alike."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from portal import booking
from portal.extensions import db
from portal.models import PaymentPolicy, Role
from tests.fixtures.factories import future, make_user, make_workshop

YEAR = 2025
_days = itertools.count(10)


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _workshop(practitioner, name: str, price_cents: int, **extra):
    return make_workshop(
        practitioner, start=future(days=next(_days)), name=name, price_cents=price_cents, **extra
    )


def _paid(session, when: datetime):
    order = booking.book_workshop_seat(make_user(), session, now=when)
    return booking.confirm_payment(order, reference="cash", now=when)


@pytest.fixture
def money(app, practitioner):
    """Pia's (New York) year: Alpha paid late on 31 January there (1 February in UTC), Beta
    paid and part-refunded in March, an Alpha seat booked to pay later in March, and one
    payment of New Year's Eve in New York (2025 in UTC). Otto is another practitioner."""
    alpha = _workshop(practitioner, "Alpha", 5000)
    beta = _workshop(practitioner, "Beta", 3000)
    later = _workshop(practitioner, "Alpha later", 5000, payment_policy=PaymentPolicy.PAY_LATER)
    _paid(alpha, _at(2025, 2, 1, 3, 30))
    order = _paid(beta, _at(2025, 3, 10, 15))
    booking.refund_order(
        order, 1000, reason="left early", actor=practitioner, manual=True, now=_at(2025, 3, 15)
    )
    booking.book_workshop_seat(make_user(), later, now=_at(2025, 3, 20, 12))
    _paid(alpha, _at(2025, 1, 1, 4))
    otto = make_user(Role.PRACTITIONER, name="Otto", timezone="Europe/Berlin")
    _paid(_workshop(otto, "Gamma", 7000), _at(2025, 3, 10, 15))
    return otto


def _figures(line: booking.RevenueLine) -> tuple[int, int, int, int, int]:
    return (line.gross, line.refunds, line.fees, line.net, line.outstanding)


def test_months_in_the_practitioners_zone_and_services(money, practitioner):
    report = booking.revenue_report(booking.RevenueFilters(YEAR, practitioner.id))

    assert [(month, _figures(line)) for month, line in report.month_lines()] == [
        (1, (5000, 0, 0, 5000, 0)),
        (3, (3000, 1000, 0, 2000, 5000)),
    ]
    assert [(name, _figures(line)) for name, line in report.service_lines()] == [
        ("Alpha", (5000, 0, 0, 5000, 0)),
        ("Alpha later", (0, 0, 0, 0, 5000)),
        ("Beta", (3000, 1000, 0, 2000, 0)),
    ]
    assert [(line.currency, _figures(line)) for line in report.total_lines()] == [
        ("USD", (8000, 1000, 0, 7000, 5000))
    ]
    everyone = booking.revenue_report(booking.RevenueFilters(YEAR))
    assert _figures(everyone.total_lines()[0]) == (15000, 1000, 0, 14000, 5000)
    otto = booking.revenue_report(booking.RevenueFilters(YEAR, money.id))
    assert [name for name, _line in otto.service_lines()] == ["Gamma"]


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_the_report_runs_the_same_statements_whatever_the_payments(app, practitioner, statements):
    alpha = _workshop(practitioner, "Alpha", 5000)
    _paid(alpha, _at(2025, 5, 1, 12))
    statements.clear()
    booking.revenue_report(booking.RevenueFilters(YEAR, practitioner.id))
    few = len(statements)

    for day in range(1, 21):
        _paid(_workshop(practitioner, f"Extra {day}", 1000), _at(2025, 6, day, 12))
    statements.clear()
    report = booking.revenue_report(booking.RevenueFilters(YEAR, practitioner.id))

    # Zones, movements, balances, service names (and the practitioner's row, reloaded).
    assert len(statements) == few <= 5
    assert report.total_lines()[0].gross == 25000


def test_the_practitioner_sees_their_own_and_downloads_the_csv(money, signed_in, practitioner):
    web = signed_in(practitioner)

    page = web.get(f"/orders/revenue?year={YEAR}&practitioner={money.id}").text

    assert "Beta" in page and "Gamma" not in page
    assert "January 2025" in page and "$70.00" in page
    response = web.get(f"/orders/revenue.csv?year={YEAR}")
    assert response.headers["Content-Disposition"] == f'attachment; filename="revenue_{YEAR}.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["by"], r["period_or_service"], r["net"]) for r in rows] == [
        ("month", "2025-01", "50.00"),
        ("month", "2025-03", "20.00"),
        ("service", "Alpha", "50.00"),
        ("service", "Alpha later", "0.00"),
        ("service", "Beta", "20.00"),
        ("total", "2025", "70.00"),
    ]
    assert rows[-1]["outstanding"] == "50.00"


def test_staff_see_everyone_or_pick_a_practitioner(money, signed_in, staff_user, practitioner):
    web = signed_in(make_user(Role.STAFF))

    everyone = web.get(f"/orders/revenue?year={YEAR}").text
    otto = web.get(f"/orders/revenue?year={YEAR}&practitioner={money.id}").text

    assert "Gamma" in everyone and "Beta" in everyone
    assert "Gamma" in otto and "Beta" not in otto


def test_a_bad_year_is_a_field_error(app, signed_in, practitioner):
    response = signed_in(practitioner).get("/orders/revenue?year=99999")

    assert response.status_code == 422
    assert "Fix the filters above" in response.text
    assert signed_in(practitioner).get("/orders/revenue.csv?year=x").status_code == 400
