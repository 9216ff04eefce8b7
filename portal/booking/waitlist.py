"""Waitlists for full workshops.

When a seat frees up, the first client in line is offered it: the offer is a
real pending order with a pending_payment booking (so the capacity triggers
count the held seat), whose hold lapses at the offer's expiry. Offers are made
inside the unit of work that freed the seat, under the session's row lock, so a
freed seat is never given twice. Claiming an offer is paying for its order (or,
for a free workshop, accepting it); an unclaimed offer lapses through
release_expired_holds, and the seat passes to the next in line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..database import utcnow
from ..extensions import db
from ..models import (
    SEAT_HOLDING,
    WAITLIST_OPEN,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceSession,
    SessionStatus,
    SessionType,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from .errors import (
    AlreadyBooked,
    AlreadyWaiting,
    HoldExpired,
    InvalidInput,
    InvalidTransition,
    NotBookable,
)
from .payment_providers import default_provider_name
from .seats import HOLD_EXPIRED, lock_sessions, release_expired_holds
from .transactions import unit_of_work
from .transitions import move_bookings, move_order

DECLINED = "waitlist offer declined"


def _move_entries(
    entries: Iterable[WaitlistEntry],
    target: WaitlistStatus,
    sources: Iterable[WaitlistStatus],
    **values,
) -> list[int]:
    """Conditional UPDATE, like transitions.py: only rows still in a source state move."""
    ids = [entry.id for entry in entries]
    if not ids:
        return []
    moved = list(
        db.session.scalars(
            update(WaitlistEntry)
            .where(WaitlistEntry.id.in_(ids), WaitlistEntry.status.in_(tuple(sources)))
            .values(status=target, **values)
            .returning(WaitlistEntry.id)
            .execution_options(synchronize_session=False)
        )
    )
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, WaitlistEntry) and obj.id in moved:
            db.session.expire(obj)
    return moved


def _holds_seat(user_id: int, session_id: int) -> bool:
    return (
        db.session.scalar(
            select(Booking.id).where(
                Booking.user_id == user_id,
                Booking.service_session_id == session_id,
                Booking.status.in_(SEAT_HOLDING),
            )
        )
        is not None
    )


def _open_entry(user_id: int, session_id: int) -> WaitlistEntry | None:
    return db.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.user_id == user_id,
            WaitlistEntry.service_session_id == session_id,
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
    )


def offer_deadline(session: ServiceSession, now: datetime) -> datetime:
    minutes = int(current_app.config["PORTAL_WAITLIST_OFFER_MINUTES"])
    return min(now + timedelta(minutes=minutes), session.start_time)


def _open_for_booking(session: ServiceSession, now: datetime) -> bool:
    return (
        session.status == SessionStatus.SCHEDULED
        and session.start_time is not None
        and session.start_time > now
        and session.service.is_active
    )


@unit_of_work
def join_waitlist(
    user: User, session: ServiceSession, *, now: datetime | None = None
) -> WaitlistEntry:
    """Put the client in line for a seat in a full workshop."""
    now = now or utcnow()
    locked = lock_sessions([session.id])[session.id]
    if locked.session_type != SessionType.WORKSHOP:
        raise NotBookable("Only workshops keep a waitlist.")
    if not _open_for_booking(locked, now):
        raise NotBookable(f"{locked.display_title} is not open for booking.")
    if locked.is_full:
        release_expired_holds(now=now, session_id=locked.id)
        db.session.refresh(locked, ["current_participants"])
    if not locked.is_full:
        raise NotBookable(f"{locked.display_title} has seats left: book one directly.")
    if _holds_seat(user.id, locked.id):
        raise AlreadyBooked(f"You already hold a seat in {locked.display_title}.")
    if _open_entry(user.id, locked.id) is not None:
        raise AlreadyWaiting(f"You are already on the waitlist for {locked.display_title}.")
    entry = WaitlistEntry(
        user_id=user.id,
        service_session_id=locked.id,
        status=WaitlistStatus.WAITING,
        created_at=now,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _lock_entry(entry: WaitlistEntry) -> tuple[WaitlistEntry, ServiceSession]:
    session = lock_sessions([entry.service_session_id])[entry.service_session_id]
    db.session.refresh(entry)
    return entry, session


@unit_of_work
def leave_waitlist(entry: WaitlistEntry, *, now: datetime | None = None) -> None:
    """Step out of line; leaving with an offer in hand declines it and passes the seat on."""
    now = now or utcnow()
    entry, session = _lock_entry(entry)
    if entry.status == WaitlistStatus.WAITING:
        _move_entries([entry], WaitlistStatus.CANCELED, [WaitlistStatus.WAITING], closed_at=now)
        return
    if entry.status != WaitlistStatus.OFFERED:
        raise InvalidTransition(f"This waitlist place is {entry.status.label}.")
    order = entry.order
    seats = [b for b in order.bookings if b.status in SEAT_HOLDING]
    move_bookings(
        seats,
        BookingStatus.CANCELED,
        now=now,
        cancel_reason=DECLINED,
        canceled_by_id=entry.user_id,
    )
    if order.status == OrderStatus.PENDING:
        move_order(order, OrderStatus.CANCELED, now=now, cancel_reason=DECLINED)
    _move_entries([entry], WaitlistStatus.DECLINED, [WaitlistStatus.OFFERED], closed_at=now)
    offer_freed_seats(session, now=now)


@unit_of_work
def accept_offer(entry: WaitlistEntry, *, now: datetime | None = None) -> Order:
    """Claim an offered seat in a free workshop (a paid one is claimed by paying its order)."""
    from .payments import confirm_payment

    now = now or utcnow()
    entry, _session = _lock_entry(entry)
    if entry.status == WaitlistStatus.EXPIRED:
        raise HoldExpired("This offer has lapsed and the seat went to the next in line.")
    if entry.status != WaitlistStatus.OFFERED:
        raise InvalidTransition(f"This waitlist place is {entry.status.label}.")
    if entry.offer_expires_at is not None and now >= entry.offer_expires_at:
        raise HoldExpired("This offer has lapsed; the seat is no longer held for you.")
    order = entry.order
    if order.total_cents > 0:
        raise InvalidInput(
            "This seat is claimed by paying for it; see the order's payment instructions."
        )
    return confirm_payment(order, reference="waitlist offer accepted", now=now)


def offer_freed_seats(session: ServiceSession, *, now: datetime) -> list[WaitlistEntry]:
    """Offer the session's free seats to the clients waiting longest. Call with it locked."""
    if not _open_for_booking(session, now):
        return []
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.service_session_id == session.id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    offered: list[WaitlistEntry] = []
    for entry in waiting:
        if session.seats_left <= 0:
            break
        if _holds_seat(entry.user_id, session.id):
            _move_entries([entry], WaitlistStatus.CANCELED, [WaitlistStatus.WAITING], closed_at=now)
            continue
        offered.append(_offer(entry, session, now))
    return offered


