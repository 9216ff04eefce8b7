"""The revenue report: what each practitioner's services took in, gave back and are
still owed, by month and by service, summed by the database (a handful of statements
whatever the number of payments).

A movement falls in the month it happened in its practitioner's timezone: each zone's
month boundaries are turned into UTC instants here and compared in SQL, so a payment at
23:30 on 31 January in New York counts in January there, not in February (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..models import (
    PAYMENTS_BACK,
    PAYMENTS_IN,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
    Service,
    User,
)

MONTHS = range(1, 13)


@dataclass(frozen=True)
class RevenueFilters:
    year: int
    # None: every practitioner (staff); a practitioner always sees only their own.
    practitioner_id: int | None = None


@dataclass
class RevenueLine:
    """One month's or one service's money in one currency (minor units)."""

    currency: str
    gross: int = 0
    refunds: int = 0
    fees: int = 0
    outstanding: int = 0

    @property
    def net(self) -> int:
        return self.gross + self.fees - self.refunds

    def add(self, kind: PaymentKind, amount: int) -> None:
        if kind in PAYMENTS_IN:
            self.gross += amount
        elif kind in PAYMENTS_BACK:
            self.refunds += amount
        elif kind == PaymentKind.FEE:
            self.fees += amount
        elif kind == PaymentKind.DISPUTE_WON:
            self.refunds -= amount


@dataclass
class RevenueReport:
    year: int
    # (month 1..12, currency) -> line; only months with money in them.
    months: dict[tuple, RevenueLine] = field(default_factory=dict)
    # (service id, currency) -> line, and each service's name.
    services: dict[tuple, RevenueLine] = field(default_factory=dict)
    service_names: dict[int, str] = field(default_factory=dict)
    totals: dict[tuple, RevenueLine] = field(default_factory=dict)

    def lines_of(self, service_id: int, month: int, currency: str) -> list[RevenueLine]:
        """The month's, the service's and the currency's total lines a sum goes into."""
        keyed: tuple[tuple[dict[tuple, RevenueLine], tuple], ...] = (
            (self.months, (month, currency)),
            (self.services, (service_id, currency)),
            (self.totals, (currency,)),
        )
        return [table.setdefault(key, RevenueLine(currency)) for table, key in keyed]

    def first_day(self, month: int) -> date:
        return date(self.year, month, 1)

    def month_lines(self) -> list[tuple[int, RevenueLine]]:
        return [(month, line) for (month, _c), line in sorted(self.months.items())]

    def service_lines(self) -> list[tuple[str, RevenueLine]]:
        return sorted(
            ((self.service_names[sid], line) for (sid, _c), line in self.services.items()),
            key=lambda item: (item[0].lower(), item[1].currency),
        )

    def total_lines(self) -> list[RevenueLine]:
        return [self.totals[key] for key in sorted(self.totals)]


def _month_of(
    moment: InstrumentedAttribute[datetime], zones: list[str], year: int
) -> ColumnElement:
    """The month (1..12) of `year` a stored UTC instant falls in, read in the timezone of
    the practitioner joined as User; NULL outside the year."""
    whens = []
    for zone_key in zones:
        zone = ZoneInfo(zone_key)
        starts = [
            datetime(year + (m == 13), 1 if m == 13 else m, 1, tzinfo=zone).astimezone(UTC)
            for m in range(1, 14)
        ]
        for month in MONTHS:
            whens.append(
                (
                    and_(
                        User.timezone == zone_key,
                        moment >= starts[month - 1],
                        moment < starts[month],
                    ),
                    month,
                )
            )
    return case(*whens, else_=None)


def _year_bounds(zones: list[str], year: int) -> tuple[datetime, datetime]:
    """The earliest start and latest end of `year` in any of the zones, in UTC."""
    starts = [datetime(year, 1, 1, tzinfo=ZoneInfo(z)).astimezone(UTC) for z in zones]
    ends = [datetime(year + 1, 1, 1, tzinfo=ZoneInfo(z)).astimezone(UTC) for z in zones]
    return min(starts), max(ends)


def revenue_report(filters: RevenueFilters) -> RevenueReport:
    report = RevenueReport(filters.year)
    scope = [User.id == Service.primary_practitioner_id]
    if filters.practitioner_id is not None:
        scope.append(Service.primary_practitioner_id == filters.practitioner_id)
    zones = list(
        db.session.scalars(
            select(User.timezone).join(Service, and_(*scope)).distinct().order_by(User.timezone)
        )
    )
    if not zones:
        return report
    first, last = _year_bounds(zones, filters.year)

    month = _month_of(Payment.created_at, zones, filters.year).label("month")
    moved = db.session.execute(
        select(Service.id, month, Payment.currency, Payment.kind, func.sum(Payment.amount_cents))
        .select_from(Payment)
        .join(Order, Order.id == Payment.order_id)
        .join(Service, Service.id == Order.service_id)
        .join(User, and_(*scope))
        .where(Payment.created_at >= first, Payment.created_at < last)
        .group_by(Service.id, month, Payment.currency, Payment.kind)
    ).all()
    for service_id, month_number, currency, kind, amount in moved:
        if month_number is None:
            continue
        for line in report.lines_of(service_id, month_number, currency):
            line.add(kind, amount)

    # Still owed on the orders placed in the year (an open order's total less what came in).
    paid = (
        select(Payment.order_id, func.sum(Payment.amount_cents).label("paid"))
        .where(Payment.kind.in_(PAYMENTS_IN))
        .group_by(Payment.order_id)
        .subquery()
    )
    owed = Order.total_cents - func.coalesce(paid.c.paid, 0)
    placed = _month_of(Order.created_at, zones, filters.year).label("month")
    outstanding = db.session.execute(
        select(Service.id, placed, Order.currency, func.sum(owed))
        .select_from(Order)
        .outerjoin(paid, paid.c.order_id == Order.id)
        .join(Service, Service.id == Order.service_id)
        .join(User, and_(*scope))
        .where(
            Order.status.in_((OrderStatus.PENDING, OrderStatus.PAID)),
            owed > 0,
            Order.created_at >= first,
            Order.created_at < last,
        )
        .group_by(Service.id, placed, Order.currency)
    ).all()
    for service_id, month_number, currency, amount in outstanding:
        if month_number is None:
            continue
        for line in report.lines_of(service_id, month_number, currency):
            line.outstanding += amount

    service_ids = {sid for sid, _currency in report.services}
    if service_ids:
        report.service_names = dict(
            db.session.execute(
                select(Service.id, Service.name).where(Service.id.in_(service_ids))
            ).all()
        )
    return report
