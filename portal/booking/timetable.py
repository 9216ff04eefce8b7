"""A practitioner's own calendar: placing, changing and filling sessions, and
generating a course's sessions from a recurrence."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, WEEKLY, rrule
from flask_babel import gettext, ngettext
from sqlalchemy import func, select

from .. import audit
from ..core.errors import InvalidInput, InvalidTransition, NotBookable, SlotUnavailable
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..l10n import format_moment
from ..models import (
    AuditAction,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    SessionType,
    User,
    Visibility,
)
from . import notices
from .factory import create_session, enroll_in_course, session_values
from .holds import ensure_seat_available
from .locks import lock_practitioner, lock_sessions
from .payments import confirm_payment
from .seats import add_booking
from .services import save_service
from .slots import BUSY_STATUSES, Interval, local_instant

log = logging.getLogger(__name__)

# Service types a practitioner places on the calendar one session at a time.
CALENDAR_TYPES = (ServiceType.WORKSHOP, ServiceType.INDIVIDUAL, ServiceType.COURSE)
COMP_PROVIDER = "comp"
FREQUENCIES = {"weekly": WEEKLY, "daily": DAILY}
MIN_YEAR, MAX_YEAR = 2000, 2200


def local_start(day: date, clock: time, zone: str) -> datetime:
    """The UTC instant of a wall-clock start; a time skipped by DST is refused."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidInput(
            gettext(
                "Pick a date between %(MIN_YEAR)s and %(MAX_YEAR)s.",
                MIN_YEAR=MIN_YEAR,
                MAX_YEAR=MAX_YEAR,
            ),
            field="start_date",
        )
    instant = local_instant(day, clock, ZoneInfo(zone))
    if instant is None:
        raise InvalidInput(
            gettext(
                "%(clock)s does not exist on %(day)s in %(zone)s (clocks change).",
                clock=format_moment(clock, "time"),
                day=format_moment(day, "date"),
                zone=zone,
            ),
            field="start_time",
        )
    return instant


def recurrence(
    first_day: date, clock: time, zone: str, *, frequency: str, interval: int, count: int
) -> list[datetime]:
    """Start instants of `count` occurrences, every `interval` days or weeks, local time kept."""
    if frequency not in FREQUENCIES:
        raise InvalidInput(gettext("Choose weekly or daily repetition."), field="frequency")
    if not 1 <= interval <= 52:
        raise InvalidInput(gettext("The interval must be between 1 and 52."), field="interval")
    if not 1 <= count <= 104:
        raise InvalidInput(gettext("A course has between 1 and 104 sessions."), field="count")
    rule = rrule(
        FREQUENCIES[frequency],
        interval=interval,
        count=count,
        dtstart=datetime.combine(first_day, clock),
    )
    return [local_start(moment.date(), moment.time(), zone) for moment in rule]


@dataclass(frozen=True)
class Conflict:
    start: datetime
    other_title: str


def _interval(session: ServiceSession) -> Interval:
    # The busy statuses are past draft, and the database gives those times (CHECK).
    assert session.start_time is not None and session.end_time is not None
    return Interval(session.start_time, session.end_time)


def find_conflicts(
    practitioner_id: int, intervals: list[Interval], *, ignore_session_id: int | None = None
) -> list[Conflict]:
    """Which of the intervals overlap the practitioner's scheduled sessions, or each other.

    One query for the whole span, whatever the number of intervals.
    """
    if not intervals:
        return []
    span_start = min(i.start for i in intervals)
    span_end = max(i.end for i in intervals)
    query = select(ServiceSession).where(
        ServiceSession.practitioner_id == practitioner_id,
        ServiceSession.status.in_(BUSY_STATUSES),
        ServiceSession.start_time < span_end,
        ServiceSession.end_time > span_start,
    )
    if ignore_session_id is not None:
        query = query.where(ServiceSession.id != ignore_session_id)
    busy = db.session.scalars(query).all()
    conflicts = []
    for index, candidate in enumerate(intervals):
        clash = next((s for s in busy if candidate.overlaps(_interval(s))), None)
        if clash is not None:
            conflicts.append(Conflict(candidate.start, clash.display_title))
        elif any(candidate.overlaps(other) for other in intervals[:index]):
            conflicts.append(Conflict(candidate.start, "another session of this series"))
    return conflicts


