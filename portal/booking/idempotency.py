"""A purchase made once per client-chosen key: a retried or double-submitted request
gets the first request's order (and answer) instead of buying again."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.errors import IdempotencyKeyReused
from ..core.transactions import delete_in_batches, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import IdempotentPurchase, User

log = logging.getLogger(__name__)

# How long a key names its purchase; after that it may be used afresh.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255

# SQLite names the columns of the unique constraint, PostgreSQL the constraint.
_KEY_TAKEN = ("uq_idempotent_purchases_key", "idempotent_purchases.user_id")


class Purchased(Protocol):
    """What a purchase returns: an Order, or the express path's Sale."""

    @property
    def id(self) -> int: ...


P = TypeVar("P", bound=Purchased)


def fingerprint(*parts: object) -> str:
    """What a request asked for, as the stored fingerprint compares it."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def purchase_once(
    user: User,
    key: str,
    request_fingerprint: str,
    purchase: Callable[[], P],
    answer: Callable[[P], str] = lambda order: "",
    *,
    now: datetime | None = None,
) -> tuple[IdempotentPurchase, bool]:
    """Run `purchase` unless `key` already made one; (the record, whether it is a repeat).

    The key's row is written before the purchase, in its transaction: a concurrent
    request with the key waits on the unique constraint and, once the first commits,
    finds its order. A purchase refused (full, say) rolls the key back with it, so a
    retry tries again. Raises IdempotencyKeyReused for the key with another request.
    """
    try:
        return _purchase_once(user, key, request_fingerprint, purchase, answer, now)
    except IntegrityError as exc:
        if not any(name in str(exc.orig) for name in _KEY_TAKEN):
            raise
        # The concurrent request committed first: this one now finds its purchase.
        return _purchase_once(user, key, request_fingerprint, purchase, answer, now)


@unit_of_work
def _purchase_once(user, key, request_fingerprint, purchase, answer, now):
    now = now or utcnow()
    found = db.session.scalar(
        select(IdempotentPurchase).where(
            IdempotentPurchase.user_id == user.id, IdempotentPurchase.key == key
        )
    )
    if found is not None and found.created_at > now - KEY_LIFETIME:
        if found.fingerprint != request_fingerprint:
            raise IdempotencyKeyReused(
                gettext("This Idempotency-Key was used for a different request."),
                field="Idempotency-Key",
            )
        log.info("user %s repeated purchase key: order %s", user.id, found.order_id)
        return found, True
    if found is not None:
        db.session.delete(found)
        db.session.flush()
    record = IdempotentPurchase(
        user_id=user.id, key=key, fingerprint=request_fingerprint, created_at=now
    )
    db.session.add(record)
    db.session.flush()
    order = purchase()
    record.order_id = order.id
    record.answer = answer(order)
    db.session.flush()
    log.info("user %s bought order %s under a purchase key", user.id, order.id)
    return record, False


def prune_expired_keys(*, now: datetime | None = None) -> int:
    """Delete the keys past KEY_LIFETIME (a request with one makes a new purchase anyway);
    returns how many went."""
    cutoff = (now or utcnow()) - KEY_LIFETIME
    pruned = delete_in_batches(IdempotentPurchase.id, IdempotentPurchase.created_at <= cutoff)
    log.info("pruned %s purchase keys older than %s", pruned, KEY_LIFETIME)
    return pruned
