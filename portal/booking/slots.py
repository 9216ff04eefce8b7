"""When a practitioner can be booked: weekly hours, date overrides, buffers, notice, horizon.

Hours are kept in the practitioner's own timezone and turned into UTC instants
per date, so a 09:00 start stays 09:00 local across DST changes.

A service may narrow or replace the practitioner's policy (BookingPolicy): its own buffer,
notice and horizon, and the weekdays and the hours of the day it is offered within the
practitioner's working hours (a massage with a 30-minute buffer, a consultation with 48
hours' notice, a class only on Saturdays). What it leaves unset is the practitioner's.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import select, union_all
from sqlalchemy.sql.schema import ColumnDefault

from ..core.errors import SlotUnavailable
from ..core.transactions import inside_unit_of_work
from ..database import utcnow
from ..extensions import db
from ..external_calendars import live
from ..models import (
    DateOverride,
    ExternalBusyTime,
    ScheduleSettings,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    WeeklyHours,
)

BUSY_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


class BusyTimes:
    """Busy intervals merged into disjoint ones, sorted: whether a candidate overlaps one
    is a bisection, so the picker's cost stays flat as busy times grow (thousands of
    them come from a practitioner's own calendars)."""

    def __init__(self, intervals: Iterable[Interval]):
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        for interval in sorted(intervals, key=lambda i: i.start):
            if self._ends and interval.start <= self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], interval.end)
            else:
                self._starts.append(interval.start)
                self._ends.append(interval.end)

    def overlaps(self, candidate: Interval) -> bool:
        # Only the last interval starting before the candidate ends can reach into it:
        # every earlier one ends before that one starts.
        index = bisect_left(self._starts, candidate.end) - 1
        return index >= 0 and self._ends[index] > candidate.start


@dataclass(frozen=True)
class BookingPolicy:
    """The rules one service's slots follow: the practitioner's, with the service's own
    where it has them."""

    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    slot_step_minutes: int
    # Offered only on these weekdays (0 = Monday) and between these local hours: None is
    # "whenever the practitioner works".
    weekdays: frozenset[int] | None = None
    day_start: time | None = None
    day_end: time | None = None

    def narrow(self, working: Iterable[Interval], zone: ZoneInfo) -> list[Interval]:
        """The working intervals cut to the service's own days and hours."""
        if self.weekdays is None and self.day_start is None and self.day_end is None:
            return list(working)
        narrowed = []
        for interval in working:
            day = interval.start.astimezone(zone).date()
            if self.weekdays is not None and day.weekday() not in self.weekdays:
                continue
            start, end = interval.start, interval.end
            if self.day_start is not None:
                start = max(start, _working_bound(day, self.day_start, zone))
            if self.day_end is not None:
                end = min(end, _working_bound(day, self.day_end, zone))
            if end > start:
                narrowed.append(Interval(start, end))
        return narrowed


def policy_for(practitioner_id: int, service: Service | None = None) -> BookingPolicy:
    settings = settings_for(practitioner_id)

    def own(value: int | None, default: int) -> int:
        return default if value is None else value

    if service is None:
        return BookingPolicy(
            settings.buffer_minutes,
            settings.min_notice_minutes,
            settings.horizon_days,
            settings.slot_step_minutes,
        )
    return BookingPolicy(
        own(service.buffer_minutes, settings.buffer_minutes),
        own(service.min_notice_minutes, settings.min_notice_minutes),
        own(service.horizon_days, settings.horizon_days),
        settings.slot_step_minutes,
        weekdays=service.bookable_weekday_set,
        day_start=service.bookable_from,
        day_end=service.bookable_until,
    )


