"""A client's place on a workshop's waitlist: joining the line, leaving it, and
accepting the seat offered, with money or with a class pass credit (offers.py makes the
offers, on a floor below)."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from ..core.errors import (
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
    Booking,
    BookingStatus,
    CancelReason,
    ClassPass,
    Order,
    OrderStatus,
    ServiceSession,
    SessionType,
    User,
    WaitlistEntry,
    WaitlistStatus,
    WebhookEventType,
)
from . import events, notices
from .class_passes import check_pass_seat
from .holds import release_for_session
from .locks import lock_order, lock_sessions
from .offers import (
    holds_seat,
    move_entries,
    offer_claimed,
    offer_freed_seats,
    open_entry,
    open_for_booking,
)
from .pass_credits import lock_class_pass, spend_credit
from .payments import confirm_payment
from .seats import second_seat_refusal
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
        raise second_seat_refusal(locked.display_title)
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


def _lock_offer(entry: WaitlistEntry, now: datetime) -> tuple[WaitlistEntry, ServiceSession, Order]:
    """Lock an offer still open to its client: its order, then its session."""
    db.session.refresh(entry)
    if entry.order_id is not None:
        # The order before the session, as a payment takes them: accepting and the
        # offer lapsing then meet on the order's lock without a deadlock.
        lock_order(entry.order_id)
    entry, session = _lock_entry(entry)
    if entry.status == WaitlistStatus.EXPIRED:
        raise HoldExpired(gettext("This offer has lapsed and the seat went to the next in line."))
    if entry.status != WaitlistStatus.OFFERED:
        raise InvalidTransition(
            gettext("This waitlist place is %(status_label)s.", status_label=entry.status.label)
        )
    if entry.offer_expires_at is not None and now >= entry.offer_expires_at:
        raise HoldExpired(gettext("This offer has lapsed; the seat is no longer held for you."))
    assert entry.order is not None  # an offer is made together with its held order
    return entry, session, entry.order


@unit_of_work
def accept_offer(entry: WaitlistEntry, *, now: datetime | None = None) -> Order:
    """Claim an offered seat in a free workshop (a paid one is claimed by paying its order)."""
    now = now or utcnow()
    entry, _session, order = _lock_offer(entry, now)
    if order.total_cents > 0:
        raise InvalidInput(
            gettext("This seat is claimed by paying for it; see the order's payment instructions.")
        )
    return confirm_payment(order, reference="waitlist offer accepted", now=now)


@unit_of_work
def accept_offer_with_pass(
    entry: WaitlistEntry, class_pass: ClassPass, *, now: datetime | None = None
) -> Booking:
    """Claim an offered seat with a class pass credit instead of money. The seat held for the
    offer becomes the pass's seat (moved to the pass's order at no charge, confirmed: it never
    leaves the session's count), one credit pays for it, and the offer's unpaid order is
    canceled. Every rule of a seat taken with a pass holds but the free seat, which the offer
    already holds."""
    now = now or utcnow()
    entry, session, order = _lock_offer(entry, now)
    # The pass last, as every spender takes it (pass_credits).
    held = check_pass_seat(entry.user, lock_class_pass(class_pass.id), session, now)
    seat = next(b for b in order.bookings if b.status == BookingStatus.PENDING_PAYMENT)
    move_bookings(
        [seat],
        BookingStatus.CONFIRMED,
        now=now,
        only_from=[BookingStatus.PENDING_PAYMENT],
        order_id=held.order_id,
        price_charged_cents=0,
    )
    spend_credit(held, seat, now)
    move_order(order, OrderStatus.CANCELED, now=now, cancel_reason=CancelReason.CANCELED)
    offer_claimed(order, now=now, class_pass_id=held.id)
    db.session.refresh(seat)
    notices.credit_scheduled(seat)
    events.booking_event(WebhookEventType.BOOKING_CONFIRMED, seat, session, now)
    log.info(
        "waitlist offer taken with a pass: entry %s, booking %s, pass %s, order %s canceled",
        entry.id,
        seat.id,
        held.id,
        order.id,
    )
    return seat
