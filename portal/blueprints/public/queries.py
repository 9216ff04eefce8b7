"""Reads for the public pages: only what a practitioner offers publicly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    Service,
    ServiceComponent,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
)

TYPE_ORDER = list(ServiceType)


def offered_services(practitioner: User) -> list[Service]:
    """Active services with what each includes, in two queries whatever their number."""
    services = db.session.scalars(
        select(Service)
        .where(Service.primary_practitioner_id == practitioner.id, Service.is_active)
        .options(selectinload(Service.components).selectinload(ServiceComponent.included_service))
        .order_by(Service.name)
    ).all()
    return sorted(services, key=lambda s: TYPE_ORDER.index(s.service_type))


def listed_service_ids(practitioner_ids: list[int]) -> dict[int, list[int]]:
    """Each practitioner's active services' ids, in one query whatever their number."""
    ids: dict[int, list[int]] = {user_id: [] for user_id in practitioner_ids}
    rows = db.session.execute(
        select(Service.primary_practitioner_id, Service.id)
        .where(Service.primary_practitioner_id.in_(practitioner_ids), Service.is_active)
        .order_by(Service.primary_practitioner_id, Service.name)
    )
    for user_id, service_id in rows:
        ids[user_id].append(service_id)
    return ids


def dated_sessions(services: list[Service], now: datetime) -> dict[int, list[ServiceSession]]:
    """Course dates (all of them) and upcoming workshop dates, public ones only, in one query."""
    ids = [s.id for s in services if s.service_type in (ServiceType.COURSE, ServiceType.WORKSHOP)]
    if not ids:
        return {}
    rows = db.session.scalars(
        select(ServiceSession)
        .join(Service, Service.id == ServiceSession.service_id)
        .where(
            ServiceSession.service_id.in_(ids),
            ServiceSession.status == SessionStatus.SCHEDULED,
            ServiceSession.visibility == Visibility.PUBLIC,
            (Service.service_type == ServiceType.COURSE) | (ServiceSession.start_time > now),
        )
        .order_by(ServiceSession.start_time)
    )
    by_service: dict[int, list[ServiceSession]] = {}
    for row in rows:
        by_service.setdefault(row.service_id, []).append(row)
    return by_service
