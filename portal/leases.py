"""Claiming queued rows under a lease: the one way the outbox and outbound webhooks
hand work to workers.

A queue table has `id`, `next_attempt_at` and `claimed_until`. A worker takes due rows
by one conditional UPDATE that stamps its lease (the claim's token) on them; on
PostgreSQL it picks them FOR UPDATE SKIP LOCKED, so two workers never hold the same
row, and a worker killed mid-batch leaves rows whose lease simply runs out. Outcomes are
recorded by the caller only where `claimed_until` still equals its lease.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, or_, select, update

from .database import utcnow, write_transaction
from .extensions import db

log = logging.getLogger(__name__)

T = TypeVar("T")


def unclaimed(model: Any, now: datetime):
    """No worker holds the row: never claimed, or its lease has run out."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def claim(
    model: Any, *conditions, limit: int, now: datetime, lease: datetime, due_at: Any = None
) -> list[int]:
    """Stamp `lease` on up to `limit` free rows meeting `conditions`, oldest due first
    (by `due_at`, the model's `next_attempt_at` unless given); returns their ids in order."""
    due = (
        select(model.id)
        .where(*conditions, unclaimed(model, now))
        .order_by(model.next_attempt_at if due_at is None else due_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with write_transaction():
        # The repeated condition makes the claim safe where no row lock is taken
        # (SQLite serialises writers instead): a row another worker just leased fails it.
        claimed = db.session.scalars(
            update(model)
            .where(model.id.in_(due.scalar_subquery()), unclaimed(model, now))
            .values(claimed_until=lease)
            .returning(model.id)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(claimed)


def next_claimable(model: Any, pending, now: datetime) -> datetime | None:
    """When a pending row next becomes claimable: its retry time, or the end of the
    lease another (perhaps dead) worker holds it under."""
    waiting = db.session.scalar(
        select(func.min(model.next_attempt_at)).where(pending, unclaimed(model, now))
    )
    leased = db.session.scalar(
        select(func.min(model.claimed_until)).where(pending, model.claimed_until >= now)
    )
    return min((t for t in (waiting, leased) if t is not None), default=None)


def while_leased(rows: Sequence[T], lease: datetime, lease_seconds: float) -> Iterator[T]:
    """Hand out rows only while a good part of the lease is left: past it, another
    worker may have claimed the rest, and sending them too would send them twice."""
    margin = timedelta(seconds=lease_seconds / 3)
    for index, row in enumerate(rows):
        if utcnow() > lease - margin:
            log.info("lease running out: %d row(s) left for the next claim", len(rows) - index)
            return
        yield row