def _refuse_conflicts(conflicts: list[Conflict], zone: str) -> None:
    if not conflicts:
        return
    tz = ZoneInfo(zone)
    dates = "; ".join(
        f"{format_moment(c.start, zone=tz)} (overlaps {c.other_title})" for c in conflicts
    )
    error = SlotUnavailable(
        gettext("These times overlap other sessions: %(dates)s.", dates=dates), field="start_time"
    )
    error.conflicts = conflicts
    raise error


def _check_capacity(service: Service, max_participants: int) -> None:
    if max_participants < 1:
        raise InvalidInput(gettext("A session needs at least one seat."), field="max_participants")
    if service.service_type == ServiceType.INDIVIDUAL and max_participants != 1:
        raise InvalidInput(
            gettext("A 1-on-1 session has exactly one seat."), field="max_participants"
        )


def _check_duration(duration_minutes: int) -> timedelta:
    if not 5 <= duration_minutes <= 24 * 60:
        raise InvalidInput(
            gettext("Duration must be between 5 minutes and 24 hours."), field="duration"
        )
    return timedelta(minutes=duration_minutes)


@unit_of_work
def schedule_session(
    service: Service,
    *,
    start_time: datetime,
    duration_minutes: int,
    max_participants: int,
    title: str = "",
) -> ServiceSession:
    """Put one session of the practitioner's service on their calendar."""
    if service.service_type not in CALENDAR_TYPES:
        raise NotBookable(
            gettext(
                "%(service_name)s is a %(service_type_label)s; its sessions are "
                "scheduled by the client from a credit.",
                service_name=service.name,
                service_type_label=service.service_type.label,
            ),
            field="service",
        )
    if not service.is_active:
        raise NotBookable(
            gettext("%(service_name)s is not currently offered.", service_name=service.name),
            field="service",
        )
    _check_capacity(service, max_participants)
    duration = _check_duration(duration_minutes)
    practitioner = lock_practitioner(service.primary_practitioner_id)
    _refuse_conflicts(
        find_conflicts(practitioner.id, [Interval(start_time, start_time + duration)]),
        practitioner.timezone,
    )
    sequence = None
    if service.service_type == ServiceType.COURSE:
        last = db.session.scalar(
            select(func.max(ServiceSession.sequence_number)).where(
                ServiceSession.service_id == service.id
            )
        )
        sequence = (last or 0) + 1
    return create_session(
        service,
        start_time=start_time,
        end_time=start_time + duration,
        max_participants=max_participants,
        title=title,
        sequence_number=sequence,
        visibility=(
            Visibility.PRIVATE
            if service.service_type == ServiceType.INDIVIDUAL
            else Visibility.PUBLIC
        ),
    )


@unit_of_work
def update_session(
    session: ServiceSession,
    *,
    start_time: datetime,
    duration_minutes: int,
    max_participants: int,
    title: str,
) -> ServiceSession:
    """Edit or reschedule a scheduled session; subscribers see a new revision."""
    locked = lock_sessions([session.id])[session.id]
    if locked.status != SessionStatus.SCHEDULED:
        raise InvalidTransition(
            gettext(
                "This session is %(status_label)s; only scheduled sessions can be changed.",
                status_label=locked.status.label,
            )
        )
    _check_capacity(locked.service, max_participants)
    if max_participants < locked.current_participants:
        raise InvalidInput(
            ngettext(
                "%(num)d seat is taken; capacity cannot go below that.",
                "%(num)d seats are taken; capacity cannot go below that.",
                locked.current_participants,
            ),
            field="max_participants",
        )
    duration = _check_duration(duration_minutes)
    end_time = start_time + duration
    changes = {
        "start_time": start_time,
        "end_time": end_time,
        "max_participants": max_participants,
        "title": title,
    }
    if all(getattr(locked, key) == value for key, value in changes.items()):
        return locked
    previous_start = locked.start_time
    assert previous_start is not None  # a scheduled session has times (CHECK)
    before = session_values(locked)
    if (start_time, end_time) != (locked.start_time, locked.end_time):
        lock_practitioner(locked.practitioner_id)
        _refuse_conflicts(
            find_conflicts(
                locked.practitioner_id,
                [Interval(start_time, end_time)],
                ignore_session_id=locked.id,
            ),
            locked.timezone,
        )
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.revision = locked.revision + 1
    db.session.flush()
    audit.record(
        AuditAction.SESSION_UPDATED,
        "session",
        locked.id,
        practitioner_id=locked.practitioner_id,
        before=before,
        after=session_values(locked),
    )
    if start_time != previous_start:
        notices.session_moved(locked, previous_start)
    return locked


