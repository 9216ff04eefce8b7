"""Reads for class passes: what a practitioner may name, a client's passes, and the sessions
one of them can be spent on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ... import booking
from ...extensions import db
from ...models import (
    SEAT_HOLDING,
    Booking,
    ClassPass,
    ClassPassTerms,
    Service,
    ServiceSession,
    ServiceTag,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
    class_pass_eligible_services,
)

# A pass page lists this many coming sessions at most (the next weeks of a studio's timetable).
SESSIONS_SHOWN = 60


def offered_pass(service_id: int) -> Service | None:
    """An active class pass as the shop offers it."""
    return db.session.scalar(
        select(Service)
        .where(
            Service.id == service_id,
            Service.is_active,
            Service.service_type == ServiceType.CLASS_PASS,
        )
        .options(
            selectinload(Service.primary_practitioner),
            selectinload(Service.pass_terms).selectinload(ClassPassTerms.eligible_services),
        )
    )


PASS_LOADS = (
    selectinload(ClassPass.order),
    selectinload(ClassPass.eligible_services),
    selectinload(ClassPass.service).selectinload(Service.primary_practitioner),
)


def client_passes(user: User) -> list[ClassPass]:
    """The client's passes, newest first (a membership's periods are on its own page)."""
    return list(
        db.session.scalars(
            select(ClassPass)
            .join(Service, Service.id == ClassPass.service_id)
            .where(ClassPass.user_id == user.id, Service.service_type == ServiceType.CLASS_PASS)
            .options(*PASS_LOADS)
            .order_by(ClassPass.created_at.desc(), ClassPass.id.desc())
        )
    )


def eligible_sessions(class_pass: ClassPass, now: datetime) -> list[ServiceSession]:
    """The coming public sessions this pass can be spent on (as sold), soonest first."""
    named = select(class_pass_eligible_services.c.service_id).where(
        class_pass_eligible_services.c.class_pass_id == class_pass.id
    )
    eligible = [Service.id.in_(named)]
    if class_pass.eligible_tag:
        eligible.append(
            Service.id.in_(
                select(ServiceTag.service_id).where(ServiceTag.tag == class_pass.eligible_tag)
            )
        )
    return list(
        db.session.scalars(
            select(ServiceSession)
            .join(Service, Service.id == ServiceSession.service_id)
            .where(
                Service.primary_practitioner_id == class_pass.service.primary_practitioner_id,
                Service.service_type.in_(booking.PASS_SERVICE_TYPES),
                Service.is_active,
                or_(*eligible),
                ServiceSession.visibility == Visibility.PUBLIC,
                ServiceSession.status == SessionStatus.SCHEDULED,
                ServiceSession.start_time > now,
            )
            .options(selectinload(ServiceSession.service))
            .order_by(ServiceSession.start_time, ServiceSession.id)
            .limit(SESSIONS_SHOWN)
        )
    )


def my_seats(user: User, session_ids: list[int]) -> set[int]:
    if not session_ids:
        return set()
    return set(
        db.session.scalars(
            select(Booking.service_session_id).where(
                Booking.user_id == user.id,
                Booking.service_session_id.in_(session_ids),
                Booking.status.in_(SEAT_HOLDING),
            )
        )
    )
