"""Reading the audit log: who may see which entries, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import AuditAction, AuditEntry, User

PAGE = 50

# What a client may learn of the log: who opened their record.
READS = (AuditAction.NOTE_READ, AuditAction.CLIENT_RECORD_READ)


@dataclass(frozen=True)
class AuditFilters:
    action: AuditAction | None = None
    object_type: str | None = None
    object_id: int | None = None
    actor_id: int | None = None
    before: int | None = None  # the seq the page starts below (newest first)


def visible_to(viewer: User) -> Select:
    """The one rule: staff read every entry, a practitioner the entries of their own objects,
    a client the reads of their own record."""
    query = select(AuditEntry)
    if viewer.is_staff:
        return query
    if viewer.is_practitioner:
        return query.where(AuditEntry.practitioner_id == viewer.id)
    return query.where(AuditEntry.client_id == viewer.id, AuditEntry.action.in_(READS))


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    actor_name: str | None


def audit_page(viewer: User, filters: AuditFilters) -> tuple[list[AuditRow], int | None]:
    """One page, newest first, with each actor's name (one query), and the seq the next
    page starts below (None on the last page)."""
    actor = aliased(User)
    inner = visible_to(viewer).subquery()
    entry = aliased(AuditEntry, inner)
    query = select(entry, actor.name).outerjoin(actor, actor.id == entry.actor_id)
    if filters.action:
        query = query.where(entry.action == filters.action)
    if filters.object_type:
        query = query.where(entry.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(entry.object_id == filters.object_id)
    if filters.actor_id is not None:
        query = query.where(entry.actor_id == filters.actor_id)
    if filters.before is not None:
        query = query.where(entry.seq < filters.before)
    rows = db.session.execute(query.order_by(entry.seq.desc()).limit(PAGE + 1)).all()
    page = [AuditRow(e, name) for e, name in rows[:PAGE]]
    more = len(rows) > PAGE
    return page, (page[-1].entry.seq if more else None)


OBJECT_TYPES = ("booking", "order", "session", "service", "user", "session_note", "client")
