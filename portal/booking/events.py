"""Outbound webhook events, written into the caller's unit of work.

This module only inserts rows: an event and, by one INSERT ... SELECT, a delivery for
each enabled endpoint of an active account that subscribed to its type and may see it
(the session's practitioner's own endpoints, and every staff member's). It runs inside the domain
operation's transaction, so a rolled-back change emits nothing and a committed one
always has its deliveries waiting for the worker (portal/webhooks_out/delivery.py).
When no endpoint wants the event, one indexed read is its whole cost.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, insert, literal, or_, select

from ..extensions import db
from ..models import (
    AttendanceStatus,
    Booking,
    BookingStatus,
    DeliveryStatus,
    Role,
    ServiceSession,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)
from ..models.webhooks_out import new_message_id

log = logging.getLogger(__name__)

# Set on the session when deliveries are queued; the worker is woken after the commit.
WEBHOOKS_WRITTEN = "portal_webhooks_written"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _receiving_endpoints(event_type: WebhookEventType, practitioner_id: int | None):
    """The endpoints an event of this type about this practitioner's session goes to."""
    return (
        select(WebhookEndpoint.id)
        .join(WebhookSubscription, WebhookSubscription.endpoint_id == WebhookEndpoint.id)
        .join(User, User.id == WebhookEndpoint.user_id)
        .where(
            WebhookSubscription.event_type == event_type,
            WebhookEndpoint.disabled_at.is_(None),
            # A deactivated owner's endpoints are paused: they hear nothing new.
            User.is_active_account.is_(True),
            or_(User.role == Role.STAFF, WebhookEndpoint.user_id == practitioner_id),
        )
    )


def session_listeners():
    """Whether any enabled endpoint may receive events about a session (correlated with
    the ServiceSession row the lock reads): staff's always may, a practitioner's for
    their own sessions. Written to be read from the endpoints table, where the answer
    usually is "none", so the seat lock never scans users for it. It may say yes for a
    deactivated owner's endpoint: `wanted` then decides exactly, at the cost of a query."""
    owned_by_staff = select(User.id).where(
        User.id == WebhookEndpoint.user_id, User.role == Role.STAFF
    )
    return exists(
        select(WebhookEndpoint.id).where(
            WebhookEndpoint.disabled_at.is_(None),
            or_(
                WebhookEndpoint.user_id == ServiceSession.practitioner_id,
                exists(owned_by_staff),
            ),
        )
    )


def wanted(
    event_type: WebhookEventType, practitioner_id: int | None, session: ServiceSession
) -> bool:
    """Whether any endpoint takes this event: callers build no payload when none does.
    A session whose lock said nobody listens needs no query."""
    return wanted_by(event_type, practitioner_id, session.webhook_listeners)


def wanted_by(
    event_type: WebhookEventType, practitioner_id: int | None, listeners: bool | None
) -> bool:
    """`wanted`, given what the session's lock read of its listeners (None: not read)."""
    if listeners is False:
        return False
    return bool(
        db.session.scalar(select(exists(_receiving_endpoints(event_type, practitioner_id))))
    )


def emit(
    event_type: WebhookEventType,
    *,
    practitioner_id: int | None,
    data: dict,
    now: datetime,
    endpoint_id: int | None = None,
) -> int:
    """Queue one event for every endpoint that wants it (or, with `endpoint_id`, for
    that endpoint only: a test ping); returns the event's id."""
    receivers = _receiving_endpoints(event_type, practitioner_id)
    if endpoint_id is not None:
        receivers = select(WebhookEndpoint.id).where(WebhookEndpoint.id == endpoint_id)
    # The Standard Webhooks payload shape: type, timestamp, data.
    payload = {"type": event_type.value, "timestamp": now.isoformat(), "data": data}
    event_id = db.session.execute(
        insert(WebhookEvent)
        .values(
            message_id=new_message_id(),
            event_type=event_type,
            practitioner_id=practitioner_id,
            payload=payload,
            created_at=now,
        )
        .returning(WebhookEvent.id)
    ).scalar_one()
    db.session.execute(
        insert(WebhookDelivery).from_select(
            ["event_id", "endpoint_id", "status", "attempts", "next_attempt_at", "created_at"],
            select(
                literal(event_id),
                receivers.subquery().c.id,
                literal(DeliveryStatus.PENDING.value),
                literal(0),
                literal(now, WebhookDelivery.next_attempt_at.type),
                literal(now, WebhookDelivery.created_at.type),
            ),
        )
    )
    db.session.info[WEBHOOKS_WRITTEN] = True
    log.info(
        "webhook event %s %s queued (practitioner %s)", event_type.value, event_id, practitioner_id
    )
    return event_id


def booking_data(
    *,
    booking_id: int,
    status: BookingStatus,
    client_id: int,
    order_id: int | None,
    service_id: int,
    session_id: int,
    practitioner_id: int,
    start_time: datetime | None,
    end_time: datetime | None,
) -> dict:
    """A booking event's data, from values (the express path holds no objects)."""
    return {
        "booking_id": booking_id,
        "status": status.value,
        "client_id": client_id,
        "order_id": order_id,
        "service_id": service_id,
        "session_id": session_id,
        "practitioner_id": practitioner_id,
        "start_time": _iso(start_time),
        "end_time": _iso(end_time),
    }


def booking_event(
    event_type: WebhookEventType,
    booking: Booking,
    session: ServiceSession,
    now: datetime,
    **extra: object,
) -> None:
    if not wanted(event_type, session.practitioner_id, session):
        return
    data = booking_data(
        booking_id=booking.id,
        status=booking.status,
        client_id=booking.user_id,
        order_id=booking.order_id,
        service_id=booking.service_id,
        session_id=session.id,
        practitioner_id=session.practitioner_id,
        start_time=session.start_time,
        end_time=session.end_time,
    )
    emit(event_type, practitioner_id=session.practitioner_id, data={**data, **extra}, now=now)


def session_canceled(session: ServiceSession, booking_ids: list[int], now: datetime) -> None:
    if not wanted(WebhookEventType.SESSION_CANCELED, session.practitioner_id, session):
        return
    emit(
        WebhookEventType.SESSION_CANCELED,
        practitioner_id=session.practitioner_id,
        data={
            "session_id": session.id,
            "service_id": session.service_id,
            "practitioner_id": session.practitioner_id,
            "start_time": _iso(session.start_time),
            "end_time": _iso(session.end_time),
            "canceled_booking_ids": booking_ids,
        },
        now=now,
    )


def attendance_recorded(
    session: ServiceSession,
    *,
    booking_id: int,
    client_id: int,
    outcome: AttendanceStatus,
    overridden: bool,
    total_seconds: int,
    now: datetime,
) -> None:
    if not wanted(WebhookEventType.ATTENDANCE_RECORDED, session.practitioner_id, session):
        return
    emit(
        WebhookEventType.ATTENDANCE_RECORDED,
        practitioner_id=session.practitioner_id,
        data={
            "booking_id": booking_id,
            "client_id": client_id,
            "session_id": session.id,
            "practitioner_id": session.practitioner_id,
            "outcome": outcome.value,
            "no_show": outcome == AttendanceStatus.NO_SHOW,
            "overridden": overridden,
            "total_seconds": total_seconds,
        },
        now=now,
    )
