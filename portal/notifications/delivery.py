"""The worker's side of the outbox: claim due rows, hand them to their channel's
deliverer, record what happened.

At least once, never lost, never doubled:
- a row is claimed with a lease (`claimed_until`) by one conditional UPDATE, which on
  PostgreSQL picks its rows FOR UPDATE SKIP LOCKED, so two workers never hold the same
  row; a worker killed mid-batch leaves rows whose lease simply runs out, and the next
  claim after that takes them again;
- a row is marked only by the worker whose lease it still carries, right after its own
  send, so a crash costs at most the messages sent and not yet marked: they go again
  with the same Message-ID, which the receiver can recognise;
- a failure is retried with exponential backoff, then the row is marked failed (staff
  can resend it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import CursorResult, select, update

from .. import leases
from ..database import utcnow, write_transaction
from ..extensions import db
from ..models import Channel, Notification, NotificationStatus
from .messages import load_subjects, skip_reason

log = logging.getLogger(__name__)

# A deliverer sends a batch of rows of its channel and reports each one as soon as it is
# done: report(row, None) when delivered, report(row, error) when not. The batch is an
# iterable that ends early when the claim's lease runs short.
Report = Callable[[Notification, Exception | None], None]
Deliverer = Callable[[Iterable[Notification], Report], None]
_DELIVERERS: dict[Channel, Deliverer] = {}


def register_deliverer(channel: Channel, deliverer: Deliverer) -> None:
    _DELIVERERS[channel] = deliverer


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    # When the earliest row still pending becomes claimable (to schedule the next run).
    next_due_at: datetime | None = None

    def add(self, other: DeliveryResult) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.skipped += other.skipped


def claim_due(limit: int, now: datetime | None = None) -> tuple[datetime, list[int]]:
    """Take up to `limit` due rows for this worker; returns the lease (the claim's token)
    and the ids claimed."""
    now = now or utcnow()
    lease = now + timedelta(seconds=current_app.config["PORTAL_WORKER_LEASE_SECONDS"])
    ids = leases.claim(
        Notification,
        Notification.status == NotificationStatus.PENDING,
        Notification.next_attempt_at <= now,
        limit=limit,
        now=now,
        lease=lease,
    )
    return lease, ids


def _finish(row_id: int, lease: datetime, **values) -> bool:
    """Record an outcome if the row is still ours (our lease has not been taken over)."""
    with write_transaction():
        done = db.session.execute(
            update(Notification)
            .where(Notification.id == row_id, Notification.claimed_until == lease)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
    return cast(CursorResult, done).rowcount == 1


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min... after the 1st, 2nd, 3rd... failure (capped at a day)."""
    base = current_app.config["PORTAL_WORKER_RETRY_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 86_400))


def _record(result: DeliveryResult, row: Notification, lease: datetime, error) -> None:
    now = utcnow()
    attempts = row.attempts + 1
    if error is None:
        address = row.recipient_address
        if _finish(
            row.id,
            lease,
            status=NotificationStatus.SENT,
            sent_at=now,
            attempts=attempts,
            last_error=None,
            address=address,
        ):
            result.sent += 1
        log.info("delivered %s %s to %s", row.kind.value, row.message_id, address)
        return
    message = f"{type(error).__name__}: {error}"[:2000]
    if attempts >= current_app.config["PORTAL_WORKER_MAX_ATTEMPTS"]:
        _finish(
            row.id,
            lease,
            status=NotificationStatus.FAILED,
            attempts=attempts,
            last_error=message,
        )
        result.failed += 1
        log.warning("gave up on %s after %d tries: %s", row.message_id, attempts, message)
        return
    _finish(
        row.id,
        lease,
        attempts=attempts,
        last_error=message,
        next_attempt_at=now + backoff(attempts),
    )
    result.retrying += 1
    log.info("delivery of %s failed (try %d), will retry: %s", row.message_id, attempts, message)


def deliver_batch(limit: int | None = None, now: datetime | None = None) -> DeliveryResult:
    """Claim one batch and deliver it."""
    result = DeliveryResult()
    lease, ids = claim_due(limit or current_app.config["PORTAL_WORKER_BATCH"], now)
    if not ids:
        return result
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    by_channel: dict[Channel, list[Notification]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        reason = skip_reason(row, load_subjects(row))
        if reason is not None:
            if _finish(row.id, lease, status=NotificationStatus.SKIPPED, last_error=reason):
                result.skipped += 1
            log.info("skipped %s %s: %s", row.kind.value, row.message_id, reason)
            continue
        by_channel.setdefault(row.channel, []).append(row)
    for channel, batch in by_channel.items():
        deliverer = _DELIVERERS[channel]
        deliverer(
            leases.while_leased(batch, lease, current_app.config["PORTAL_WORKER_LEASE_SECONDS"]),
            lambda row, error: _record(result, row, lease, error),
        )
    return result


def deliver_due(now: datetime | None = None) -> DeliveryResult:
    """Deliver batches until none is due, then say when the next retry falls due."""
    total = DeliveryResult()
    while True:
        result = deliver_batch(now=now)
        total.add(result)
        if not (result.sent or result.retrying or result.failed or result.skipped):
            break
    total.next_due_at = next_due(now or utcnow())
    db.session.rollback()
    return total


def next_due(now: datetime) -> datetime | None:
    return leases.next_claimable(
        Notification, Notification.status == NotificationStatus.PENDING, now
    )


def resend(row_id: int) -> bool:
    """Put a failed (or skipped) message back in line with a fresh count of tries; the
    Message-ID stays, so the receiver still sees one message. False if it was not
    failed or skipped (already back in line, or sent)."""
    with write_transaction():
        done = db.session.execute(
            update(Notification)
            .where(
                Notification.id == row_id,
                Notification.status.in_([NotificationStatus.FAILED, NotificationStatus.SKIPPED]),
            )
            .values(
                status=NotificationStatus.PENDING,
                attempts=0,
                next_attempt_at=utcnow(),
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
    if cast(CursorResult, done).rowcount:
        log.info("resend of notification %s requested", row_id)
    return cast(CursorResult, done).rowcount == 1
