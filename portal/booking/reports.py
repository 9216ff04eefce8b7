"""No-show and course-completion reports, computed by the database.

Every figure is a GROUP BY over booking_rows() (attendance.py), so a report
runs a fixed number of queries whatever the number of bookings, and no booking
is loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Float, and_, case, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from ..core.sql import as_date, week_start
from ..database import utcnow
from ..extensions import db
from ..models import (
    AttendanceKind,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
)
from .attendance import booking_rows, reportable_bookings

REPEAT_NO_SHOWS = 2
# The widest range a report covers (the page and the API refuse wider ones).
MAX_RANGE = timedelta(days=731)
SORT_KEYS = ("name", "booked", "attended", "no_shows", "rate", "late_cancels")


@dataclass(frozen=True)
class ReportFilters:
    """Sessions starting in [start, end) (UTC instants), optionally one practitioner/service."""

    start: datetime
    end: datetime
    practitioner_id: int | None = None
    service_id: int | None = None
    sort: str = "no_shows"
    descending: bool = True

    def session_criteria(self) -> list[ColumnElement]:
        criteria = [ServiceSession.start_time >= self.start, ServiceSession.start_time < self.end]
        if self.practitioner_id is not None:
            criteria.append(ServiceSession.practitioner_id == self.practitioner_id)
        if self.service_id is not None:
            criteria.append(ServiceSession.service_id == self.service_id)
        return criteria


@dataclass(frozen=True)
class ReportRow:
    key: int | date
    name: str
    detail: str
    booked: int
    attended: int
    no_shows: int
    late_cancels: int

    @property
    def rate(self) -> float | None:
        """No-shows per confirmed seat of a completed session (late cancels not counted)."""
        return self.no_shows / self.booked if self.booked else None

    @property
    def repeat_no_show(self) -> bool:
        return self.no_shows >= REPEAT_NO_SHOWS


@dataclass(frozen=True)
class NoShowReport:
    filters: ReportFilters
    by_service: list[ReportRow]
    by_client: list[ReportRow]
    weekly: list[ReportRow]

    @property
    def total(self) -> ReportRow:
        rows = self.by_service
        return ReportRow(
            key=0,
            name="All",
            detail="",
            booked=sum(r.booked for r in rows),
            attended=sum(r.attended for r in rows),
            no_shows=sum(r.no_shows for r in rows),
            late_cancels=sum(r.late_cancels for r in rows),
        )


def _rows_subquery(filters: ReportFilters, now: datetime):
    return booking_rows(
        now, filters.session_criteria(), [reportable_bookings()], detail=False
    ).subquery("report_rows")


def _counts(rows):
    def count(kind: AttendanceKind):
        return func.sum(case((rows.c.kind == kind, 1), else_=0))

    attended, no_shows, late = (
        count(AttendanceKind.ATTENDED),
        count(AttendanceKind.NO_SHOW),
        count(AttendanceKind.LATE_CANCEL),
    )
    booked = attended + no_shows
    rate = cast(no_shows, Float) / func.nullif(booked, 0)
    return {
        "booked": booked.label("booked"),
        "attended": attended.label("attended"),
        "no_shows": no_shows.label("no_shows"),
        "late_cancels": late.label("late_cancels"),
        "rate": rate,
    }


def _order(
    counts: dict, name: ColumnElement | InstrumentedAttribute, filters: ReportFilters
) -> list:
    key = name if filters.sort == "name" else counts.get(filters.sort, counts["no_shows"])
    primary = key.desc() if filters.descending else key.asc()
    # NULL rates (nothing booked) sort last both ways on both backends.
    return [primary.nulls_last(), name.asc()]


def _report_rows(result, detail_index: int | None = None) -> list[ReportRow]:
    return [
        ReportRow(
            key=row.key,
            name=row.name,
            detail=row.detail if detail_index is not None else "",
            booked=int(row.booked or 0),
            attended=int(row.attended or 0),
            no_shows=int(row.no_shows or 0),
            late_cancels=int(row.late_cancels or 0),
        )
        for row in result
    ]


def rows_by_service(filters: ReportFilters, *, now: datetime | None = None) -> list[ReportRow]:
    rows = _rows_subquery(filters, now or utcnow())
    counts = _counts(rows)
    statement = (
        select(
            Service.id.label("key"),
            Service.name.label("name"),
            User.name.label("detail"),
            counts["booked"],
            counts["attended"],
            counts["no_shows"],
            counts["late_cancels"],
        )
        .select_from(rows)
        .join(Service, Service.id == rows.c.service_id)
        .join(User, User.id == Service.primary_practitioner_id)
        .group_by(Service.id, Service.name, User.name)
        .order_by(*_order(counts, Service.name, filters))
    )
    return _report_rows(db.session.execute(statement), detail_index=2)


def rows_by_client(filters: ReportFilters, *, now: datetime | None = None) -> list[ReportRow]:
    rows = _rows_subquery(filters, now or utcnow())
    counts = _counts(rows)
    statement = (
        select(
            User.id.label("key"),
            User.name.label("name"),
            User.email.label("detail"),
            counts["booked"],
            counts["attended"],
            counts["no_shows"],
            counts["late_cancels"],
        )
        .select_from(rows)
        .join(User, User.id == rows.c.user_id)
        .group_by(User.id, User.name, User.email)
        .order_by(*_order(counts, User.name, filters))
    )
    return _report_rows(db.session.execute(statement), detail_index=2)


def weekly_rows(filters: ReportFilters, *, now: datetime | None = None) -> list[ReportRow]:
    """One row per week (Monday, UTC) of the range, weeks without bookings included."""
    rows = _rows_subquery(filters, now or utcnow())
    counts = _counts(rows)
    week = week_start(rows.c.start_time)
    statement = (
        select(
            week.label("week"),
            counts["booked"],
            counts["attended"],
            counts["no_shows"],
            counts["late_cancels"],
        )
        .select_from(rows)
        .group_by(week)
    )
    found = {as_date(row.week): row for row in db.session.execute(statement)}
    first = filters.start.date() - timedelta(days=filters.start.weekday())
    weeks: list[ReportRow] = []
    monday = first
    while datetime.combine(monday, datetime.min.time(), filters.start.tzinfo) < filters.end:
        row = found.get(monday)
        weeks.append(
            ReportRow(
                key=monday,
                name=monday.isoformat(),
                detail="",
                booked=int(row.booked or 0) if row else 0,
                attended=int(row.attended or 0) if row else 0,
                no_shows=int(row.no_shows or 0) if row else 0,
                late_cancels=int(row.late_cancels or 0) if row else 0,
            )
        )
        monday += timedelta(weeks=1)
    return weeks


def noshow_report(filters: ReportFilters, *, now: datetime | None = None) -> NoShowReport:
    """The whole report: three GROUP BY queries."""
    now = now or utcnow()
    return NoShowReport(
        filters=filters,
        by_service=rows_by_service(filters, now=now),
        by_client=rows_by_client(filters, now=now),
        weekly=weekly_rows(filters, now=now),
    )


# --- Course completion -------------------------------------------------------------


@dataclass(frozen=True)
class CompletionRow:
    user_id: int
    name: str
    email: str
    attended: int
    completed: int

    @property
    def rate(self) -> float | None:
        """attended ÷ completed sessions of the course, as a percentage."""
        return 100 * self.attended / self.completed if self.completed else None


def course_completion(course: Service, *, now: datetime | None = None) -> list[CompletionRow]:
    """Each enrollee (a confirmed seat in any session of the course) with attended/completed.

    Attendance comes from RoomParticipant room time (or a recorded, possibly
    overridden, outcome); one query.
    """
    if course.service_type != ServiceType.COURSE:
        return []
    rows = booking_rows(
        now or utcnow(), [ServiceSession.service_id == course.id], detail=False
    ).subquery()
    completed = (
        select(func.count(ServiceSession.id))
        .where(
            ServiceSession.service_id == course.id,
            ServiceSession.status == SessionStatus.COMPLETED,
        )
        .scalar_subquery()
    )
    attended_completed = and_(
        rows.c.kind == AttendanceKind.ATTENDED, rows.c.session_status == SessionStatus.COMPLETED
    )
    attended = func.sum(case((attended_completed, 1), else_=0))
    statement = (
        select(
            User.id,
            User.name,
            User.email,
            attended.label("attended"),
            completed.label("completed"),
        )
        .select_from(rows)
        .join(User, User.id == rows.c.user_id)
        .group_by(User.id, User.name, User.email)
        .order_by(User.name, User.id)
    )
    return [
        CompletionRow(
            user_id=row.id,
            name=row.name,
            email=row.email,
            attended=int(row.attended or 0),
            completed=int(row.completed or 0),
        )
        for row in db.session.execute(statement)
    ]
