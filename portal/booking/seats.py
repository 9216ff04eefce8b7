"""Taking a seat: the primitives every way of booking is built from.

Opening an order, adding a booking to it (a seat is taken when a seat-holding
booking is inserted: the database triggers count it), adding an unscheduled
credit, and the checks on a locked session before a seat is taken. Nothing here
releases holds or offers seats: that is holds.py and offers.py, one floor up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app
from flask_babel import gettext
from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit
from ..core.errors import AlreadyBooked, NotBookable, SessionFull
from ..core.transactions import translate_integrity_error
from ..database import loaded_by_insert
from ..extensions import db
from ..models import (
    AuditAction,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    PaymentPolicy,
    Service,
    ServiceSession,
    SessionStatus,
    SessionType,
    User,
    Visibility,
    WebhookEventType,
)
from . import events, notices
from .payment_providers import default_provider_name
from .transitions import SEAT_TRIGGER_COLUMNS, move_session

M = TypeVar("M")


def second_seat_refusal(display_title: str) -> AlreadyBooked:
    """The one wording of "you already hold a seat here", wherever a second seat is refused."""
    return AlreadyBooked(
        gettext("You already hold a seat in %(display_title)s.", display_title=display_title)
    )


def hold_deadline(now: datetime) -> datetime:
    return now + timedelta(minutes=int(current_app.config["PORTAL_HOLD_MINUTES"]))


def _inserted(model: type[M], **values) -> M:
    """One row, inserted at once and returned as a loaded object.

    An INSERT ... RETURNING is a fraction of the Python work of a unit-of-work
    flush, on the path every purchase takes while holding the seat lock.
    """
    row = db.session.scalars(insert(model).returning(model), [values]).one()
    loaded_by_insert(db.session(), row)
    return row


def order_terms(
    price_cents: int,
    policy: PaymentPolicy,
    deposit_cents: int | None,
    now: datetime,
) -> dict:
    """A new order's money columns on its service's payment policy: a free one is paid at
    once; a pay-later one is held by nothing and never lapses; the others hold their seats
    until the hold's deadline. Shared with the express path (express.sell_seat)."""
    free = price_cents == 0 or policy == PaymentPolicy.FREE
    held = not free and policy != PaymentPolicy.PAY_LATER
    return {
        "total_cents": 0 if free else price_cents,
        "deposit_cents": None if free else deposit_cents,
        "payment_policy": PaymentPolicy.FREE if free else policy,
        "status": OrderStatus.PAID if free else OrderStatus.PENDING,
        "hold_expires_at": hold_deadline(now) if held else None,
        "paid_at": now if free else None,
    }


def open_order(user: User, service: Service, now: datetime, order: Order | None = None) -> Order:
    """A new order for the service's price, on its payment policy (read from the loaded
    row: no query)."""
    if order is not None:
        return order
    order = _inserted(
        Order,
        user_id=user.id,
        service_id=service.id,
        currency=service.currency,
        created_at=now,
        payment_provider=default_provider_name(),
        **order_terms(service.price_cents, service.payment_policy, service.deposit_amount, now),
    )
    # A new order has no bookings yet: saying so spares a query when they are listed.
    set_committed_value(order, "bookings", [])
    notices.order_placed(order.id, order.user_id, order.status, service.primary_practitioner_id)
    return order


def seat_status(order: Order) -> BookingStatus:
    return (
        BookingStatus.CONFIRMED
        if order.status == OrderStatus.PAID or order.confirmed_unpaid
        else BookingStatus.PENDING_PAYMENT
    )


