"""Row locks: the order in which writers meet, so two of them never both decide.

A writer that decides an order (paying it, releasing its expired hold, scheduling
one of its credits) locks the order before the sessions its bookings sit in (the
booking triggers write those session rows). A writer that starts from a session
(taking a seat) meets other orders only through hold release, which skips an
order someone holds instead of waiting for it (holds.release_expired_holds), so
the two directions never wait on each other. Sessions are locked in id order. A
practitioner's receipt counter is locked last of all, when a money movement is recorded
(ledger.record_movement).

On SQLite the unit of work already holds the database write lock, and FOR UPDATE
is not rendered.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload, with_expression

from ..extensions import db
from ..models import Order, Service, ServiceSession, User
from .events import session_listeners

_sessions, _services = ServiceSession.__table__, Service.__table__

# The seat purchase's read (express.py): one session row with what a seat purchase
# decides on (its service's columns, whether anyone listens for its webhooks), and the
# same read locked. Built once: the hottest statements of all are not rebuilt, nor their
# cache keys recomputed, per request.
SEAT_READ = (
    select(
        *(_sessions.c[name] for name in ("id", "service_id", "practitioner_id", "visibility")),
        *(_sessions.c[name] for name in ("status", "title", "sequence_number", "start_time")),
        *(_sessions.c[name] for name in ("end_time", "current_participants", "max_participants")),
        _services.c.service_type,
        _services.c.is_active,
        _services.c.name.label("service_name"),
        _services.c.price_cents,
        _services.c.currency,
        _services.c.primary_practitioner_id,
        # The payment policy decides the order's terms (seats.order_terms).
        _services.c.payment_policy,
        _services.c.deposit_cents,
        _services.c.deposit_percent,
        session_listeners().label("webhook_listeners"),
    )
    .join_from(_sessions, _services, _services.c.id == _sessions.c.service_id)
    .where(_sessions.c.id == bindparam("session_id"))
)
SEAT_LOCK = SEAT_READ.with_for_update(of=_sessions)


def lock_sessions(session_ids: list[int]) -> dict[int, ServiceSession]:
    """Row-lock sessions in id order (no deadlocks between two multi-session buyers)."""
    rows = db.session.scalars(
        select(ServiceSession)
        .options(with_expression(ServiceSession.webhook_listeners, session_listeners()))
        .where(ServiceSession.id.in_(session_ids))
        .order_by(ServiceSession.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def lock_session_with_service(session_id: int) -> ServiceSession | None:
    """Row-lock one session and load its service in the same statement (the hot
    path of a seat purchase: one round trip instead of a read, then a lock)."""
    return db.session.scalars(
        select(ServiceSession)
        .options(
            joinedload(ServiceSession.service, innerjoin=True),
            with_expression(ServiceSession.webhook_listeners, session_listeners()),
        )
        .where(ServiceSession.id == session_id)
        .with_for_update(of=ServiceSession)
        .execution_options(populate_existing=True)
    ).one_or_none()


def lock_practitioner(practitioner_id: int) -> User:
    """Serializes everything that places sessions on one practitioner's calendar."""
    return db.session.scalars(
        select(User)
        .where(User.id == practitioner_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_order(order_id: int) -> Order:
    """Row-lock an order and read its bookings as they are now, not as this
    session last saw them: whoever held the lock before may have moved them."""
    return db.session.scalars(
        select(Order)
        .options(selectinload(Order.bookings), selectinload(Order.payments))
        .where(Order.id == order_id)
        .with_for_update(of=Order)
        .execution_options(populate_existing=True)
    ).one()
