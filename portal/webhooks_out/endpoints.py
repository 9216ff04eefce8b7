"""The owner's side: register, delete and re-enable endpoints, send a test ping, and
the reads the pages show. A practitioner's endpoints receive their own sessions'
events; a staff member's receive every event (portal/booking/events.py decides)."""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from ..booking import events
from ..core.errors import AddressNotConfirmed
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    SUBSCRIBABLE_EVENTS,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
    WebhookSubscription,
)
from .addresses import check_literal_host, parse_url
from .delivery import DeliveryResult, deliver_now

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 24 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def check_url(url: str) -> str:
    """The URL as it will be stored (normalised: what is sent is what the owner
    sees), or UnsafeURL saying why it cannot be."""
    target = parse_url(url)
    check_literal_host(target)
    return target.url


@unit_of_work
def register_endpoint(
    owner: User, url: str, event_types: Iterable[WebhookEventType], description: str = ""
) -> WebhookEndpoint:
    """A new endpoint for `owner`; its secret is on the returned object, for showing once."""
    AddressNotConfirmed.unless_confirmed(owner)
    types = sorted({WebhookEventType(t) for t in event_types}, key=SUBSCRIBABLE_EVENTS.index)
    if not types or any(t not in SUBSCRIBABLE_EVENTS for t in types):
        raise ValueError("choose at least one event type")
    endpoint = WebhookEndpoint(
        user_id=owner.id,
        url=check_url(url),
        description=description.strip()[:100],
        secret=new_secret(),
        subscriptions=[WebhookSubscription(event_type=t) for t in types],
    )
    db.session.add(endpoint)
    db.session.flush()
    log.info(
        "webhook endpoint %s registered by user %s for %s",
        endpoint.id,
        owner.id,
        [t.value for t in types],
    )
    return endpoint


@unit_of_work
def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Gone with its queue and log (the database cascades); a send in flight finds its
    row gone and records nothing."""
    db.session.delete(endpoint)
    db.session.flush()
    log.info("webhook endpoint %s deleted", endpoint.id)


@unit_of_work
def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    """The owner fixed it: deliveries resume with the next event."""
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(disabled_at=None, disabled_reason=None, failing_since=None)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(endpoint)
    log.info("webhook endpoint %s enabled again", endpoint.id)


@unit_of_work
def _queue_ping(endpoint: WebhookEndpoint, now: datetime) -> int:
    event_id = events.emit(
        WebhookEventType.PING,
        practitioner_id=None,
        data={"endpoint_id": endpoint.id, "message": "Test ping from the portal."},
        now=now,
        endpoint_id=endpoint.id,
    )
    return db.session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.event_id == event_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )


def send_test(endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookDelivery:
    """Queue a signed ping for this endpoint and send it at once; a failed one is
    retried like any delivery. Returns the delivery, its outcome recorded."""
    delivery_id = _queue_ping(endpoint, now or utcnow())
    result: DeliveryResult = deliver_now(delivery_id, now)
    log.info("test ping %s to endpoint %s: %s", delivery_id, endpoint.id, result)
    return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


# --- Reads ---------------------------------------------------------------------------


def endpoints_of(user: User) -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user.id)
            .options(selectinload(WebhookEndpoint.subscriptions))
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )


def deliveries_of(endpoint: WebhookEndpoint, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first, with their attempts."""
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .options(joinedload(WebhookDelivery.event), selectinload(WebhookDelivery.attempt_log))
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
