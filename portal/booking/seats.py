"""Capacity: locking a session, taking a seat, releasing lapsed holds."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..database import utcnow
from ..extensions import db
from ..models import (
    SEAT_HOLDING,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceSession,
    SessionStatus,
    User,
    Visibility,
)
from .errors import NotBookable, SessionFull
from .transactions import unit_of_work
from .transitions import move_bookings, move_session

HOLD_EXPIRED = "hold_expired"


def lock_sessions(session_ids: list[int]) -> dict[int, ServiceSession]:
    """Row-lock sessions in id order (no deadlocks between two multi-session buyers).

    On SQLite the unit of work already holds the database write lock.
    """
    rows = db.session.scalars(
        select(ServiceSession)
        .where(ServiceSession.id.in_(session_ids))
        .order_by(ServiceSession.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def lock_session_with_service(session_id: int) -> ServiceSession | None:
    """Row-lock one session and load its service in the same statement (the hot
    path of a seat purchase: one round trip instead of a read, then a lock)."""
    return db.session.scalars(
        select(ServiceSession)
        .options(joinedload(ServiceSession.service, innerjoin=True))
        .where(ServiceSession.id == session_id)
        .with_for_update(of=ServiceSession)
        .execution_options(populate_existing=True)
    ).one_or_none()


def lock_practitioner(practitioner_id: int) -> User:
    """Serializes everything that places sessions on one practitioner's calendar."""
    return db.session.scalars(
        select(User)
        .where(User.id == practitioner_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


@unit_of_work
def release_expired_holds(
    *,
    now: datetime | None = None,
    session_id: int | None = None,
    practitioner_id: int | None = None,
) -> int:
    """Free the seats of pending orders whose hold has lapsed; returns bookings released.

    The order stays pending (an offline payment may still arrive: see
    payments.confirm_payment); its bookings are canceled with reason hold_expired.
    """
    now = now or utcnow()
    query = (
        select(Booking)
        .join(Order, Booking.order_id == Order.id)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.hold_expires_at < now,
            Booking.status.in_(SEAT_HOLDING),
        )
    )
    if session_id is not None:
        lapsed_orders = select(Booking.order_id).where(Booking.service_session_id == session_id)
        query = query.where(Booking.order_id.in_(lapsed_orders))
    if practitioner_id is not None:
        lapsed_orders = (
            select(Booking.order_id)
            .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
            .where(ServiceSession.practitioner_id == practitioner_id)
        )
        query = query.where(Booking.order_id.in_(lapsed_orders))
    lapsed = db.session.scalars(query.order_by(Booking.id)).all()
    if not lapsed:
        return 0
    released = move_bookings(
        lapsed, BookingStatus.CANCELED, strict=False, now=now, cancel_reason=HOLD_EXPIRED
    )
    freed = {b.service_session_id for b in lapsed if b.id in released}
    close_empty_private_sessions(freed)
    from . import waitlist

    waitlist.seats_freed(freed, now=now)
    return len(released)


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


def hold_deadline(now: datetime) -> datetime:
    return now + timedelta(minutes=int(current_app.config["PORTAL_HOLD_MINUTES"]))


def ensure_seat_available(session: ServiceSession, now: datetime | None = None) -> None:
    """Checks on a locked session row before a seat is taken in it.

    A second seat for the same person is refused by the unique index
    uq_bookings_active_seat when the booking is inserted (see factory.add_booking),
    not by a query here: the index is the rule, a pre-check would only repeat it.
    """
    if session.status != SessionStatus.SCHEDULED:
        raise NotBookable(
            f"{session.display_title} is {session.status.label}, not open for booking."
        )
    if session.is_full:
        release_expired_holds(now=now, session_id=session.id)
        db.session.refresh(session, ["current_participants"])
    if session.is_full:
        raise SessionFull(f"{session.display_title} is full.")
