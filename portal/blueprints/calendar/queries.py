"""Reads for the practitioner's calendar. Each runs a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import booking
from ...database import utcnow
from ...extensions import db
from ...l10n import format_day_range, format_moment
from ...models import Booking, ExternalBusyTime, ServiceSession, SessionStatus, User

PAGE_SIZE = 25


# A session's roster page: its service and each seat's client, read afresh after a change.
ROSTER_LOADS = (
    selectinload(ServiceSession.service),
    selectinload(ServiceSession.bookings).selectinload(Booking.user),
)


def seats_past_cutoff(session: ServiceSession) -> set[int]:
    """Ids of the session's bookings whose client can no longer cancel them online."""
    now = utcnow()
    return {b.id for b in session.bookings if booking.cutoff_passed(b, now)}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)


def sessions_between(practitioner_id: int, first_day: date, end_day: date, zone: ZoneInfo):
    """Sessions touching the local days [first_day, end_day), with service and attendees."""
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.practitioner_id == practitioner_id,
                ServiceSession.start_time < local_midnight(end_day, zone),
                ServiceSession.end_time > local_midnight(first_day, zone),
            )
            .options(
                selectinload(ServiceSession.service),
                selectinload(ServiceSession.bookings).selectinload(Booking.user),
            )
            .order_by(ServiceSession.start_time, ServiceSession.id)
        )
    )


@dataclass(frozen=True)
class BusySpan:
    """Time the practitioner's own calendars hold: shown greyed, never with a title."""

    start_time: datetime
    end_time: datetime


def busy_between(practitioner_id: int, first_day: date, end_day: date, zone: ZoneInfo):
    """The stored busy times touching the local days [first_day, end_day), overlapping
    ones (several calendars, a series and its exception) merged into one span."""
    start, end = local_midnight(first_day, zone), local_midnight(end_day, zone)
    rows = db.session.execute(
        select(ExternalBusyTime.start_time, ExternalBusyTime.end_time)
        .where(
            ExternalBusyTime.practitioner_id == practitioner_id,
            ExternalBusyTime.start_time < end,
            ExternalBusyTime.end_time > start,
        )
        .order_by(ExternalBusyTime.start_time)
    ).all()
    merged: list[BusySpan] = []
    for row_start, row_end in rows:
        row_start, row_end = max(row_start, start), min(row_end, end)
        if merged and row_start <= merged[-1].end_time:
            last = merged.pop()
            merged.append(BusySpan(last.start_time, max(last.end_time, row_end)))
        else:
            merged.append(BusySpan(row_start, row_end))
    return merged


def busy_by_day(spans: list[BusySpan], days: list[date], zone: ZoneInfo) -> dict:
    """Each span cut at local midnights, listed under the day it falls on."""
    found: dict[date, list[BusySpan]] = {d: [] for d in days}
    for span in spans:
        start = span.start_time
        while start < span.end_time:
            local_day = start.astimezone(zone).date()
            midnight = local_midnight(local_day + timedelta(days=1), zone)
            end = min(span.end_time, midnight)
            if local_day in found:
                found[local_day].append(BusySpan(start, end))
            start = end
    return found


