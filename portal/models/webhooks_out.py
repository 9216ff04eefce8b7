"""Outbound webhooks: the endpoints people register, the events the domain writes,
and one delivery per event and endpoint with the log of its attempts.

The event and its deliveries are inserted in the unit of work of the change they
describe (portal/booking/events.py), so a rolled-back change leaves nothing to send,
and a committed one always has its rows. An event's `message_id` is the webhook-id
the receiver sees on every try, so a retry after a crash is recognisable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .users import User


class WebhookEventType(StrEnum):
    BOOKING_CREATED = "booking.created"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_CANCELED = "booking.canceled"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    SESSION_CANCELED = "session.canceled"
    # Carries the outcome and `no_show`, so a receiver can act on a missed session.
    ATTENDANCE_RECORDED = "attendance.recorded"
    # The owner's "send a test" button; nobody subscribes to it.
    PING = "webhook.ping"


set_labels(
    WebhookEventType,
    {
        WebhookEventType.BOOKING_CREATED: lazy_gettext("Booking created"),
        WebhookEventType.BOOKING_CONFIRMED: lazy_gettext("Booking confirmed (paid)"),
        WebhookEventType.BOOKING_CANCELED: lazy_gettext("Booking canceled"),
        WebhookEventType.BOOKING_RESCHEDULED: lazy_gettext("Booking rescheduled"),
        WebhookEventType.SESSION_CANCELED: lazy_gettext("Session canceled"),
        WebhookEventType.ATTENDANCE_RECORDED: lazy_gettext("Attendance recorded (with no-show)"),
        WebhookEventType.PING: lazy_gettext("Test ping"),
    },
)

SUBSCRIBABLE_EVENTS = tuple(t for t in WebhookEventType if t != WebhookEventType.PING)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Retried for the whole retry window without a 2xx, or its endpoint was disabled.
    FAILED = "failed"


set_labels(
    DeliveryStatus,
    {
        DeliveryStatus.PENDING: lazy_gettext("pending"),
        DeliveryStatus.DELIVERED: lazy_gettext("delivered"),
        DeliveryStatus.FAILED: lazy_gettext("failed"),
    },
)


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


class WebhookEndpoint(Model):
    """An HTTPS URL a practitioner (their own sessions' events) or a staff member
    (every event) asked to be called, with the secret its deliveries are signed with."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint(
            "(disabled_at IS NULL) = (disabled_reason IS NULL)", name="disabled_complete"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(100), default="")
    # "whsec_" + base64: the Standard Webhooks form. Kept as is, since signing needs it;
    # the owner sees it once, when the endpoint is created.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Since the first failure after the last success; cleared by a success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    subscriptions: Mapped[list[WebhookSubscription]] = relationship(
        back_populates="endpoint", cascade="all, delete-orphan"
    )

    @property
    def event_types(self) -> list[WebhookEventType]:
        return sorted((s.event_type for s in self.subscriptions), key=SUBSCRIBABLE_EVENTS.index)

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url} user={self.user_id}>"


class WebhookSubscription(Model):
    """One event type an endpoint wants: a row each, so the fan-out is one INSERT ... SELECT."""

    __tablename__ = "webhook_subscriptions"

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[WebhookEventType] = mapped_column(
        enum_column(WebhookEventType, "webhook_event_type"), primary_key=True
    )

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="subscriptions")


class WebhookEvent(Model):
    """Something that happened, as the receivers will read it."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True, default=new_message_id)
    event_type: Mapped[WebhookEventType] = mapped_column(
        enum_column(WebhookEventType, "webhook_event_event_type")
    )
    # Whose session it is about: their own endpoints receive it (staff's receive all).
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(Model):
    """One event on its way to one endpoint: the webhook outbox row the worker claims."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim: pending rows whose time has come.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker owns the row until then; one that died lets it go when it passes.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    event: Mapped[WebhookEvent] = relationship()
    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        order_by="WebhookAttempt.id", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookAttempt(Model):
    """One try of a delivery: what the endpoint answered and how long it took."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column()
    duration_ms: Mapped[int] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
