"""Messages that fall due with time rather than with a change: reminders before each
session, credits about to expire, a practitioner's daily agenda.

The worker runs these every minute (or hour). Each message has a dedup key that the
outbox keeps unique, so however often they run, on however many workers, across
restarts, each goes once. All times are absolute (UTC): "24 hours before" is 24 real
hours before the start, across a DST change too; the text shows the recipient's zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.exc import IntegrityError

from .booking import credit_expires_at
from .core.transactions import unit_of_work
from .database import utcnow
from .extensions import db
from .models import (
    DEFAULT_REMINDER_OFFSETS,
    Booking,
    BookingStatus,
    ClassPass,
    Notification,
    NotificationKind,
    NotificationPreferences,
    Order,
    OrderStatus,
    Role,
    Service,
    ServiceSession,
    SessionStatus,
    User,
)
from .notifications.outbox import notify

log = logging.getLogger(__name__)


def reminder_key(booking_id: int, offset_minutes: int, start: datetime) -> str:
    """One reminder per booking, offset and start time: a session moved to another
    time earns its reminders again, a restarted worker does not."""
    return f"reminder:{booking_id}:{offset_minutes}:{int(start.timestamp())}"


def _write_once(key: str, write) -> bool:
    """Write one keyed message unless it exists; a concurrent worker writing the same
    key first makes ours a no-op (the unique index refuses it)."""
    if db.session.scalar(select(Notification.id).where(Notification.dedup_key == key)):
        return False
    try:
        with db.session.begin_nested():
            write()
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True)
class DueReminder:
    booking_id: int
    user_id: int
    session_id: int
    start: datetime
    offset_minutes: int


def due_reminders(now: datetime) -> list[DueReminder]:
    """For each confirmed seat of a scheduled session still ahead, the smallest of its
    practitioner's offsets whose moment has come, if the seat was booked before it:
    booked a week ahead gets the 24 h and then the 1 h reminder; booked two hours ahead
    only the 1 h one; a worker that was down through both sends only the 1 h one."""
    offsets_by_practitioner = dict(
        db.session.execute(
            select(NotificationPreferences.user_id, NotificationPreferences.reminder_offsets)
        ).all()
    )
    widest = max(
        [*DEFAULT_REMINDER_OFFSETS, *(o for offs in offsets_by_practitioner.values() for o in offs)]
    )
    seats = db.session.execute(
        select(
            Booking.id,
            Booking.user_id,
            Booking.created_at,
            ServiceSession.id,
            ServiceSession.start_time,
            ServiceSession.practitioner_id,
        )
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.status == SessionStatus.SCHEDULED,
            ServiceSession.start_time > now,
            ServiceSession.start_time <= now + timedelta(minutes=widest),
        )
    ).all()
    due = []
    for booking_id, user_id, booked_at, session_id, start, practitioner_id in seats:
        assert start is not None  # the query asked for start_time > now
        offsets = offsets_by_practitioner.get(practitioner_id, DEFAULT_REMINDER_OFFSETS)
        come = [o for o in offsets if start - timedelta(minutes=o) <= now]
        if not come:
            continue
        offset = min(come)
        if booked_at <= start - timedelta(minutes=offset):
            due.append(DueReminder(booking_id, user_id, session_id, start, offset))
    return due


@unit_of_work
def queue_due_reminders(now: datetime | None = None) -> int:
    now = now or utcnow()
    written = 0
    for item in due_reminders(now):
        user = db.session.get(User, item.user_id)

        def write(item=item, user=user):
            notify(
                NotificationKind.REMINDER,
                user,
                dedup_key=reminder_key(item.booking_id, item.offset_minutes, item.start),
                booking_id=item.booking_id,
                offset_minutes=item.offset_minutes,
            )

        if _write_once(reminder_key(item.booking_id, item.offset_minutes, item.start), write):
            written += 1
    if written:
        log.info("queued %d reminder(s)", written)
    return written


def _expiry_key(order_id) -> str:
    return f"credits-expiring:{order_id}"


@unit_of_work
def queue_expiring_credits(now: datetime | None = None) -> int:
    """Tell a client once, PORTAL_CREDITS_EXPIRING_DAYS before, about paid credits
    they have not scheduled yet (a package's or bundle's) or not spent (a class pass's)."""
    now = now or utcnow()
    notice = timedelta(days=current_app.config["PORTAL_CREDITS_EXPIRING_DAYS"])
    told = select(Notification.id).where(
        Notification.dedup_key == literal("credits-expiring:") + cast(Order.id, String)
    )
    candidates = db.session.execute(
        select(Order, func.count(Booking.id))
        .join(Booking, Booking.order_id == Order.id)
        .join(Service, Order.service_id == Service.id)
        .where(
            Order.status == OrderStatus.PAID,
            Service.validity_days.is_not(None),
            Booking.status == BookingStatus.DRAFT,
            ~told.exists(),
        )
        .group_by(Order.id)
    ).all()
    written = 0
    for order, count in candidates:
        expires = credit_expires_at(order)
        if expires is None or not now < expires <= now + notice:
            continue

        def write(order=order, count=count, expires=expires):
            notify(
                NotificationKind.CREDITS_EXPIRING,
                order.user,
                dedup_key=_expiry_key(order.id),
                order_id=order.id,
                count=count,
                expires_at=expires.isoformat(),
            )

        written += _write_once(_expiry_key(order.id), write)
    # A class pass's credits left, told the same way (one message per order).
    passes = db.session.execute(
        select(ClassPass, Order)
        .join(Order, ClassPass.order_id == Order.id)
        .where(
            Order.status == OrderStatus.PAID,
            ClassPass.expires_at > now,
            ClassPass.expires_at <= now + notice,
            ClassPass.credits_used < ClassPass.credits,
            ~told.exists(),
        )
    ).all()
    for held, order in passes:

        def tell(order=order, held=held):
            notify(
                NotificationKind.CREDITS_EXPIRING,
                order.user,
                dedup_key=_expiry_key(order.id),
                order_id=order.id,
                count=held.credits_left,
                expires_at=held.expires_at.isoformat(),
            )

        written += _write_once(_expiry_key(order.id), tell)
    return written


AGENDA_HOUR = time(7)


@unit_of_work
def queue_daily_agendas(now: datetime | None = None) -> int:
    """At 07:00 in each practitioner's own zone, the day's sessions, for those who want it."""
    now = now or utcnow()
    wanting = db.session.scalars(
        select(User)
        .join(NotificationPreferences, NotificationPreferences.user_id == User.id)
        .where(User.role == Role.PRACTITIONER, NotificationPreferences.daily_agenda.is_(True))
    ).all()
    written = 0
    for practitioner in wanting:
        local = now.astimezone(practitioner.zone)
        if local.time() < AGENDA_HOUR:
            continue
        day = local.date()
        start = datetime.combine(day, time(0), tzinfo=practitioner.zone)
        sessions = db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.practitioner_id == practitioner.id,
                ServiceSession.status == SessionStatus.SCHEDULED,
                ServiceSession.start_time >= start,
                ServiceSession.start_time < start + timedelta(days=1),
            )
            .order_by(ServiceSession.start_time)
        ).all()
        listed = [
            {
                "start": s.start_time.isoformat() if s.start_time else None,
                "title": s.display_title,
                "seats": f"{s.current_participants}/{s.max_participants}",
            }
            for s in sessions
        ]
        key = f"agenda:{practitioner.id}:{day.isoformat()}"

        def write(practitioner=practitioner, day=day, listed=listed, key=key):
            notify(
                NotificationKind.DAILY_AGENDA,
                practitioner,
                dedup_key=key,
                day=day.isoformat(),
                sessions=listed,
            )

        written += _write_once(key, write)
    return written
