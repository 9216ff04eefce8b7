"""A client's place on a workshop's waitlist: joining the line, leaving it, and
accepting the seat offered (offers.py makes the offers, one floor down)."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from ..core.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    HoldExpired,
    InvalidInput,
    InvalidTransition,
    NotBookable,
)
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    SEAT_HOLDING,
    BookingStatus,
    CancelReason,
    Order,
    OrderStatus,
    ServiceSession,
    SessionType,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from .holds import release_for_session
from .locks import lock_order, lock_sessions
from .offers import (
    holds_seat,
    move_entries,
    offer_freed_seats,
    open_entry,
    open_for_booking,
)
from .payments import confirm_payment
from .transitions import move_bookings, move_order

log = logging.getLogger(__name__)


@unit_of_work
def join_waitlist(
    user: User, session: ServiceSession, *, now: datetime | None = None
) -> WaitlistEntry:
    """Put the client in line for a seat in a full workshop."""
    now = now or utcnow()
    locked = lock_sessions([session.id])[session.id]
    if locked.session_type != SessionType.WORKSHOP:
        raise NotBookable(gettext("Only workshops keep a waitlist."))
    if not open_for_booking(locked, now):
        raise NotBookable(
            gettext(
                "%(display_title)s is not open for booking.", display_title=locked.display_title
            )
        )
    if locked.is_full:
        release_for_session(locked, now)
    if not locked.is_full:
        raise NotBookable(
            gettext(
                "%(display_title)s has seats left: book one directly.",
                display_title=locked.display_title,
            )
        )
    if holds_seat(user.id, locked.id):
        raise AlreadyBooked(
            gettext(
                "You already hold a seat in %(display_title)s.", display_title=locked.display_title
            )
        )
    if open_entry(user.id, locked.id) is not None:
        raise AlreadyWaiting(
            gettext(
                "You are already on the waitlist for %(display_title)s.",
                display_title=locked.display_title,
            )
        )
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
        move_entries([entry], WaitlistStatus.CANCELED, [WaitlistStatus.WAITING], closed_at=now)
        return
    if entry.status != WaitlistStatus.OFFERED:
        raise InvalidTransition(
            gettext("This waitlist place is %(status_label)s.", status_label=entry.status.label)
        )
    order = entry.order
    assert order is not None  # an offer is made together with its held order
    seats = [b for b in order.bookings if b.status in SEAT_HOLDING]
    move_bookings(
        seats,
        BookingStatus.CANCELED,
        now=now,
        cancel_reason=CancelReason.WAITLIST_DECLINED,
        canceled_by_id=entry.user_id,
    )
    if order.status == OrderStatus.PENDING:
        move_order(
            order, OrderStatus.CANCELED, now=now, cancel_reason=CancelReason.WAITLIST_DECLINED
        )
    move_entries([entry], WaitlistStatus.DECLINED, [WaitlistStatus.OFFERED], closed_at=now)
    log.info(
        "waitlist offer declined: entry %s, user %s, session %s, order %s",
        entry.id,
        entry.user_id,
        session.id,
        order.id,
    )
    offer_freed_seats(session, now=now)


@unit_of_work
def accept_offer(entry: WaitlistEntry, *, now: datetime | None = None) -> Order:
    """Claim an offered seat in a free workshop (a paid one is claimed by paying its order)."""
    now = now or utcnow()
    db.session.refresh(entry)
    if entry.order_id is not None:
        # The order before the session, as a payment takes them: accepting and the
        # offer lapsing then meet on the order's lock without a deadlock.
        lock_order(entry.order_id)
    entry, _session = _lock_entry(entry)
    if entry.status == WaitlistStatus.EXPIRED:
        raise HoldExpired(gettext("This offer has lapsed and the seat went to the next in line."))
    if entry.status != WaitlistStatus.OFFERED:
        raise InvalidTransition(
            gettext("This waitlist place is %(status_label)s.", status_label=entry.status.label)
        )
    if entry.offer_expires_at is not None and now >= entry.offer_expires_at:
        raise HoldExpired(gettext("This offer has lapsed; the seat is no longer held for you."))
    order = entry.order
    assert order is not None  # an offer is made together with its held order
    if order.total_cents > 0:
        raise InvalidInput(
            gettext("This seat is claimed by paying for it; see the order's payment instructions.")
        )
    return confirm_payment(order, reference="waitlist offer accepted", now=now)
