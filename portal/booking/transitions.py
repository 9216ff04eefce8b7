"""The seed's state machines, applied with atomic conditional UPDATEs.

A transition names the states it may leave; the UPDATE only touches rows still in
one of them, so two requests racing on one row cannot both move it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import update

from ..core.errors import InvalidTransition
from ..database import utcnow
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceSession,
    SessionStatus,
)

BOOKING_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.DRAFT: frozenset(
        {BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED, BookingStatus.CANCELED}
    ),
    BookingStatus.PENDING_PAYMENT: frozenset({BookingStatus.CONFIRMED, BookingStatus.CANCELED}),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.CANCELED}),
    BookingStatus.CANCELED: frozenset(),
}

SESSION_TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.DRAFT: frozenset({SessionStatus.SCHEDULED, SessionStatus.CANCELED}),
    SessionStatus.SCHEDULED: frozenset(
        {SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED, SessionStatus.CANCELED}
    ),
    SessionStatus.IN_PROGRESS: frozenset({SessionStatus.COMPLETED}),
    SessionStatus.COMPLETED: frozenset(),
    SessionStatus.CANCELED: frozenset(),
}

ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELED, OrderStatus.EXPIRED}),
    OrderStatus.EXPIRED: frozenset({OrderStatus.PAID}),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}

_BOOKING_TIMESTAMPS = {
    BookingStatus.PENDING_PAYMENT: "pending_payment_at",
    BookingStatus.CONFIRMED: "confirmed_at",
    BookingStatus.CANCELED: "canceled_at",
}
_ORDER_TIMESTAMPS = {OrderStatus.PAID: "paid_at", OrderStatus.CANCELED: "canceled_at"}

# What the bookings triggers change on a session row when a booking is added or
# moved (migrations 0002 and 0008): the seat count, and the revision and
# modification time the calendar feeds publish as SEQUENCE and LAST-MODIFIED.
SEAT_TRIGGER_COLUMNS = ["current_participants", "revision", "updated_at"]


def sources_of(machine: dict, target) -> list:
    return [state for state, targets in machine.items() if target in targets]


def _apply(
    model, machine, ids: list[int], target, values: dict[str, Any], only_from=None
) -> list[int]:
    if not ids:
        return []
    sources = sources_of(machine, target)
    if only_from is not None:
        sources = [state for state in sources if state in only_from]
    statement = (
        update(model)
        .where(model.id.in_(ids), model.status.in_(sources))
        .values(status=target, **values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    moved = list(db.session.scalars(statement))
    # The ORM objects in this session must not keep showing the old state, and
    # booking moves change the seat counts the triggers keep on sessions.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, model) and obj.id in moved:
            db.session.expire(obj)
        elif model is Booking and isinstance(obj, ServiceSession):
            db.session.expire(obj, SEAT_TRIGGER_COLUMNS)
    return moved


def move_bookings(
    bookings: Iterable[Booking],
    target: BookingStatus,
    *,
    strict: bool = True,
    now: datetime | None = None,
    only_from: Iterable[BookingStatus] | None = None,
    **values: Any,
) -> list[int]:
    """Move every booking to `target` (stamped `now`); with strict, refuse all if any one
    may not move. `only_from` narrows the states a booking may leave (an expired hold
    cancels only what is still unpaid)."""
    bookings = list(bookings)
    column = _BOOKING_TIMESTAMPS.get(target)
    if column:
        values.setdefault(column, now or utcnow())
    moved = _apply(
        Booking,
        BOOKING_TRANSITIONS,
        [b.id for b in bookings],
        target,
        values,
        None if only_from is None else frozenset(only_from),
    )
    if strict and len(moved) != len(bookings):
        stuck = [b for b in bookings if b.id not in moved]
        raise InvalidTransition(
            gettext(
                "Booking %(id)s cannot move from %(current_label)s to %(target_label)s.",
                id=stuck[0].id,
                current_label=stuck[0].status.label,
                target_label=target.label,
            )
        )
    return moved


def move_session(session: ServiceSession, target: SessionStatus, **values: Any) -> None:
    current = session.status
    values.setdefault("revision", ServiceSession.revision + 1)
    moved = _apply(ServiceSession, SESSION_TRANSITIONS, [session.id], target, values)
    if not moved:
        raise InvalidTransition(
            gettext(
                "Session %(id)s cannot move from %(current_label)s to %(target_label)s.",
                id=session.id,
                current_label=current.label,
                target_label=target.label,
            )
        )


def move_orders(order_ids: Iterable[int], target: OrderStatus, **values: Any) -> list[int]:
    """Move each order that may move to `target`; returns the ids moved (no error for the rest:
    whoever held their lock first decided them otherwise)."""
    return _apply(Order, ORDER_TRANSITIONS, list(order_ids), target, values)


def move_order(
    order: Order, target: OrderStatus, *, now: datetime | None = None, **values: Any
) -> None:
    current = order.status
    column = _ORDER_TIMESTAMPS.get(target)
    if column:
        values.setdefault(column, now or utcnow())
    moved = _apply(Order, ORDER_TRANSITIONS, [order.id], target, values)
    if not moved:
        raise InvalidTransition(
            gettext(
                "Order %(id)s cannot move from %(current_label)s to %(target_label)s.",
                id=order.id,
                current_label=current.label,
                target_label=target.label,
            )
        )
