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


def plans_to_switch_to(memberships: list[Membership]) -> list[Service]:
    """The active plans of these memberships' practitioners, to switch to: one query."""
    practitioners = {m.plan.primary_practitioner_id for m in memberships}
    if not practitioners:
        return []
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.primary_practitioner_id.in_(practitioners),
                Service.service_type == ServiceType.MEMBERSHIP,
                Service.is_active,
            )
            .order_by(Service.name)
        )
    )


def other_plans(membership: Membership, plans: list[Service]) -> list[Service]:
    """Of `plans`, the ones this member may switch to: their practitioner's, not their own."""
    return [
        p
        for p in plans
        if p.primary_practitioner_id == membership.plan.primary_practitioner_id
        and p.id != membership.plan_id
    ]


def client_memberships(user: User) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.user_id == user.id)
            .options(selectinload(Membership.plan))
            .order_by(Membership.created_at.desc(), Membership.id.desc())
        )
    )