def _offer(entry: WaitlistEntry, session: ServiceSession, now: datetime) -> WaitlistEntry:
    from .factory import book_workshop_seat

    service = session.service
    expires = offer_deadline(session, now)
    order = Order(
        user_id=entry.user_id,
        service_id=service.id,
        total_cents=service.price_cents,
        currency=service.currency,
        status=OrderStatus.PENDING,
        hold_expires_at=expires,
        created_at=now,
        payment_provider=default_provider_name(),
    )
    db.session.add(order)
    db.session.flush()
    book_workshop_seat(entry.user, session, now=now, order=order)
    _move_entries(
        [entry],
        WaitlistStatus.OFFERED,
        [WaitlistStatus.WAITING],
        order_id=order.id,
        offered_at=now,
        offer_expires_at=expires,
    )
    return entry


def seats_freed(session_ids: Iterable[int], *, now: datetime) -> None:
    """Hook for every path that frees seats: close dead offers, then offer the free seats."""
    session_ids = set(session_ids)
    if not session_ids:
        return
    open_entries = db.session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.service_session_id.in_(session_ids),
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
        .options(selectinload(WaitlistEntry.order).selectinload(Order.bookings))
    ).all()
    if not open_entries:
        return
    for entry in open_entries:
        if entry.status != WaitlistStatus.OFFERED:
            continue
        bookings = entry.order.bookings
        if any(b.status in SEAT_HOLDING for b in bookings):
            continue
        lapsed = any(b.cancel_reason == HOLD_EXPIRED for b in bookings)
        target = WaitlistStatus.EXPIRED if lapsed else WaitlistStatus.DECLINED
        _move_entries([entry], target, [WaitlistStatus.OFFERED], closed_at=now)
    waiting_sessions = sorted(
        {e.service_session_id for e in open_entries if e.status == WaitlistStatus.WAITING}
    )
    if not waiting_sessions:
        return
    for session in lock_sessions(waiting_sessions).values():
        offer_freed_seats(session, now=now)


def order_paid(order: Order, *, now: datetime) -> None:
    """Hook for confirm_payment: paying an offer's order claims the seat."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.order_id == order.id,
            WaitlistEntry.status.in_((WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED)),
        )
    ).all()
    _move_entries(
        entries,
        WaitlistStatus.CLAIMED,
        [WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED],
        closed_at=now,
    )


def session_closed(session: ServiceSession, *, now: datetime) -> None:
    """Hook for cancel_session: nobody waits for a session that will not happen."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.service_session_id == session.id,
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
    ).all()
    _move_entries(entries, WaitlistStatus.CANCELED, WAITLIST_OPEN, closed_at=now)