@unit_of_work
def schedule_course(
    course: Service, starts: list[datetime], *, max_participants: int | None = None
) -> list[ServiceSession]:
    """Generate a course's sessions: every date is checked first, then all are created or none."""
    if course.service_type != ServiceType.COURSE:
        raise NotBookable(gettext("%(course_name)s is not a course.", course_name=course.name))
    if not starts:
        raise InvalidInput(gettext("A course needs at least one session."), field="count")
    duration = timedelta(minutes=course.duration_minutes)
    practitioner = lock_practitioner(course.primary_practitioner_id)
    intervals = [Interval(start, start + duration) for start in starts]
    _refuse_conflicts(find_conflicts(practitioner.id, intervals), practitioner.timezone)
    first_number = (
        db.session.scalar(
            select(func.max(ServiceSession.sequence_number)).where(
                ServiceSession.service_id == course.id
            )
        )
        or 0
    ) + 1
    return [
        create_session(
            course,
            start_time=interval.start,
            end_time=interval.end,
            max_participants=max_participants or course.max_participants,
            session_type=SessionType.COURSE_SESSION,
            sequence_number=first_number + offset,
        )
        for offset, interval in enumerate(intervals)
    ]


@unit_of_work
def add_client_to_session(
    session: ServiceSession, client: User, actor: User, *, now: datetime | None = None
) -> Booking:
    """The practitioner seats a client themselves: a complimentary, confirmed seat.

    It goes through the same capacity checks as a purchase; the zero-total order
    is recorded as paid by the "comp" provider so reports can tell it apart.
    """
    now = now or utcnow()
    if not client.is_client:
        raise InvalidInput(
            gettext("Only client accounts can be added to a session."), field="email"
        )
    locked = lock_sessions([session.id])[session.id]
    if locked.start_time is None or locked.end_time is None or locked.end_time <= now:
        raise NotBookable(
            gettext(
                "%(display_title)s is over; no seats can be added.",
                display_title=locked.display_title,
            )
        )
    ensure_seat_available(locked, now)
    order = Order(
        user_id=client.id,
        service_id=locked.service_id,
        total_cents=0,
        currency=locked.service.currency,
        status=OrderStatus.PAID,
        payment_provider=COMP_PROVIDER,
        payment_reference=f"added by user {actor.id}",
        paid_at=now,
        created_at=now,
    )
    db.session.add(order)
    db.session.flush()
    booking = add_booking(client, locked.service, locked, order, BookingStatus.CONFIRMED, 0, now)
    log.info(
        "client added to session: booking %s, user %s, session %s, by user %s",
        booking.id,
        client.id,
        locked.id,
        actor.id,
    )
    notices.booked_for_client(order)
    return booking


@unit_of_work
def create_course(practitioner: User, starts: list[datetime], **fields) -> Service:
    """A course and all its sessions, or nothing: every date is checked before any write."""
    duration = _check_duration(int(fields.get("duration_minutes", 60)))
    lock_practitioner(practitioner.id)
    _refuse_conflicts(
        find_conflicts(practitioner.id, [Interval(s, s + duration) for s in starts]),
        practitioner.timezone,
    )
    course = save_service(practitioner, service_type=ServiceType.COURSE, **fields)
    schedule_course(course, starts)
    return course


@unit_of_work
def enroll_client(course: Service, client: User, *, paid: bool, now: datetime | None = None):
    """The practitioner enrolls a client: one order, N bookings; optionally paid offline."""
    if not client.is_client:
        raise InvalidInput(gettext("Only client accounts can be enrolled."), field="email")
    order = enroll_in_course(client, course, now=now)
    if paid and order.status == OrderStatus.PENDING:
        confirm_payment(order, reference="recorded by practitioner", now=now)
    return order
