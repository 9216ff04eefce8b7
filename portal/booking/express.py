"""The express seat: a workshop seat bought by ids, in Core statements shaped like the
bare-SQL baseline (bench/baseline_app.py), for the busiest request of all.

It takes the common case only: a public, scheduled, upcoming workshop session of an
active service with a seat free. Its statements are the general path's (lock the
session row, insert the order, its outbox rows, the booking, the webhook event if
anyone listens) without the ORM's unit of work, and the same database rules decide:
the capacity CHECK and the seat triggers, the unique index on an active seat. Anything
else (a full session whose lapsed holds must go to the waitlist first, a refusal and
its message) is left to the general path (checkout.py), which says no in one place.

The order, booking, session and service it returns are persistent objects built from
the values it wrote and locked, so the answer is shaped without reading them back.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Row, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ..core.errors import AlreadyBooked
from ..core.transactions import translate_integrity_error
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    PaymentPolicy,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
    WebhookEventType,
    deposit_for,
)
from . import events, notices
from .locks import SEAT_LOCK
from .payment_providers import default_provider_name
from .seats import audit_new_booking, order_terms, second_seat_refusal
from .transitions import SEAT_TRIGGER_COLUMNS

log = logging.getLogger(__name__)

M = TypeVar("M")

_ORDER_INSERT = insert(Order.__table__).returning(Order.__table__.c.id)
_BOOKING_INSERT = insert(Booking.__table__).returning(Booking.__table__.c.id)
_SESSION_COLUMNS: tuple[str, ...] = (
    "id",
    "service_id",
    "practitioner_id",
    "visibility",
    "status",
    "title",
    "sequence_number",
    "start_time",
    "end_time",
    "max_participants",
)


def lock_seat(session_id: int) -> Row[Any] | None:
    """The locked session row with its service's columns (locks.SEAT_LOCK)."""
    result = db.session.connection().execute(SEAT_LOCK, {"session_id": session_id})
    return cast("Row[Any] | None", result.one_or_none())


def takes(row: Row[Any], service_id: int, now: datetime) -> bool:
    """Whether the express path sells this seat; if not, the general path decides."""
    return (
        row.service_id == service_id
        and row.service_type == ServiceType.WORKSHOP
        and row.is_active
        and row.visibility == Visibility.PUBLIC
        and row.status == SessionStatus.SCHEDULED
        and row.start_time is not None
        and row.start_time > now
        and row.current_participants < row.max_participants
    )


def _persistent(model: type[M], values: dict[str, Any]) -> M:
    """The row `values` describe, as a persistent object of this session: the one the
    identity map holds, brought up to date, or a new one. Columns not given load on
    first touch."""
    found = db.session.identity_map.get(identity_key(model, values["id"]))
    if found is None:
        found = model(**values)
        make_transient_to_detached(found)
        db.session.add(found)
        return found
    for name, value in values.items():
        set_committed_value(found, name, value)
    return found


def sell_seat(user: User, row: Row[Any], now: datetime) -> Order:
    """The seat in the session `row` locked (inside the caller's unit of work)."""
    terms = order_terms(
        row.price_cents,
        row.payment_policy,
        deposit_for(row.payment_policy, row.price_cents, row.deposit_cents, row.deposit_percent),
        now,
    )
    order_values = {
        "user_id": user.id,
        "service_id": row.service_id,
        "currency": row.currency,
        "created_at": now,
        "payment_provider": default_provider_name(),
        **terms,
    }
    conn = db.session.connection()
    order_id = conn.execute(_ORDER_INSERT, order_values).scalar_one()
    order = _persistent(Order, {"id": order_id, **order_values})
    notices.order_placed(order, row.primary_practitioner_id)

    service = _persistent(
        Service,
        {
            "id": row.service_id,
            "service_type": row.service_type,
            "is_active": row.is_active,
            "name": row.service_name,
            "price_cents": row.price_cents,
            "currency": row.currency,
            "primary_practitioner_id": row.primary_practitioner_id,
            "payment_policy": row.payment_policy,
            "deposit_cents": row.deposit_cents,
            "deposit_percent": row.deposit_percent,
        },
    )
    session = _persistent(ServiceSession, {name: row._mapping[name] for name in _SESSION_COLUMNS})
    set_committed_value(session, "service", service)
    set_committed_value(session, "webhook_listeners", row.webhook_listeners)
    # Paid (free) or pay-later: confirmed at once; otherwise held until paid.
    confirmed = (
        terms["status"] == OrderStatus.PAID or terms["payment_policy"] == PaymentPolicy.PAY_LATER
    )
    status = BookingStatus.CONFIRMED if confirmed else BookingStatus.PENDING_PAYMENT
    booking_values = {
        "user_id": user.id,
        "service_id": row.service_id,
        "service_session_id": row.id,
        "order_id": order_id,
        "status": status,
        "price_charged_cents": terms["total_cents"],
        "created_at": now,
        "pending_payment_at": None if confirmed else now,
        "confirmed_at": now if confirmed else None,
    }
    try:
        booking_id = conn.execute(_BOOKING_INSERT, booking_values).scalar_one()
    except IntegrityError as exc:
        if isinstance(translate_integrity_error(exc), AlreadyBooked):
            raise second_seat_refusal(session.display_title) from exc
        raise
    booking = _persistent(Booking, {"id": booking_id, **booking_values})
    set_committed_value(booking, "service", service)
    set_committed_value(booking, "service_session", session)
    set_committed_value(booking, "order", order)
    set_committed_value(order, "bookings", [booking])
    # Kept by the seat triggers: loaded afresh on first touch.
    db.session.expire(session, SEAT_TRIGGER_COLUMNS)
    events.booking_event(WebhookEventType.BOOKING_CREATED, booking, session, now)
    audit_new_booking(booking, row.practitioner_id)
    log.info("seat sold: order %s, booking %s, session %s", order_id, booking_id, row.id)
    return order
