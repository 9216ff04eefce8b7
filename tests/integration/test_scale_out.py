"""Two instances of the portal on one PostgreSQL and one Redis, as when scaled out:
separate gunicorn processes (the repository's gunicorn.conf.py), separate ports.

Runs only when both are given: TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, insert, select

from portal import api_tokens
from portal.database import utcnow
from portal.extensions import db
from portal.models import Booking, Role, ServiceSession, User
from tests.fixtures.database import postgres_url
from tests.fixtures.factories import (
    PASSWORD,
    make_user,
    make_workshop,
    seat_invariant_violations,
)
from tests.fixtures.gunicorn import gunicorn_instances
from tests.fixtures.security import csrf_token_of

REDIS_URL = os.environ.get("TEST_REDIS_URL") or None
pytestmark = [
    pytest.mark.process,
    pytest.mark.skipif(
        postgres_url() is None or REDIS_URL is None,
        reason="needs PostgreSQL (TEST_DATABASE_URL) and Redis (TEST_REDIS_URL)",
    ),
]

BUYERS = 200
SEATS = 20
SIGN_IN_LIMIT = 5
API_LIMIT = 5


def add_buyers(count: int) -> list[str]:
    """`count` clients with a token each, inserted in bulk (one password hash for all)."""
    template = make_user()
    rows = [
        {
            "email": f"buyer{n}@example.com",
            "name": f"Buyer {n}",
            "password_hash": template.password_hash,
            "role": Role.CLIENT,
            "timezone": "UTC",
            "livekit_identity": f"u_buyer{n:05d}",
            # Made by the test, as an operator would: confirmed, so they may hold API tokens.
            "email_verified_at": utcnow(),
        }
        for n in range(count)
    ]
    users = db.session.scalars(insert(User).returning(User), rows).all()
    tokens = [api_tokens.issue_token(user, "scale-out")[1] for user in users]
    db.session.commit()
    return tokens


@pytest.fixture
def instances(app, database_url):
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "scale-out-shared-secret",
        "REDIS_URL": REDIS_URL,
        # Fresh counters for this run: ids restart with every test database.
        "RATELIMIT_KEY_PREFIX": f"scale-out-{uuid.uuid4().hex}",
        "PORTAL_LOGIN_RATE_LIMIT": f"{SIGN_IN_LIMIT} per minute",
        "PORTAL_API_RATE_LIMIT": f"{API_LIMIT} per minute",
    }
    db.session.remove()
    with gunicorn_instances(env, count=2) as urls:
        yield urls


@pytest.fixture
def browser():
    """A browser's cookie jar and connections, closed after the test: gunicorn's threaded
    workers keep a connection alive, and one left open warns in whichever test comes next."""
    with requests.Session() as session:
        yield session


def test_two_instances_sell_exactly_the_capacity_and_share_the_limits(app, instances, browser):
    session = make_workshop(make_user(Role.PRACTITIONER), seats=SEATS)
    tokens = add_buyers(BUYERS)
    body = {"service_id": session.service_id, "service_session_id": session.id}

    def buy(n: int) -> int:
        base = instances[n % 2]
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        return requests.post(
            f"{base}/api/v1/orders", json=body, headers=headers, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = Counter(pool.map(buy, range(BUYERS)))

    assert statuses == {201: SEATS, 409: BUYERS - SEATS}
    db.session.expire_all()
    assert db.session.get(ServiceSession, session.id).current_participants == SEATS
    sold = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.service_session_id == session.id)
    )
    assert sold == SEATS
    assert seat_invariant_violations() == []

    # One integration calling both instances gets the API budget once: buyer 0 has spent
    # one call on its purchase.
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    calls = [
        requests.get(f"{instances[n % 2]}/api/v1/services/", headers=headers, timeout=10)
        for n in range(API_LIMIT)
    ]
    assert [c.status_code for c in calls] == [200] * (API_LIMIT - 1) + [429]
    assert calls[-1].json()["error"]["code"] == "rate_limited"

    # One person guessing a password against both instances gets the limit once, not twice.
    page = browser.get(f"{instances[0]}/auth/login", timeout=10).text
    form = {"csrf_token": csrf_token_of(page), "email": "buyer1@example.com", "password": "wrong"}
    answers = [
        browser.post(f"{instances[n % 2]}/auth/login", data=form, timeout=10).status_code
        for n in range(SIGN_IN_LIMIT + 1)
    ]
    # The CSRF token made by one instance is good on the other: they share SECRET_KEY.
    assert answers == [200] * SIGN_IN_LIMIT + [429]


def test_a_sign_out_on_one_instance_is_honoured_on_the_other(app, instances, browser):
    first, second = instances
    user = make_user()
    db.session.commit()
    page = browser.get(f"{first}/auth/login", timeout=10).text
    form = {
        "csrf_token": csrf_token_of(page),
        "email": user.email,
        "password": PASSWORD,
        "remember_me": "y",
    }
    assert browser.post(f"{first}/auth/login", data=form, timeout=10).status_code == 200
    captured = browser.cookies.copy()
    assert {"session", "remember_token"} <= set(captured.keys())

    def signed_in(base: str, cookies) -> bool:
        """Whether `cookies` sign someone in on the instance at `base`."""
        answer = requests.get(
            f"{base}/auth/password", cookies=cookies, allow_redirects=False, timeout=10
        )
        return answer.status_code == 200

    remember_only = {"remember_token": captured["remember_token"]}
    assert signed_in(second, captured) and signed_in(second, remember_only)

    page = browser.get(f"{first}/auth/password", timeout=10).text
    signed_out = browser.post(
        f"{first}/auth/logout", data={"csrf_token": csrf_token_of(page)}, timeout=10
    )

    assert signed_out.status_code == 200 and "/auth/login" in signed_out.url
    assert not signed_in(second, captured)
    assert not signed_in(second, remember_only)
    assert not signed_in(first, captured)
