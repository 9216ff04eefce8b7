"""A hold expires: an unpaid order's seats go back on sale, and to the waitlist.

Hold release and payment meet on the order's row lock. Release first locks the
orders whose hold expired, and only the ones nobody else holds (SKIP LOCKED): a
payer holding the lock is deciding that order right now, and a release that waited
for it could deadlock (release may run under a session lock, which the payer's booking
triggers need). Under the lock, only a still-pending order's unpaid bookings are
canceled; a paid order's seats are never touched.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select

from .. import audit
from ..core.transactions import if_rolled_back, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    AuditAction,
    Booking,
    BookingStatus,
    CancelReason,
    Order,
    OrderStatus,
    ServiceSession,
    WaitlistEntry,
    WaitlistStatus,
)
from . import notices
from .offers import seats_freed
from .seats import check_not_full, check_open, close_empty_private_sessions
from .transitions import move_bookings, move_orders

log = logging.getLogger(__name__)

# What an unpaid order holds until its deadline: seats awaiting payment, and credits.
UNPAID_HELD = (BookingStatus.PENDING_PAYMENT, BookingStatus.DRAFT)


def _lock_orders_past_hold(
    now: datetime, session_id: int | None, practitioner_id: int | None
) -> list[int]:
    """Lock the pending orders whose hold expired (in id order) that no one else has locked."""
    query = select(Order.id).where(Order.status == OrderStatus.PENDING, Order.hold_expires_at < now)
    if session_id is not None:
        query = query.where(
            Order.id.in_(select(Booking.order_id).where(Booking.service_session_id == session_id))
        )
    if practitioner_id is not None:
        query = query.where(
            Order.id.in_(
                select(Booking.order_id)
                .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
                .where(ServiceSession.practitioner_id == practitioner_id)
            )
        )
    return list(
        db.session.scalars(query.order_by(Order.id).with_for_update(of=Order, skip_locked=True))
    )


@unit_of_work
def release_expired_holds(
    *,
    now: datetime | None = None,
    session_id: int | None = None,
    practitioner_id: int | None = None,
) -> int:
    """Free the seats of pending orders whose hold has expired; returns bookings released.

    Its bookings are canceled with CancelReason.HOLD_EXPIRED and an order left with no
    live booking becomes expired: off the awaiting-payment list, yet an offline payment
    may still arrive (payments.confirm_payment takes the seats again if still free).
    """
    now = now or utcnow()
    order_ids = _lock_orders_past_hold(now, session_id, practitioner_id)
    if not order_ids:
        return 0
    # An unpaid package's or bundle's credits (drafts: they cannot be scheduled before
    # payment) lapse with it, for real, as held seats do.
    expired = db.session.scalars(
        select(Booking)
        .where(Booking.order_id.in_(order_ids), Booking.status.in_(UNPAID_HELD))
        .order_by(Booking.id)
    ).all()
    # Read before the move expires them.
    seen = [(b.id, b.order_id, b.service_session_id, b.user_id) for b in expired]
    credits = {b.service_session_id for b in expired if b.status == BookingStatus.DRAFT}
    released = set(
        move_bookings(
            expired,
            BookingStatus.CANCELED,
            strict=False,
            now=now,
            only_from=list(UNPAID_HELD),
            cancel_reason=CancelReason.HOLD_EXPIRED,
        )
    )
    freed = set()
    # A waitlist offer that ran out is told as such (offers.seats_freed), not as an expired hold.
    offered = set(
        db.session.scalars(
            select(WaitlistEntry.order_id).where(WaitlistEntry.order_id.in_(order_ids))
        )
    )
    told: dict[int, tuple[list[int], int]] = {}
    for booking_id, order_id, session_id_, user_id in seen:
        if booking_id in released:
            freed.add(session_id_)
            if order_id not in offered:
                told.setdefault(order_id, ([], user_id))[0].append(booking_id)
            log.info(
                "hold released: booking %s, order %s, session %s, user %s",
                booking_id,
                order_id,
                session_id_,
                user_id,
            )
    notices.holds_expired(told)
    _audit_released(seen, released, offered)
    if freed:
        close_empty_private_sessions(freed)
        # A credit's draft session has no seat anyone waits for.
        if freed - credits:
            seats_freed(freed - credits, now=now)
    _expire_emptied(order_ids)
    return len(released)


def _audit_released(
    seen: list[tuple[int, int, int, int]], released: set[int], offered: set[int | None]
) -> None:
    """One entry per order whose hold ran out (a lapsed waitlist offer is its own action)."""
    sessions = {session_id for booking_id, _, session_id, _ in seen if booking_id in released}
    practitioners: dict[int, int] = {
        session_id: practitioner_id
        for session_id, practitioner_id in db.session.execute(
            select(ServiceSession.id, ServiceSession.practitioner_id).where(
                ServiceSession.id.in_(sessions)
            )
        )
    }
    by_order: dict[int, tuple[list[int], int, int]] = {}
    for booking_id, order_id, session_id, user_id in seen:
        if booking_id in released:
            entry = by_order.setdefault(order_id, ([], user_id, practitioners[session_id]))
            entry[0].append(booking_id)
    for order_id, (booking_ids, user_id, practitioner_id) in by_order.items():
        audit.record(
            AuditAction.WAITLIST_OFFER_LAPSED if order_id in offered else AuditAction.HOLD_EXPIRED,
            "order",
            order_id,
            practitioner_id=practitioner_id,
            client_id=user_id,
            after={"bookings_released": booking_ids},
        )


def _expire_emptied(order_ids: list[int]) -> None:
    """The locked orders whose hold expired and with no live booking left end as expired."""
    emptied = db.session.scalars(
        select(Order.id).where(
            Order.id.in_(order_ids),
            Order.bookings.any(),
            ~Order.bookings.any(Booking.status != BookingStatus.CANCELED),
        )
    ).all()
    for order_id in move_orders(emptied, OrderStatus.EXPIRED):
        log.info("order expired: order %s, its hold expired unpaid", order_id)


def release_for_session(session: ServiceSession, now: datetime | None = None) -> None:
    """Release a full session's expired holds before deciding on a seat in it.

    The release stands even if the operation is then refused (the session is still
    full, say) and its unit rolls back: it is done again in a unit of its own, so
    the freed seats still reach the waitlist and no caller has to release again.
    """
    session_id = session.id
    if release_expired_holds(now=now, session_id=session_id):
        if_rolled_back(
            ("release_expired_holds", session_id),
            lambda: release_expired_holds(now=now, session_id=session_id),
        )
    db.session.refresh(session, ["current_participants"])


def ensure_seat_available(session: ServiceSession, now: datetime | None = None) -> None:
    """Checks on a locked session row before a seat is taken in it; a full session
    first gets its expired holds back."""
    check_open(session)
    if session.is_full:
        release_for_session(session, now)
    check_not_full(session)


def bookable_seats(sessions: list[ServiceSession], now: datetime) -> dict[int, int]:
    """The seats a buyer can take now, by session id: what every read shows (the shop's
    pages, the API's listings).

    A seat whose hold has expired is free although release_expired_holds has not run yet:
    a read releases nothing (a GET writes nothing), and the purchase releases it before
    counting. Such a seat goes to the waitlist first, so it counts only beyond those
    waiting.
    """
    ids = [s.id for s in sessions]
    lapsed: dict[int, int] = {}
    waiting: dict[int, int] = {}
    if ids:
        lapsed = dict(
            db.session.execute(
                select(Booking.service_session_id, func.count())
                .join(Order, Booking.order_id == Order.id)
                .where(
                    Booking.service_session_id.in_(ids),
                    Booking.status == BookingStatus.PENDING_PAYMENT,
                    Order.status == OrderStatus.PENDING,
                    Order.hold_expires_at < now,
                )
                .group_by(Booking.service_session_id)
            ).all()
        )
        if lapsed:
            waiting = dict(
                db.session.execute(
                    select(WaitlistEntry.service_session_id, func.count())
                    .where(
                        WaitlistEntry.service_session_id.in_(list(lapsed)),
                        WaitlistEntry.status == WaitlistStatus.WAITING,
                    )
                    .group_by(WaitlistEntry.service_session_id)
                ).all()
            )
    return {
        s.id: s.seats_left + max(0, lapsed.get(s.id, 0) - waiting.get(s.id, 0)) for s in sessions
    }
