"""Offering freed seats to a workshop's waitlist.

When a seat frees up, the first client in line is offered it: the offer is a
real pending order with a pending_payment booking (so the capacity triggers
count the held seat), whose hold expires at the offer's expiry. Offers are made
inside the unit of work that freed the seat, under the session's row lock, so a
freed seat is never given twice. The seat is taken with the seat primitives
(seats.add_booking), never by booking through the factory: an offer cannot
recurse into releasing holds. Claiming an offer is paying for its order (or, for
a free workshop, accepting it: waitlist.accept_offer; or spending a class pass credit on it:
waitlist.accept_offer_with_pass); an unclaimed offer lapses
through holds.release_expired_holds, and the seat passes to the next in line.
The client's own steps (join, leave, accept) are in waitlist.py, above.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import db
from ..models import (
    SEAT_HOLDING,
    WAITLIST_OPEN,
    AuditAction,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    ServiceSession,
    SessionStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from . import notices
from .locks import lock_sessions
from .payment_providers import default_provider_name
from .seats import add_booking

log = logging.getLogger(__name__)


def move_entries(
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


def holds_seat(user_id: int, session_id: int) -> bool:
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


def open_entry(user_id: int, session_id: int) -> WaitlistEntry | None:
    return db.session.scalar(
        select(WaitlistEntry).where(
            WaitlistEntry.user_id == user_id,
            WaitlistEntry.service_session_id == session_id,
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
    )


def offer_deadline(session: ServiceSession, now: datetime) -> datetime:
    minutes = int(current_app.config["PORTAL_WAITLIST_OFFER_MINUTES"])
    # Only a scheduled session has a waitlist, and it has times (CHECK scheduled_has_time).
    assert session.start_time is not None
    return min(now + timedelta(minutes=minutes), session.start_time)


def open_for_booking(session: ServiceSession, now: datetime) -> bool:
    return (
        session.status == SessionStatus.SCHEDULED
        and session.start_time is not None
        and session.start_time > now
        and session.service.is_active
    )


def offer_freed_seats(session: ServiceSession, *, now: datetime) -> list[WaitlistEntry]:
    """Offer the session's free seats to the clients waiting longest. Call with it locked.
    A client whose address is not confirmed keeps their place but is passed over: an
    offer lapses unseen if its email goes to an address nobody reads."""
    if not open_for_booking(session, now):
        return []
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .join(User, User.id == WaitlistEntry.user_id)
        .where(
            WaitlistEntry.service_session_id == session.id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            User.email_verified_at.is_not(None),
        )
        .options(selectinload(WaitlistEntry.user))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    offered: list[WaitlistEntry] = []
    for entry in waiting:
        if session.seats_left <= 0:
            break
        if holds_seat(entry.user_id, session.id):
            move_entries([entry], WaitlistStatus.CANCELED, [WaitlistStatus.WAITING], closed_at=now)
            continue
        offered.append(_offer(entry, session, now))
    return offered


def _offer(entry: WaitlistEntry, session: ServiceSession, now: datetime) -> WaitlistEntry:
    """Hold a seat for the entry's client: the caller checked a seat is free."""
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
    add_booking(
        entry.user, service, session, order, BookingStatus.PENDING_PAYMENT, service.price_cents, now
    )
    entry_id, user_id = entry.id, entry.user_id
    move_entries(
        [entry],
        WaitlistStatus.OFFERED,
        [WaitlistStatus.WAITING],
        order_id=order.id,
        offered_at=now,
        offer_expires_at=expires,
    )
    log.info(
        "waitlist offer made: entry %s, user %s, session %s, order %s, until %s",
        entry_id,
        user_id,
        session.id,
        order.id,
        expires.isoformat(),
    )
    notices.offer_made(entry_id, user_id)
    audit.record(
        AuditAction.WAITLIST_OFFER_MADE,
        "waitlist_entry",
        entry_id,
        practitioner_id=session.practitioner_id,
        client_id=user_id,
        after={"order_id": order.id, "session_id": session.id, "offer_expires_at": expires},
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
        assert entry.order is not None  # an offer is made together with its held order
        bookings = entry.order.bookings
        if any(b.status in SEAT_HOLDING for b in bookings):
            continue
        expired = any(b.hold_expired for b in bookings)
        target = WaitlistStatus.EXPIRED if expired else WaitlistStatus.DECLINED
        entry_id, user_id = entry.id, entry.user_id
        if move_entries([entry], target, [WaitlistStatus.OFFERED], closed_at=now) and expired:
            notices.offer_lapsed(entry_id, user_id)
    waiting_sessions = sorted(
        {e.service_session_id for e in open_entries if e.status == WaitlistStatus.WAITING}
    )
    if not waiting_sessions:
        return
    for session in lock_sessions(waiting_sessions).values():
        offer_freed_seats(session, now=now)


def offer_claimed(order: Order, *, now: datetime, class_pass_id: int | None = None) -> None:
    """Hook for confirm_payment, and for a seat taken with a class pass instead (its id is
    audited): settling an offer's order claims the seat."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.order_id == order.id,
            WaitlistEntry.status.in_((WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED)),
        )
    ).all()
    seen = [(entry.id, entry.user_id) for entry in entries]
    claimed = move_entries(
        entries,
        WaitlistStatus.CLAIMED,
        [WaitlistStatus.OFFERED, WaitlistStatus.EXPIRED],
        closed_at=now,
    )
    for entry_id, user_id in seen:
        if entry_id in claimed:
            notices.offer_taken(entry_id, user_id, order.service.primary_practitioner_id)
            audit.record(
                AuditAction.WAITLIST_OFFER_ACCEPTED,
                "waitlist_entry",
                entry_id,
                practitioner_id=order.service.primary_practitioner_id,
                client_id=user_id,
                after={"order_id": order.id}
                if class_pass_id is None
                else {"order_id": order.id, "class_pass_id": class_pass_id},
            )


def session_closed(session: ServiceSession, *, now: datetime) -> None:
    """Hook for cancel_session: nobody waits for a session that will not happen."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.service_session_id == session.id,
            WaitlistEntry.status.in_(WAITLIST_OPEN),
        )
    ).all()
    move_entries(entries, WaitlistStatus.CANCELED, WAITLIST_OPEN, closed_at=now)