def settings_for(practitioner_id: int) -> ScheduleSettings:
    found = db.session.get(ScheduleSettings, practitioner_id)
    if found is not None:
        return found
    defaults = ScheduleSettings(practitioner_id=practitioner_id)
    for column in ScheduleSettings.__table__.columns:
        if getattr(defaults, column.key) is None and isinstance(column.default, ColumnDefault):
            setattr(defaults, column.key, column.default.arg)
    return defaults


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall-clock time, or None inside a DST gap."""
    local = datetime.combine(day, clock, tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return as_utc


def _working_bound(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A working-hours bound as a UTC instant. One inside a DST gap reads the clock on
    the offset before the change (as RFC 5545 does), which lands just past the gap:
    the hours that do exist that day stay bookable instead of the whole range vanishing."""
    return local_instant(day, clock, zone) or datetime.combine(day, clock, tzinfo=zone).astimezone(
        UTC
    )


def working_intervals(practitioner: User, first_day: date, last_day: date) -> list[Interval]:
    """Working ranges (UTC) for the practitioner's local dates first_day..last_day."""
    zone = practitioner.zone
    weekly = db.session.scalars(
        select(WeeklyHours).where(WeeklyHours.practitioner_id == practitioner.id)
    ).all()
    overrides = db.session.scalars(
        select(DateOverride).where(
            DateOverride.practitioner_id == practitioner.id,
            DateOverride.day >= first_day,
            DateOverride.day <= last_day,
        )
    ).all()
    overridden: dict[date, list[DateOverride]] = {}
    for override in overrides:
        overridden.setdefault(override.day, []).append(override)

    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        if day in overridden:
            ranges = [
                (o.start_time, o.end_time)
                for o in overridden[day]
                if o.start_time is not None and o.end_time is not None
            ]
        else:
            ranges = [(w.start_time, w.end_time) for w in weekly if w.weekday == day.weekday()]
        for start_clock, end_clock in ranges:
            start = _working_bound(day, start_clock, zone)
            end = _working_bound(day, end_clock, zone)
            if end > start:
                intervals.append(Interval(start, end))
        day += timedelta(days=1)
    return sorted(intervals, key=lambda i: i.start)


def busy_intervals(
    practitioner_id: int, window: Interval, buffer: timedelta, ignore_session_id: int | None
) -> list[Interval]:
    """The practitioner's own live sessions and the busy times read from their calendars
    (external_calendars), each widened by the buffer: one statement either way."""
    sessions = select(ServiceSession.start_time, ServiceSession.end_time).where(
        ServiceSession.practitioner_id == practitioner_id,
        ServiceSession.status.in_(BUSY_STATUSES),
        ServiceSession.start_time < window.end + buffer,
        ServiceSession.end_time > window.start - buffer,
    )
    if ignore_session_id is not None:
        sessions = sessions.where(ServiceSession.id != ignore_session_id)
    elsewhere = select(ExternalBusyTime.start_time, ExternalBusyTime.end_time).where(
        ExternalBusyTime.practitioner_id == practitioner_id,
        ExternalBusyTime.start_time < window.end + buffer,
        ExternalBusyTime.end_time > window.start - buffer,
    )
    # A UNION of two typed selects is untyped to SQLAlchemy's stubs: both give (start, end).
    rows: list[Any] = list(db.session.execute(union_all(sessions, elsewhere)))
    return [Interval(start - buffer, end + buffer) for start, end in rows]


def _timing_refusal(start: datetime, settings: BookingPolicy, now: datetime) -> str | None:
    if start < now + timedelta(minutes=settings.min_notice_minutes):
        return "That time is too soon to book."
    if start > now + timedelta(days=settings.horizon_days):
        return "That time is too far ahead to book."
    return None


def _refusal(
    candidate: Interval,
    settings: BookingPolicy,
    working: Iterable[Interval],
    busy: BusyTimes,
    now: datetime,
) -> str | None:
    reason = _timing_refusal(candidate.start, settings, now)
    if reason:
        return reason
    within = [w for w in working if w.start <= candidate.start and candidate.end <= w.end]
    if not within:
        return "That time is outside the practitioner's working hours."
    # The starts available_slots offers: every step from the start of the working hours.
    step = timedelta(minutes=settings.slot_step_minutes)
    if not any((candidate.start - w.start) % step == timedelta(0) for w in within):
        return "That time is not one of the practitioner's start times."
    if busy.overlaps(candidate):
        return "That time is no longer available."
    return None


