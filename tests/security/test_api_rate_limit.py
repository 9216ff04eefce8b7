"""The JSON API is rate-limited (PORTAL_API_RATE_LIMIT): per token's user, or per address for
calls without a live token, so guessing tokens is limited too. The LiveKit webhook is not."""

from __future__ import annotations

import pytest
from limits import parse

from portal import api_tokens
from portal.config import build_config
from portal.models import Role
from tests.fixtures.api import ApiClient, error_of
from tests.fixtures.factories import make_user
from tests.fixtures.livekit import LIVEKIT_CONFIG

SERVICES = "/api/v1/services/"
GUESSER = {"REMOTE_ADDR": "203.0.113.9"}
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.4"}


@pytest.fixture
def app_config():
    # A small limit keeps the tests short; the default is checked on its own below.
    return {"RATELIMIT_ENABLED": True, "PORTAL_API_RATE_LIMIT": "5 per minute", **LIVEKIT_CONFIG}


@pytest.fixture
def allowed(app) -> int:
    return parse(app.config["PORTAL_API_RATE_LIMIT"]).amount


def guess(client, environ_base=GUESSER):
    return ApiClient(client, "est_0123456789ab_not-a-real-secret").get(
        SERVICES, environ_base=environ_base
    )


def assert_rate_limited(response):
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    # A whole number of seconds to wait, within the one-minute window.
    assert 0 <= int(response.headers["Retry-After"]) <= 60


def test_the_default_is_generous_and_the_environment_sets_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_API_RATE_LIMIT", raising=False)
    default = parse(build_config(str(tmp_path))["PORTAL_API_RATE_LIMIT"])
    assert (default.amount, default.GRANULARITY.name) == (300, "minute")

    monkeypatch.setenv("PORTAL_API_RATE_LIMIT", "20 per second")
    assert build_config(str(tmp_path))["PORTAL_API_RATE_LIMIT"] == "20 per second"


def test_below_the_limit_calls_work_and_past_it_get_a_json_429(api_as, client_user, allowed):
    api = api_as(client_user)
    for _ in range(allowed):
        assert api.get(SERVICES).status_code == 200

    refused = api.get(SERVICES)

    assert_rate_limited(refused)


def test_the_budget_is_shared_by_every_endpoint_and_token_of_a_user(
    client, api_as, client_user, allowed
):
    api = api_as(client_user)
    for _ in range(allowed - 1):
        assert api.get(SERVICES).status_code == 200
    assert api.get("/api/v1/openapi.json").status_code == 200

    second_token = api_tokens.issue_token(client_user, "second script")[1]
    assert_rate_limited(ApiClient(client, second_token).get("/api/v1/calendar/"))


def test_another_user_at_the_same_address_is_unaffected(api_as, client_user, allowed):
    api = api_as(client_user)
    for _ in range(allowed):
        api.get(SERVICES)
    assert_rate_limited(api.get(SERVICES))

    neighbour = api_as(make_user(Role.CLIENT))
    assert neighbour.get(SERVICES).status_code == 200


def test_guessing_tokens_is_limited_per_address(client, api_as, client_user, allowed):
    for _ in range(allowed):
        response = guess(client)
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_token"

    assert_rate_limited(guess(client))
    assert_rate_limited(ApiClient(client, None).get(SERVICES, environ_base=GUESSER))
    # A guess from elsewhere is still only refused as a guess.
    assert guess(client, ELSEWHERE).status_code == 401
    # A real user behind the guesser's address is counted as themselves.
    assert api_as(client_user).get(SERVICES, environ_base=GUESSER).status_code == 200


def test_the_livekit_webhook_is_not_limited(client, livekit, allowed):
    for _ in range(allowed):
        guess(client, {"REMOTE_ADDR": "127.0.0.1"})
    assert guess(client, {"REMOTE_ADDR": "127.0.0.1"}).status_code == 429

    for _ in range(allowed + 2):
        # Unsigned: refused by the webhook itself, never by the limit.
        assert livekit.post("{}", authorization="").status_code == 401