def add_booking(
    user: User,
    service: Service,
    session: ServiceSession,
    order: Order,
    status: BookingStatus,
    price_cents: int,
    now: datetime,
) -> Booking:
    """Insert one booking. A second seat for the same person is refused by the
    unique index uq_bookings_active_seat, not by a query: the index is the rule."""
    # Worded before the insert: a failed statement leaves nothing safe to read.
    second_seat = second_seat_refusal(session.display_title)
    try:
        booking = _inserted(
            Booking,
            user_id=user.id,
            service_id=service.id,
            service_session_id=session.id,
            order_id=order.id,
            status=status,
            price_charged_cents=price_cents,
            created_at=now,
            pending_payment_at=now if status == BookingStatus.PENDING_PAYMENT else None,
            confirmed_at=now if status == BookingStatus.CONFIRMED else None,
        )
    except IntegrityError as exc:
        if isinstance(translate_integrity_error(exc), AlreadyBooked):
            raise second_seat from exc
        raise
    # The booking holds its service, session and order (the identity map alone
    # holds them weakly), and an order whose bookings are loaded lists it: all as
    # committed state, since the row is already written.
    set_committed_value(booking, "service", service)
    set_committed_value(booking, "service_session", session)
    set_committed_value(booking, "order", order)
    if "bookings" not in inspect(order).unloaded:
        set_committed_value(order, "bookings", [*order.bookings, booking])
    # The seat counter and the feed revision are kept by a database trigger; reload
    # them on next access.
    db.session.expire(session, SEAT_TRIGGER_COLUMNS)
    # A credit is not an appointment yet: it becomes one when scheduled (schedule_credit).
    if status != BookingStatus.DRAFT:
        events.booking_event(WebhookEventType.BOOKING_CREATED, booking, session, now)
    audit.queue(
        new_booking_entry(
            booking_id=booking.id,
            client_id=booking.user_id,
            status=booking.status,
            session_id=booking.service_session_id,
            order_id=booking.order_id,
            price_charged_cents=booking.price_charged_cents,
            practitioner_id=session.practitioner_id,
        )
    )
    return booking


def new_booking_entry(
    *,
    booking_id: int,
    client_id: int,
    status: BookingStatus,
    session_id: int,
    order_id: int | None,
    price_charged_cents: int,
    practitioner_id: int,
) -> dict:
    """The audit entry of a booking just inserted, by whichever path (values: the express
    path holds no objects)."""
    return audit.entry(
        AuditAction.BOOKING_CREATED,
        "booking",
        booking_id,
        practitioner_id=practitioner_id,
        client_id=client_id,
        after={
            "status": status,
            "session_id": session_id,
            "order_id": order_id,
            "price_charged_cents": price_charged_cents,
        },
    )


def add_credit(
    user: User, service: Service, order: Order, session_type: SessionType, now: datetime
) -> Booking:
    """One unscheduled credit: a draft session with no time and a draft booking in it."""
    session = ServiceSession(
        service_id=service.id,
        practitioner_id=service.primary_practitioner_id,
        session_type=session_type,
        visibility=Visibility.PRIVATE,
        timezone=service.primary_practitioner.timezone,
        max_participants=1,
        status=SessionStatus.DRAFT,
    )
    db.session.add(session)
    db.session.flush()
    return add_booking(user, service, session, order, BookingStatus.DRAFT, 0, now)


def check_open(session: ServiceSession) -> None:
    """A seat is taken only in a scheduled session."""
    if session.status != SessionStatus.SCHEDULED:
        raise NotBookable(
            gettext(
                "%(display_title)s is %(status_label)s, not open for booking.",
                display_title=session.display_title,
                status_label=session.status.label,
            )
        )


def check_not_full(session: ServiceSession) -> None:
    if session.is_full:
        raise SessionFull(
            gettext("%(display_title)s is full.", display_title=session.display_title)
        )


def close_empty_private_sessions(session_ids: set[int]) -> None:
    """Cancel private (1-on-1 or credit) sessions left with no seat taken, freeing the time."""
    if not session_ids:
        return
    sessions = db.session.scalars(
        select(ServiceSession)
        .where(
            ServiceSession.id.in_(session_ids),
            ServiceSession.visibility == Visibility.PRIVATE,
            ServiceSession.status.in_((SessionStatus.DRAFT, SessionStatus.SCHEDULED)),
        )
        .execution_options(populate_existing=True)
    ).all()
    for session in sessions:
        if session.current_participants == 0:
            move_session(session, SessionStatus.CANCELED)
