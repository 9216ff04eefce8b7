"""The worker's side of outbound webhooks: claim due deliveries, sign and send them,
record each attempt, back off, and disable an endpoint that keeps failing.

At least once, never lost, never doubled:
- a delivery row is written in the unit of work of the change it reports
  (portal/booking/events.py), so a committed change always has one;
- a row is claimed with a lease (`claimed_until`) by one conditional UPDATE, which on
  PostgreSQL picks its rows FOR UPDATE SKIP LOCKED: two workers never hold the same
  row, and a worker killed mid-batch leaves rows whose lease simply runs out;
- an outcome is recorded only by the worker whose lease the row still carries, right
  after its send, so a crash costs at most a send not yet recorded: it goes again with
  the same webhook-id, which the receiver can recognise;
- a failure is retried with exponential backoff until the retry window (a day) has
  passed since the event; an endpoint failing for PORTAL_WEBHOOKS_DISABLE_AFTER_HOURS
  is disabled and its owner told.

`now` drives the schedule (tests move it instead of sleeping); the webhook-timestamp
header is always the wall clock, since the receiver checks it against its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import joinedload
from standardwebhooks import Webhook

from .. import leases
from ..database import utcnow, write_transaction
from ..extensions import db
from ..models import (
    DeliveryStatus,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .addresses import Cutoff, UnsafeURL, connection, parse_url, resolve
from .notices import tell_owner_disabled

log = logging.getLogger(__name__)

USER_AGENT = "EstuaryPortal-Webhooks/1"
# Enough of an answer to see it arrived; the rest is the receiver's business.
_MAX_READ = 64 * 1024


@dataclass(frozen=True)
class Attempt:
    """What one send got back: an HTTP status, or the error that stopped it."""

    status_code: int | None
    duration_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Outgoing:
    """What one send needs, read once when the batch is claimed: each outcome commits,
    and a row read through the ORM would be loaded again after every commit."""

    delivery_id: int
    endpoint_id: int
    attempts: int
    created_at: datetime
    url: str
    secret: str
    message_id: str
    body: str

    @classmethod
    def of(cls, row: WebhookDelivery) -> Outgoing:
        return cls(
            delivery_id=row.id,
            endpoint_id=row.endpoint_id,
            attempts=row.attempts,
            created_at=row.created_at,
            url=row.endpoint.url,
            secret=row.endpoint.secret,
            message_id=row.event.message_id,
            body=json.dumps(row.event.payload, separators=(",", ":"), sort_keys=True),
        )


@dataclass
class DeliveryResult:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    disabled: int = 0
    # Left unsent after their endpoint gave no answer to another row of the batch.
    put_back: int = 0
    # When the earliest pending row becomes claimable (to schedule the next run).
    next_due_at: datetime | None = None

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.failed

    def add(self, other: DeliveryResult) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.disabled += other.disabled
        self.put_back += other.put_back


def _config(name: str) -> int:
    return int(current_app.config[name])


def _sendable():
    """Pending, for an endpoint whose owner's account is active: a deactivated owner's
    deliveries wait, and go if the account is reactivated (within the retry window)."""
    return and_(
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.endpoint_id.in_(
            select(WebhookEndpoint.id)
            .join(User, User.id == WebhookEndpoint.user_id)
            .where(User.is_active_account.is_(True))
        ),
    )


def claim(
    limit: int,
    now: datetime,
    only_ids: list[int] | None = None,
    endpoint_id: int | None = None,
) -> tuple[datetime, list[int]]:
    """Take up to `limit` due rows (of one endpoint, with `endpoint_id`; or just
    `only_ids`, if still pending and free); returns the lease (the claim's token) and
    the ids claimed."""
    lease = now + timedelta(seconds=_config("PORTAL_WEBHOOKS_LEASE_SECONDS"))
    which = [
        WebhookDelivery.next_attempt_at <= now
        if only_ids is None
        else WebhookDelivery.id.in_(only_ids)
    ]
    if endpoint_id is not None:
        which.append(WebhookDelivery.endpoint_id == endpoint_id)
    ids = leases.claim(WebhookDelivery, _sendable(), *which, limit=limit, now=now, lease=lease)
    return lease, ids


def due_endpoints(now: datetime, limit: int, busy: Iterable[int] = ()) -> list[int]:
    """Up to `limit` endpoints with due, unclaimed rows, the longest waiting first,
    leaving out `busy` ones (those already sent to at the concurrency allowed)."""
    query = (
        select(WebhookDelivery.endpoint_id)
        .where(
            _sendable(),
            WebhookDelivery.next_attempt_at <= now,
            leases.unclaimed(WebhookDelivery, now),
        )
        .group_by(WebhookDelivery.endpoint_id)
        .order_by(func.min(WebhookDelivery.next_attempt_at), WebhookDelivery.endpoint_id)
        .limit(limit)
    )
    busy = list(busy)
    if busy:
        query = query.where(WebhookDelivery.endpoint_id.not_in(busy))
    return list(db.session.scalars(query))


def signed_headers(out: Outgoing) -> dict[str, str]:
    """The Standard Webhooks headers: the event's stable id, the time, the signature."""
    sent_at = utcnow()
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": out.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(out.secret).sign(out.message_id, sent_at, out.body),
    }


