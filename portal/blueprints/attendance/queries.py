"""Reads of the attendance pages that are not domain rules."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ...booking import booking_rows
from ...database import utcnow
from ...extensions import db
from ...models import AttendanceKind, Service, ServiceSession, ServiceType, SessionStatus

RECENT_LIMIT = 50


def recent_sessions(practitioner_id: int | None) -> list[tuple[ServiceSession, int, int, int]]:
    """The latest sessions that have started, each with booked / attended / no-show counts."""
    now = utcnow()
    query = (
        select(ServiceSession)
        .where(
            ServiceSession.status.in_((SessionStatus.IN_PROGRESS, SessionStatus.COMPLETED)),
            # A room may open (and even close) before the scheduled start.
            func.coalesce(ServiceSession.actual_start_time, ServiceSession.start_time) <= now,
        )
        .options(selectinload(ServiceSession.service), selectinload(ServiceSession.practitioner))
        .order_by(ServiceSession.start_time.desc(), ServiceSession.id.desc())
        .limit(RECENT_LIMIT)
    )
    if practitioner_id is not None:
        query = query.where(ServiceSession.practitioner_id == practitioner_id)
    sessions = db.session.scalars(query).all()
    if not sessions:
        return []
    rows = booking_rows(
        now, [ServiceSession.id.in_([s.id for s in sessions])], detail=False
    ).subquery()
    counts = {
        row.session_id: row
        for row in db.session.execute(
            select(
                rows.c.session_id,
                func.count().label("booked"),
                func.sum(case((rows.c.kind == AttendanceKind.ATTENDED, 1), else_=0)).label(
                    "attended"
                ),
                func.sum(case((rows.c.kind == AttendanceKind.NO_SHOW, 1), else_=0)).label(
                    "no_shows"
                ),
            ).group_by(rows.c.session_id)
        )
    }
    result = []
    for session in sessions:
        row = counts.get(session.id)
        result.append(
            (
                session,
                row.booked if row else 0,
                int(row.attended or 0) if row else 0,
                int(row.no_shows or 0) if row else 0,
            )
        )
    return result


def report_services(practitioner_id: int | None) -> list[Service]:
    """Every service by name, or only the practitioner's."""
    query = select(Service).order_by(Service.name)
    if practitioner_id is not None:
        query = query.where(Service.primary_practitioner_id == practitioner_id)
    return list(db.session.scalars(query))


def courses_with_counts(practitioner_id: int | None) -> list[tuple[Service, int, int]]:
    """Courses (all, or the practitioner's) with their sessions not canceled and completed."""
    completed = func.sum(case((ServiceSession.status == SessionStatus.COMPLETED, 1), else_=0))
    query = (
        select(Service, func.count(ServiceSession.id), completed)
        .outerjoin(
            ServiceSession,
            (ServiceSession.service_id == Service.id)
            & (ServiceSession.status != SessionStatus.CANCELED),
        )
        .where(Service.service_type == ServiceType.COURSE)
        .group_by(Service.id)
        .options(selectinload(Service.primary_practitioner))
        .order_by(Service.name)
    )
    if practitioner_id is not None:
        query = query.where(Service.primary_practitioner_id == practitioner_id)
    return list(db.session.execute(query).all())
