"""Reads for "My bookings": what a client holds, and what they may do with each booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import booking
from ...extensions import db
from ...models import (
    CREDIT_SESSION_TYPES,
    WAITLIST_OPEN,
    Booking,
    BookingStatus,
    Fee,
    FeeStatus,
    Order,
    ServiceSession,
    SessionStatus,
    SessionType,
    User,
    WaitlistEntry,
)

RECENT_LIMIT = 20


@dataclass
class BookingRow:
    booking: Booking
    cancel_blocked: str | None = None
    reschedule_blocked: str | None = None
    # What canceling now costs (the policy's late fee past the cut-off), else 0.
    late_fee: int = 0

    @property
    def can_cancel(self) -> bool:
        return self.cancel_blocked is None

    @property
    def can_reschedule(self) -> bool:
        return self.reschedule_blocked is None


@dataclass
class CourseSeats:
    """A course's upcoming sessions in one place: they were bought together and share a rule."""

    order: Order
    rows: list[BookingRow]

    @property
    def reschedule_blocked(self) -> str | None:
        return self.rows[0].reschedule_blocked


@dataclass
class CanceledRow:
    booking: Booking
    outcome: str


@dataclass
class MyBookings:
    upcoming: list[BookingRow]
    courses: list[CourseSeats]
    past: list[Booking]
    canceled: list[CanceledRow]
    waitlist: list[WaitlistEntry]


def booking_options():
    return (
        selectinload(Booking.service),
        selectinload(Booking.service_session).selectinload(ServiceSession.practitioner),
        selectinload(Booking.service_session).selectinload(ServiceSession.service),
        selectinload(Booking.order).selectinload(Order.service),
    )


def row_for(b: Booking, now: datetime) -> BookingRow:
    """What the client may do with one upcoming booking, and why not when they may not."""
    session = b.service_session
    row = BookingRow(b)
    hours = b.service.cancellation_cutoff_hours
    closed = ngettext(
        "Online changes closed %(num)d hour before the start; please contact your practitioner.",
        "Online changes closed %(num)d hours before the start; please contact your practitioner.",
        hours,
    )
    if session.status != SessionStatus.SCHEDULED:
        row.cancel_blocked = row.reschedule_blocked = f"The session is {session.status.label}."
    elif booking.cutoff_passed(b, now):
        row.reschedule_blocked = closed
        # The policy's late fee buys a cancel past the cut-off; the page names its price.
        row.late_fee = booking.late_cancel_fee(b, now)
        if not row.late_fee:
            row.cancel_blocked = closed
    # A group seat never moves, cut-off or not: saying "closed" would suggest it once could.
    if not booking.can_reschedule(b):
        row.reschedule_blocked = (
            f"A seat in a {b.service.service_type.label} cannot be moved: the group meets "
            "at its set time."
        )
    return row


def fees_due(user: User) -> list[tuple[Fee, Order]]:
    """The fees a client's card did not pay, with their orders: what they owe beyond their
    orders' totals."""
    rows = db.session.execute(
        select(Fee, Order)
        .join(Order, Order.id == Fee.order_id)
        .where(Order.user_id == user.id, Fee.status == FeeStatus.DUE)
        .options(selectinload(Order.service))
        .order_by(Fee.created_at, Fee.id)
    )
    return [(fee, order) for fee, order in rows]


def my_bookings(user: User, now: datetime) -> MyBookings:
    upcoming = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == user.id,
            Booking.status.in_((BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)),
            ServiceSession.end_time > now,
        )
        .options(*booking_options())
        .order_by(ServiceSession.start_time, Booking.id)
    ).all()
    past = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == user.id,
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.end_time <= now,
        )
        .options(*booking_options())
        .order_by(ServiceSession.start_time.desc())
        .limit(RECENT_LIMIT)
    ).all()
    canceled = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == user.id,
            Booking.status == BookingStatus.CANCELED,
            ServiceSession.start_time.is_not(None),
        )
        .options(*booking_options())
        .order_by(Booking.canceled_at.desc())
        .limit(RECENT_LIMIT)
    ).all()
    waitlist = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id, WaitlistEntry.status.in_(WAITLIST_OPEN))
        .options(
            selectinload(WaitlistEntry.service_session).selectinload(ServiceSession.service),
            selectinload(WaitlistEntry.order),
        )
        .order_by(WaitlistEntry.created_at)
    ).all()
    rows = [row_for(b, now) for b in upcoming]
    courses: dict[int, CourseSeats] = {}
    for row in rows:
        if row.booking.service_session.session_type == SessionType.COURSE_SESSION:
            order = row.booking.order
            courses.setdefault(order.id, CourseSeats(order, [])).rows.append(row)
    return MyBookings(
        upcoming=[
            r for r in rows if r.booking.service_session.session_type != SessionType.COURSE_SESSION
        ],
        courses=list(courses.values()),
        past=list(past),
        canceled=[CanceledRow(b, cancel_outcome(b)) for b in canceled],
        waitlist=[e for e in waitlist if e.service_session.start_time > now],
    )


def cancel_outcome(b: Booking) -> str:
    """How a canceled booking ended, in the words the client needs."""
    if b.hold_expired:
        return "Hold expired before payment"
    credit = b.service_session.session_type in CREDIT_SESSION_TYPES
    if b.late_cancel:
        return "Late cancel: credit forfeited" if credit else "Late cancel"
    if credit:
        return "Canceled: credit returned"
    return "Canceled"
