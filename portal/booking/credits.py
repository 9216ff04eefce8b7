"""A client's package and bundle credits still to schedule: what remains of each purchase."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Booking, BookingStatus, Order, Service, ServiceSession, User
from .factory import credit_expires_at


@dataclass
class CreditKind:
    """The credits of one service in a group: how many are left and the one to schedule next."""

    service: Service
    count: int
    next_credit: Booking


@dataclass
class CreditGroup:
    """One purchased package or bundle and its credits still to schedule."""

    order: Order
    credits: list[Booking]
    total: int
    expires_at: datetime | None
    expired: bool
    # One line per service: a 10-class pass is one pass with a count, not ten buttons.
    kinds: list[CreditKind] = field(default_factory=list)


# A credit as its pages show it: its service, its draft session's practitioner, its order's
# package and what the package contains.
CREDIT_LOADS = (
    selectinload(Booking.service),
    selectinload(Booking.service_session).selectinload(ServiceSession.practitioner),
    selectinload(Booking.order).selectinload(Order.service).selectinload(Service.components),
)


def credit_groups(user: User, now: datetime) -> list[CreditGroup]:
    """The client's unscheduled credits, one group per order, in order of purchase."""
    drafts = db.session.scalars(
        select(Booking)
        .where(Booking.user_id == user.id, Booking.status == BookingStatus.DRAFT)
        .options(*CREDIT_LOADS)
        .order_by(Booking.order_id, Booking.id)
    ).all()
    by_order: dict[int, list[Booking]] = {}
    for credit in drafts:
        by_order.setdefault(credit.order_id, []).append(credit)
    groups = []
    for credits in by_order.values():
        order = credits[0].order
        expires = credit_expires_at(order)
        kinds: dict[int, CreditKind] = {}
        for credit in credits:
            kind = kinds.setdefault(credit.service_id, CreditKind(credit.service, 0, credit))
            kind.count += 1
        groups.append(
            CreditGroup(
                order=order,
                credits=credits,
                total=sum(c.quantity for c in order.service.components),
                expires_at=expires,
                expired=expires is not None and now >= expires,
                kinds=sorted(kinds.values(), key=lambda k: k.service.name),
            )
        )
    return groups
