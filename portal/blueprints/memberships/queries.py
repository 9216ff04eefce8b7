"""Reads for memberships: a practitioner's plans, the plans the shop offers, a client's
memberships."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import (
    ClassPassTerms,
    Membership,
    Service,
    ServiceType,
    User,
)


def own_workshops(practitioner: User) -> list[Service]:
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type == ServiceType.WORKSHOP,
            )
            .order_by(Service.name)
        )
    )


def offered_plan(service_id: int) -> Service | None:
    """An active membership plan as the shop offers it."""
    return db.session.scalar(
        select(Service)
        .where(
            Service.id == service_id,
            Service.is_active,
            Service.service_type == ServiceType.MEMBERSHIP,
        )
        .options(
            selectinload(Service.primary_practitioner),
            selectinload(Service.pass_terms).selectinload(ClassPassTerms.eligible_services),
        )
    )


def other_plans(membership: Membership) -> list[Service]:
    """The active plans of the same practitioner a member may switch to."""
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.primary_practitioner_id == membership.plan.primary_practitioner_id,
                Service.service_type == ServiceType.MEMBERSHIP,
                Service.is_active,
                Service.id != membership.plan_id,
            )
            .order_by(Service.name)
        )
    )


def client_memberships(user: User) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.plan))
            .order_by(Membership.created_at.desc(), Membership.id.desc())
        )
    )