def send(out: Outgoing, deadline: float | None = None) -> Attempt:
    """POST one delivery to its endpoint, within one deadline (time.monotonic()) for the
    whole attempt: lookup, connect, request, answer. The deadline is the sooner of
    PORTAL_WEBHOOKS_TIMEOUT_SECONDS from now and `deadline` (the lease's end). Never
    raises: every way it can go wrong is an attempt that failed, with the reason."""
    started = time.monotonic()
    timeout = _config("PORTAL_WEBHOOKS_TIMEOUT_SECONDS")
    cutoff = Cutoff(min(started + timeout, deadline or float("inf")))

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = parse_url(out.url)
        address = resolve(target, cutoff.deadline)
        conn = connection(target, address, cutoff)
        try:
            conn.request("POST", target.path, body=out.body.encode(), headers=signed_headers(out))
            response = conn.getresponse()
            response.read(_MAX_READ)
        finally:
            cutoff.disarm()
            conn.close()
    except UnsafeURL as exc:
        return Attempt(None, elapsed(), f"refused: {exc}")
    except Exception as exc:  # noqa: BLE001 - whatever the answer was, the attempt failed
        # Refused connections, TLS, malformed answers (http.client.HTTPException), a URL
        # http.client will not send: each is recorded and retried like a timeout.
        if cutoff.fired or time.monotonic() >= cutoff.deadline:
            return Attempt(None, elapsed(), f"no complete answer within {timeout} s")
        return Attempt(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    error = None
    if 300 <= response.status < 400:
        error = f"redirect to {response.getheader('Location', '?')} not followed"[:500]
    elif not 200 <= response.status < 300:
        error = f"HTTP {response.status} {response.reason}"[:500]
    return Attempt(response.status, elapsed(), error)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min... after the 1st, 2nd, 3rd... failure."""
    return timedelta(seconds=_config("PORTAL_WEBHOOKS_RETRY_SECONDS") * 2 ** (attempts - 1))


def _disable_if_failing(endpoint_id: int, now: datetime) -> bool:
    """Disable the endpoint if it has failed for long enough; True if this call did.
    The condition is in the UPDATE, so of two workers seeing the same failure only one
    disables it and tells the owner."""
    cutoff = now - timedelta(hours=_config("PORTAL_WEBHOOKS_DISABLE_AFTER_HOURS"))
    hours = _config("PORTAL_WEBHOOKS_DISABLE_AFTER_HOURS")
    disabled = db.session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.disabled_at.is_(None),
            WebhookEndpoint.failing_since <= cutoff,
        )
        .values(
            disabled_at=now,
            disabled_reason=f"Every delivery failed for {hours} hours.",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not disabled:
        return False
    # What is still queued for it will not go: the owner sees it failed, not lost.
    db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, last_error="endpoint disabled", claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    tell_owner_disabled(db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True))
    log.warning("webhook endpoint %s disabled: failing since before %s", endpoint_id, cutoff)
    return True


def _record(
    result: DeliveryResult,
    out: Outgoing,
    lease: datetime,
    attempt: Attempt,
    now: datetime,
) -> None:
    """Write the attempt and its consequence in one transaction, if the row is still ours."""
    attempts = out.attempts + 1
    values: dict = {
        "claimed_until": None,
        "attempts": attempts,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
    }
    window_end = out.created_at + timedelta(hours=_config("PORTAL_WEBHOOKS_RETRY_HOURS"))
    if attempt.succeeded:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif now >= window_end:
        values.update(status=DeliveryStatus.FAILED)
    else:
        # The last try falls at the window's end, so "retried for a day" holds exactly.
        values.update(next_attempt_at=min(now + backoff(attempts), window_end))
    with write_transaction():
        mine = db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == out.delivery_id, WebhookDelivery.claimed_until == lease)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not mine:
            # Deleted with its endpoint, or the lease ran out and another worker took it.
            log.info("webhook delivery %s no longer ours; outcome not recorded", out.delivery_id)
            return
        db.session.execute(
            insert(WebhookAttempt).values(
                delivery_id=out.delivery_id,
                attempted_at=now,
                status_code=attempt.status_code,
                duration_ms=attempt.duration_ms,
                error=attempt.error,
            )
        )
        endpoint = update(WebhookEndpoint).where(WebhookEndpoint.id == out.endpoint_id)
        if attempt.succeeded:
            db.session.execute(
                endpoint.where(WebhookEndpoint.failing_since.is_not(None)).values(
                    failing_since=None
                )
            )
        else:
            db.session.execute(
                endpoint.values(
                    failing_since=func.coalesce(WebhookEndpoint.failing_since, now)
                ).execution_options(synchronize_session=False)
            )
            if _disable_if_failing(out.endpoint_id, now):
                result.disabled += 1
    if attempt.succeeded:
        result.delivered += 1
        log.info(
            "webhook %s delivered to endpoint %s (%s, %d ms)",
            out.message_id,
            out.endpoint_id,
            attempt.status_code,
            attempt.duration_ms,
        )
    elif values.get("status") == DeliveryStatus.FAILED:
        result.failed += 1
        log.warning(
            "webhook %s to endpoint %s failed for good after %d tries: %s",
            out.message_id,
            out.endpoint_id,
            attempts,
            attempt.error,
        )
    else:
        result.retrying += 1
        log.info(
            "webhook %s to endpoint %s failed (try %d), will retry: %s",
            out.message_id,
            out.endpoint_id,
            attempts,
            attempt.error,
        )


def _put_back(ids: list[int], lease: datetime, until: datetime) -> None:
    """Release claimed rows unsent, due again at `until`; no attempt is recorded, since
    none was made."""
    with write_transaction():
        db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.claimed_until == lease)
            .values(claimed_until=None, next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )


def _deliver_claimed(lease: datetime, ids: list[int], now: datetime | None) -> DeliveryResult:
    result = DeliveryResult()
    if not ids:
        return result
    rows = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id.in_(ids))
        .options(joinedload(WebhookDelivery.event), joinedload(WebhookDelivery.endpoint))
        .order_by(WebhookDelivery.id)
    ).all()
    batch = [Outgoing.of(row) for row in rows]
    lease_seconds = _config("PORTAL_WEBHOOKS_LEASE_SECONDS")
    # The schedule's clock: a lease that is not the wall clock's means `now` is driven.
    clock_lease = lease if now is None else utcnow() + (lease - now)
    # No send may outlive the lease: past it, another worker may send the row too.
    lease_ends = time.monotonic() + (clock_lease - utcnow()).total_seconds()
    # Endpoints that gave no answer at all in this batch: their other rows wait for the
    # retry instead of each waiting out the timeout, so a dead endpoint costs one.
    unreachable: set[int] = set()
    put_back: list[int] = []
    for out in leases.while_leased(batch, clock_lease, lease_seconds):
        if out.endpoint_id in unreachable:
            put_back.append(out.delivery_id)
            continue
        attempt = send(out, deadline=lease_ends)
        if attempt.status_code is None:
            unreachable.add(out.endpoint_id)
        _record(result, out, lease, attempt, now or utcnow())
    if put_back:
        _put_back(put_back, lease, (now or utcnow()) + backoff(1))
        result.put_back = len(put_back)
    return result


def deliver_batch(now: datetime | None = None, endpoint_id: int | None = None) -> DeliveryResult:
    """Claim one batch of due deliveries (to one endpoint, with `endpoint_id`) and send them."""
    lease, ids = claim(_config("PORTAL_WEBHOOKS_BATCH"), now or utcnow(), endpoint_id=endpoint_id)
    return _deliver_claimed(lease, ids, now)


def deliver_due(now: datetime | None = None) -> DeliveryResult:
    """Deliver batches until none is due, then say when the next one falls due."""
    total = DeliveryResult()
    while True:
        result = deliver_batch(now)
        total.add(result)
        if not result.handled:
            break
    total.next_due_at = next_due(now or utcnow())
    db.session.rollback()
    return total


def deliver_now(delivery_id: int, now: datetime | None = None) -> DeliveryResult:
    """Send one pending delivery at once (the owner's test ping), through the same
    claim as the worker's, so the two never send it both."""
    lease, ids = claim(1, now or utcnow(), only_ids=[delivery_id])
    return _deliver_claimed(lease, ids, now)


def next_due(now: datetime) -> datetime | None:
    return leases.next_claimable(WebhookDelivery, _sendable(), now)
