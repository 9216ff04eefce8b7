"""Settings a deployment gets wrong at its peril: the proxy's client address, the secret
key shared by instances, rate limits counted in one place."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import build_config
from portal.extensions import limiter
from portal.ops.checks import UnsafeConfiguration
from tests.fixtures.app import make_app
from tests.fixtures.factories import make_user

LIMITED = {"RATELIMIT_ENABLED": True, "PORTAL_LOGIN_RATE_LIMIT": "3 per minute"}
PROXY = "10.0.0.2"


def sign_in_statuses(client, user, forwarded_for: str, tries: int) -> list[int]:
    return [
        client.post(
            "/auth/login",
            data={"email": user.email, "password": "wrong"},
            headers={"X-Forwarded-For": forwarded_for},
            environ_base={"REMOTE_ADDR": PROXY},
        ).status_code
        for _ in range(tries)
    ]


class TestBehindOneTrustedProxy:
    @pytest.fixture
    def app_config(self):
        return {**LIMITED, "PORTAL_TRUSTED_PROXIES": 1}

    def test_each_client_behind_the_proxy_has_its_own_sign_in_limit(self, client):
        user = make_user()
        assert sign_in_statuses(client, user, "203.0.113.5", 4) == [200, 200, 200, 429]
        # Everyone else arrives from the same proxy address, and is not locked out.
        assert sign_in_statuses(client, user, "203.0.113.6", 1) == [200]

    def test_a_client_cannot_pick_its_address_by_sending_the_header_itself(self, client):
        user = make_user()
        # The proxy appends the address it saw; only that last entry is believed.
        statuses = [
            sign_in_statuses(client, user, f"198.51.100.{n}, 203.0.113.5", 1)[0] for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]


class TestWithoutTrustedProxies:
    @pytest.fixture
    def app_config(self):
        return LIMITED

    def test_x_forwarded_for_is_ignored_by_default(self, client):
        user = make_user()
        statuses = [sign_in_statuses(client, user, f"203.0.113.{n}", 1)[0] for n in range(4)]
        assert statuses == [200, 200, 200, 429]


def test_a_shared_database_without_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db.internal/portal"})


def test_sqlite_without_secret_key_keeps_one_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.db'}"})
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.db'}"})
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]


def test_several_workers_with_in_memory_limits_refuse_to_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    with pytest.raises(UnsafeConfiguration, match="in-memory rate limits"):
        make_app(url, RATELIMIT_ENABLED=True, PORTAL_WORKERS=4)
    # One worker, or a shared store, is fine.
    make_app(url, RATELIMIT_ENABLED=True, PORTAL_WORKERS=1)
    make_app(
        url,
        RATELIMIT_ENABLED=True,
        PORTAL_WORKERS=4,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
    )


def test_redis_url_becomes_the_rate_limit_store(monkeypatch, tmp_path):
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    assert build_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/2"
    monkeypatch.delenv("REDIS_URL")
    assert build_config(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


class TestRedisAway:
    @pytest.fixture
    def app_config(self):
        # Nothing listens on port 1: every call to the limits' store fails at once.
        return {**LIMITED, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}

    @pytest.fixture(autouse=True)
    def _revive_the_store(self):
        yield
        # Flask-Limiter keeps "storage dead" on the extension object, which every app of
        # this test process shares: left set, the next test's first request would count
        # in the fallback store and its limit would come one request late.
        limiter._storage_dead = False

    def test_sign_in_still_answers_and_is_still_limited(self, client):
        user = make_user()
        statuses = [
            client.post("/auth/login", data={"email": user.email, "password": "wrong"}).status_code
            for _ in range(4)
        ]
        # Counted per process meanwhile, never a 500.
        assert statuses == [200, 200, 200, 429]
