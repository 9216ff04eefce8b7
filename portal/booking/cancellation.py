"""Canceling bookings and sessions, with the service's cut-off and credit return."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext

from .. import audit
from ..core.errors import CancellationWindowClosed, InvalidTransition
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    CREDIT_SESSION_TYPES,
    SEAT_HOLDING,
    AuditAction,
    Booking,
    BookingStatus,
    CancelReason,
    FeeKind,
    Order,
    OrderStatus,
    ServiceSession,
    SessionStatus,
    User,
    WebhookEventType,
)
from . import events, notices
from .fees import owe_fee
from .ledger import owe_refund
from .locks import lock_sessions
from .offers import seats_freed, session_closed
from .pass_credits import return_credit
from .seats import add_credit, close_empty_private_sessions
from .transitions import move_bookings, move_order, move_session

log = logging.getLogger(__name__)


def cutoff_passed(booking: Booking, now: datetime) -> bool:
    start = booking.get_start_time()
    if start is None:
        return False
    return now > start - timedelta(hours=booking.service.cancellation_cutoff_hours)


def late_cancel_fee(booking: Booking, now: datetime) -> int:
    """What canceling now would cost the client under the service's policy (0 inside the
    free window, or when the policy charges nothing)."""
    if not cutoff_passed(booking, now):
        return 0
    return booking.service.fee_for(FeeKind.LATE_CANCEL, booking.price_charged_cents)


def _return_credit(booking: Booking, session: ServiceSession, now: datetime) -> Booking:
    """A fresh unscheduled credit in the same order replaces the canceled one."""
    return add_credit(booking.user, booking.service, booking.order, session.session_type, now)


def _close_unpaid_order(order: Order, now: datetime) -> None:
    """An unpaid order left with no seat is over: nobody should mark it paid later."""
    if order.status != OrderStatus.PENDING:
        return
    db.session.refresh(order)
    if not any(b.status in SEAT_HOLDING for b in order.bookings):
        move_order(order, OrderStatus.CANCELED, now=now, cancel_reason=CancelReason.ORDER_EMPTIED)


@unit_of_work
def cancel_booking(
    booking: Booking,
    actor: User,
    *,
    reason: CancelReason = CancelReason.CANCELED,
    note: str = "",
    client_requested: bool = False,
    closing_account: bool = False,
    now: datetime | None = None,
) -> Booking | None:
    """Cancel one booking and free its seat. Returns the returned credit, if any.

    The booking's own client may cancel only before the service's cut-off; past it
    they have to ask the practitioner. The practitioner or staff may cancel at any
    time. Past the cut-off, a cancel the client asked for (``client_requested``) is
    the client's late cancel: kept apart from no-shows, credit forfeited. Removing a
    client for any other reason is not the client's doing, so it is not a late
    cancel and a credit comes back as before the cut-off. `reason` is what the domain
    records and compares; `note` is whatever the person typed, kept and sent as written.
    A client `closing_account` (their account is being erased) cancels past the cut-off
    too, as a late cancel: the policy applies, the refusal to do it online does not.
    """
    now = now or utcnow()
    session = lock_sessions([booking.service_session_id])[booking.service_session_id]
    db.session.refresh(booking)
    if booking.status not in SEAT_HOLDING:
        raise InvalidTransition(gettext("This booking is already canceled."))
    if session.status not in (SessionStatus.DRAFT, SessionStatus.SCHEDULED):
        raise InvalidTransition(
            gettext(
                "The session is %(status_label)s; it can no longer be canceled.",
                status_label=session.status.label,
            )
        )
    past_cutoff = cutoff_passed(booking, now)
    # Past the cut-off the client may still cancel online when the policy charges a late
    # fee for it; without a fee they ask the practitioner, as before fees existed.
    late_fee = booking.service.fee_for(FeeKind.LATE_CANCEL, booking.price_charged_cents)
    if past_cutoff and actor.id == booking.user_id and late_fee <= 0 and not closing_account:
        hours = booking.service.cancellation_cutoff_hours
        raise CancellationWindowClosed(
            ngettext(
                "Bookings can be canceled online up to %(num)d hour before the start; "
                "please contact your practitioner.",
                "Bookings can be canceled online up to %(num)d hours before the start; "
                "please contact your practitioner.",
                hours,
            )
        )
    late_cancel = past_cutoff and (client_requested or actor.id == booking.user_id)
    previous_status = booking.status
    move_bookings(
        [booking],
        BookingStatus.CANCELED,
        now=now,
        cancel_reason=reason,
        cancel_note=note,
        canceled_by_id=actor.id,
        late_cancel=late_cancel,
    )
    fee = owe_fee(booking, FeeKind.LATE_CANCEL, now) if late_cancel else None
    credit = None
    pass_credit_back = False
    # Only a scheduled credit comes back; giving up an unscheduled one just cancels it.
    if session.session_type in CREDIT_SESSION_TYPES and session.start_time and not late_cancel:
        credit = _return_credit(booking, session, now)
    else:
        _close_unpaid_order(booking.order, now)
        # A seat a class pass paid for: in time, its credit comes back; late, it is forfeited.
        pass_credit_back = not late_cancel and return_credit(booking, now)
    notices.booking_canceled(
        booking,
        actor,
        late=late_cancel,
        credit=credit,
        reason=reason,
        note=note,
        pass_credit=pass_credit_back,
    )
    close_empty_private_sessions({session.id})
    seats_freed({session.id}, now=now)
    events.booking_event(
        WebhookEventType.BOOKING_CANCELED, booking, session, now, late_cancel=late_cancel
    )
    audit.record(
        AuditAction.BOOKING_CANCELED,
        "booking",
        booking.id,
        practitioner_id=session.practitioner_id,
        client_id=booking.user_id,
        actor_id=actor.id,
        before={"status": previous_status},
        after={
            "status": BookingStatus.CANCELED,
            "late_cancel": late_cancel,
            "reason": reason or CancelReason.CANCELED,
            "credit_id": credit.id if credit else None,
            "pass_credit_returned": pass_credit_back,
            "fee_id": fee.id if fee else None,
        },
    )
    log.info(
        "booking canceled: booking %s, order %s, session %s, by user %s, late %s, credit %s, "
        "fee %s",
        booking.id,
        booking.order_id,
        session.id,
        actor.id,
        late_cancel,
        credit.id if credit else None,
        fee.id if fee else None,
    )
    return credit


@unit_of_work
def cancel_session(
    session: ServiceSession, actor: User, *, note: str = "", now: datetime | None = None
) -> int:
    """Cancel a session and every seat in it; credits come back to their owners. `note` is
    the practitioner's own words to the clients, if any.

    Returns how many bookings were canceled.
    """
    now = now or utcnow()
    session = lock_sessions([session.id])[session.id]
    if session.status not in (SessionStatus.DRAFT, SessionStatus.SCHEDULED):
        raise InvalidTransition(
            gettext(
                "The session is %(status_label)s; it cannot be canceled.",
                status_label=session.status.label,
            )
        )
    seats = [b for b in session.bookings if b.status in SEAT_HOLDING]
    previous_status = session.status
    move_bookings(
        seats,
        BookingStatus.CANCELED,
        now=now,
        cancel_reason=CancelReason.SESSION_CANCELED,
        cancel_note=note,
        canceled_by_id=actor.id,
    )
    credits_back = session.session_type in CREDIT_SESSION_TYPES and session.start_time is not None
    if credits_back:
        for booking in seats:
            _return_credit(booking, session, now)
    else:
        for order in {booking.order for booking in seats}:
            _close_unpaid_order(order, now)
        for booking in seats:
            return_credit(booking, now)
        # The client paid for a session that will not happen: the money goes back.
        for booking in seats:
            if booking.order.status == OrderStatus.PAID and booking.price_charged_cents > 0:
                owe_refund(booking, now)
    notices.session_canceled(session, seats, credits_returned=credits_back, note=note)
    move_session(session, SessionStatus.CANCELED)
    session_closed(session, now=now)
    for booking in seats:
        events.booking_event(
            WebhookEventType.BOOKING_CANCELED, booking, session, now, late_cancel=False
        )
    events.session_canceled(session, [b.id for b in seats], now)
    audit.record(
        AuditAction.SESSION_CANCELED,
        "session",
        session.id,
        practitioner_id=session.practitioner_id,
        actor_id=actor.id,
        before={"status": previous_status},
        after={
            "status": SessionStatus.CANCELED,
            "reason": CancelReason.SESSION_CANCELED,
            "bookings_canceled": [b.id for b in seats],
        },
    )
    log.info(
        "session canceled: session %s, by user %s, bookings %s",
        session.id,
        actor.id,
        [b.id for b in seats],
    )
    return len(seats)