def place_busy(by_day: dict, days: list[date], zone: ZoneInfo, first_hour: int, last_hour: int):
    """Busy spans on the week grid, clipped to the hours shown: an all-day event greys
    the day's column without stretching the grid to midnight."""
    placed = []
    for column, day in enumerate(days):
        top = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=first_hour)
        bottom = datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(
            hours=last_hour
        )
        for span in by_day.get(day, []):
            start = max(span.start_time.astimezone(zone), top)
            end = min(span.end_time.astimezone(zone), bottom)
            if end <= start:
                continue
            row = (start.hour - first_hour) * 2 + start.minute // 30
            minutes = max(30, int((end - start).total_seconds() // 60))
            placed.append(Placed(span, column, row, -(-minutes // 30)))
    return placed


@dataclass
class Placed:
    """A session (or a busy span) placed on the week grid: which day column and which
    half-hour rows."""

    item: ServiceSession | BusySpan
    column: int
    row: int
    span: int
    # Events overlapping in one day column are offset into lanes so each stays clickable.
    lane: int = 0


def place_week(sessions, days: list[date], zone: ZoneInfo) -> tuple[list[Placed], int, int]:
    """Grid placement and the hour range shown (07:00-21:00, widened to fit every event)."""
    first_hour, last_hour = 7, 21
    spans = []
    for session in sessions:
        start = session.start_time.astimezone(zone)
        end = session.end_time.astimezone(zone)
        if start.date() < days[0]:
            start = datetime.combine(days[0], datetime.min.time(), tzinfo=zone)
        if end.date() > start.date():
            end = datetime.combine(
                start.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone
            )
        last = 24 if end.date() > start.date() else end.hour + (1 if end.minute else 0)
        first_hour, last_hour = min(first_hour, start.hour), max(last_hour, last)
        spans.append((session, start, end))
    placed = []
    for session, start, end in spans:
        row = (start.hour - first_hour) * 2 + start.minute // 30
        minutes = max(30, int((end - start).total_seconds() // 60))
        placed.append(Placed(session, (start.date() - days[0]).days, row, -(-minutes // 30)))
    for index, item in enumerate(placed):
        taken = {
            earlier.lane
            for earlier in placed[:index]
            if earlier.column == item.column and earlier.row + earlier.span > item.row
        }
        item.lane = min(set(range(len(taken) + 1)) - taken)
    return placed, first_hour, last_hour


def calendar_layout(owner: User, view: str, day: date) -> dict:
    """The days, sessions and grid placement of the day, week or month around `day`."""
    zone = owner.zone
    if view == "day":
        first, end = day, day + timedelta(days=1)
        prev_day, next_day = day - timedelta(days=1), end
        title = format_moment(day, "weekday-date")
    elif view == "month":
        first_of_month = day.replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        next_month = (first_of_month + timedelta(days=32)).replace(day=1)
        end = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
        prev_day = (first_of_month - timedelta(days=1)).replace(day=1)
        next_day = next_month
        title = format_moment(first_of_month, "month")
    else:
        first = day - timedelta(days=day.weekday())
        end = first + timedelta(days=7)
        prev_day, next_day = first - timedelta(days=7), end
        title = format_day_range(first, end - timedelta(days=1))
    days = [first + timedelta(days=n) for n in range((end - first).days)]
    sessions = sessions_between(owner.id, first, end, zone)
    by_day: dict[date, list] = {d: [] for d in days}
    for session in sessions:
        local_day = session.start_time.astimezone(zone).date()
        by_day.setdefault(max(local_day, first), []).append(session)
    placed, first_hour, last_hour = (
        place_week(sessions, days, zone) if view == "week" else ([], 0, 0)
    )
    busy_days = busy_by_day(busy_between(owner.id, first, end, zone), days, zone)
    return {
        "view": view,
        "day": day,
        "days": days,
        "month": day.month,
        "title": title,
        "today": datetime.now(zone).date(),
        "prev_day": prev_day,
        "next_day": next_day,
        "by_day": by_day,
        "placed": placed,
        "busy_by_day": busy_days,
        "placed_busy": place_busy(busy_days, days, zone, first_hour, last_hour)
        if view == "week"
        else [],
        "hours": list(range(first_hour, last_hour)),
    }


def session_list(practitioner_id: int, when: str, page: int) -> tuple[list[ServiceSession], bool]:
    """The seed's upcoming and past queries, a page at a time; True if there is more."""
    now = utcnow()
    query = (
        select(ServiceSession)
        .where(ServiceSession.practitioner_id == practitioner_id)
        .options(selectinload(ServiceSession.service))
    )
    if when == "past":
        query = query.where(
            ServiceSession.start_time < now, ServiceSession.status != SessionStatus.CANCELED
        ).order_by(ServiceSession.start_time.desc())
    else:
        query = query.where(
            ServiceSession.status == SessionStatus.SCHEDULED, ServiceSession.start_time >= now
        ).order_by(ServiceSession.start_time)
    rows = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
