"""Expired sign-ins and purchase keys past their 24 hours are deleted in batches by the
worker's periodic prune; live ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.accounts import sign_ins
from portal.booking.idempotency import KEY_LIFETIME
from portal.core import transactions
from portal.database import utcnow
from portal.extensions import db
from portal.models import IdempotentPurchase, SignIn
from portal.worker import PERIODIC_JOBS
from tests.fixtures.factories import make_user

YEAR = timedelta(days=365)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    # Several batches from a handful of rows.
    monkeypatch.setattr(transactions, "PRUNE_BATCH", 2)


def prune_expired():
    (job,) = [job for name, _, job in PERIODIC_JOBS if name == "prune_expired"]
    return job()


def sign_in(user, age: timedelta) -> str:
    """A sign-in `age` old; its cookie id."""
    sign_ins.record_sign_in(user)
    key_hash = sign_ins._hash_key(user.sign_in_key)
    db.session.execute(
        update(SignIn).where(SignIn.key_hash == key_hash).values(created_at=utcnow() - age)
    )
    db.session.commit()
    return f"{user.id}.{user.sign_in_key}"


def purchase_key(user, name: str, age: timedelta) -> None:
    db.session.add(
        IdempotentPurchase(user_id=user.id, key=name, fingerprint="f", created_at=utcnow() - age)
    )
    db.session.commit()


def test_expired_sign_ins_are_pruned_and_live_ones_stay(app):
    user = make_user()
    old = [sign_in(user, YEAR + timedelta(days=d)) for d in (1, 2, 30, 400, 800)]
    live = [sign_in(user, age) for age in (timedelta(0), YEAR - timedelta(hours=1))]

    assert prune_expired() == (5, 0)

    assert len(db.session.scalars(select(SignIn)).all()) == 2
    assert all(sign_ins.signed_in_user(cookie) is None for cookie in old)
    assert all(sign_ins.signed_in_user(cookie).id == user.id for cookie in live)
    assert prune_expired() == (0, 0)


def test_a_sign_in_past_its_lifetime_is_refused_before_it_is_pruned(app):
    user = make_user()
    cookie = sign_in(user, YEAR + timedelta(minutes=1))

    assert sign_ins.signed_in_user(cookie) is None


def test_purchase_keys_past_their_lifetime_are_pruned_and_live_ones_stay(app):
    user = make_user()
    for n, age in enumerate([KEY_LIFETIME + timedelta(seconds=1), 2 * KEY_LIFETIME, 40 * YEAR]):
        purchase_key(user, f"old-{n}", age)
    for n, age in enumerate([timedelta(0), KEY_LIFETIME - timedelta(minutes=1)]):
        purchase_key(user, f"live-{n}", age)

    assert prune_expired() == (0, 3)

    assert set(db.session.scalars(select(IdempotentPurchase.key))) == {"live-0", "live-1"}