def _dates_around(practitioner: User, window: Interval) -> tuple[date, date]:
    zone = practitioner.zone
    return (
        window.start.astimezone(zone).date() - timedelta(days=1),
        window.end.astimezone(zone).date() + timedelta(days=1),
    )


def check_bookable(
    practitioner: User,
    start: datetime,
    duration: timedelta,
    *,
    now: datetime | None = None,
    ignore_session_id: int | None = None,
    service: Service | None = None,
) -> None:
    """Raise SlotUnavailable unless a client may book this practitioner then (for this
    service, under its own policy)."""
    now = now or utcnow()
    settings = policy_for(practitioner.id, service)
    # Refuse times outside the booking window first: near year 1 or 9999 the local
    # dates computed below would not exist.
    reason = _timing_refusal(start, settings, now)
    if reason:
        raise SlotUnavailable(reason, field="start_time")
    candidate = Interval(start, start + duration)
    first, last = _dates_around(practitioner, candidate)
    working = settings.narrow(working_intervals(practitioner, first, last), practitioner.zone)
    buffer = timedelta(minutes=settings.buffer_minutes)
    busy = BusyTimes(busy_intervals(practitioner.id, candidate, buffer, ignore_session_id))
    reason = _refusal(candidate, settings, working, busy, now)
    if reason:
        raise SlotUnavailable(reason, field="start_time")


def check_live(practitioner_id: int, start: datetime, service: Service) -> None:
    """Before a booking's transaction: ask the practitioner's CalDAV calendars whose stored
    busy times are stale whether the slot (with the service's buffer) is still free, and raise
    SlotUnavailable if not. Inside a caller's unit of work it does nothing: its locks may
    be held, and no writer may wait on a remote server; the stored busy times decide."""
    if inside_unit_of_work():
        return
    stale = live.stale_calendars(practitioner_id)
    if not stale:
        return
    practitioner = db.session.get(User, practitioner_id)
    assert practitioner is not None
    buffer = timedelta(minutes=policy_for(practitioner_id, service).buffer_minutes)
    duration = timedelta(minutes=service.duration_minutes)
    if live.busy_now(stale, practitioner.zone, start - buffer, start + duration + buffer):
        raise SlotUnavailable(gettext("That time is no longer available."), field="start_time")


def check_live_slot(service: Service, start_time: datetime | None) -> None:
    """`check_live` for a purchase about to run inside a caller's unit of work (a
    purchase key's): the views call it first, outside any transaction."""
    if (
        service.service_type == ServiceType.INDIVIDUAL
        and start_time is not None
        and start_time.tzinfo is not None
    ):
        check_live(service.primary_practitioner_id, start_time, service)


def available_slots(
    practitioner: User,
    duration: timedelta,
    window_start: datetime,
    window_end: datetime,
    *,
    now: datetime | None = None,
    service: Service | None = None,
) -> list[datetime]:
    """Start instants (UTC) a client may book within [window_start, window_end) (for this
    service, under its own policy)."""
    now = now or utcnow()
    window = Interval(window_start, window_end)
    settings = policy_for(practitioner.id, service)
    first, last = _dates_around(practitioner, window)
    working = settings.narrow(working_intervals(practitioner, first, last), practitioner.zone)
    buffer = timedelta(minutes=settings.buffer_minutes)
    busy = BusyTimes(
        busy_intervals(practitioner.id, Interval(window.start, window.end + duration), buffer, None)
    )
    step = timedelta(minutes=settings.slot_step_minutes)
    slots: list[datetime] = []
    for interval in working:
        start = interval.start
        while start + duration <= interval.end:
            candidate = Interval(start, start + duration)
            if window.start <= start < window.end and not _refusal(
                candidate, settings, [interval], busy, now
            ):
                slots.append(start)
            start += step
    return sorted(set(slots))
