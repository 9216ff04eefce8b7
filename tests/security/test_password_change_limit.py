"""The password-change form checks the current password, so it is rate-limited like sign-in:
per signed-in user (PORTAL_PASSWORD_CHANGE_RATE_LIMIT)."""

from __future__ import annotations

import pytest
from limits import parse_many

from portal.config import build_config
from portal.models import Role
from tests.fixtures.factories import PASSWORD, make_user
from tests.fixtures.security import csrf_token_of, missing_security_headers, sign_in

NEW_PASSWORD = "a fresh passphrase"


@pytest.fixture
def app_config(tmp_path):
    # The limit exactly as a deployment gets it: from the environment-fed config.
    limit = build_config(str(tmp_path))["PORTAL_PASSWORD_CHANGE_RATE_LIMIT"]
    return {
        "RATELIMIT_ENABLED": True,
        "WTF_CSRF_ENABLED": True,
        "PORTAL_PASSWORD_CHANGE_RATE_LIMIT": limit,
    }


@pytest.fixture
def allowed(app) -> int:
    """Attempts allowed in a burst: the smallest of the configured limits."""
    return min(item.amount for item in parse_many(app.config["PORTAL_PASSWORD_CHANGE_RATE_LIMIT"]))


def change_password(browser, current: str):
    page = browser.get("/auth/password")
    return browser.post(
        "/auth/password",
        data={
            "csrf_token": csrf_token_of(page.get_data(as_text=True)),
            "current_password": current,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )


def test_the_default_allows_a_few_tries_a_minute_and_fewer_an_hour(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_PASSWORD_CHANGE_RATE_LIMIT", raising=False)
    limits = parse_many(build_config(str(tmp_path))["PORTAL_PASSWORD_CHANGE_RATE_LIMIT"])
    assert [(item.amount, item.GRANULARITY.name) for item in limits] == [
        (5, "minute"),
        (20, "hour"),
    ]


def test_guessing_the_current_password_stops_at_the_limit(app, client_user, allowed):
    guesser = sign_in(app, client_user, csrf=True)
    for _ in range(allowed):
        response = change_password(guesser, "wrong guess")
        assert response.status_code == 200
        assert b"That is not your current password." in response.data

    refused = change_password(guesser, PASSWORD)

    assert refused.status_code == 429
    assert b"Too many password change attempts." in refused.data
    assert missing_security_headers(refused) == []
    # The right password came too late: it is unchanged.
    assert sign_in(app, client_user, csrf=True).get("/bookings/").status_code == 200


def test_the_limit_is_per_user_not_per_address(app, client_user, allowed):
    guesser = sign_in(app, client_user, csrf=True)
    for _ in range(allowed):
        change_password(guesser, "wrong guess")
    assert change_password(guesser, PASSWORD).status_code == 429

    # Same test-client address, another account: its form still works.
    neighbour = make_user(Role.CLIENT)
    assert change_password(sign_in(app, neighbour, csrf=True), PASSWORD).status_code == 302


def test_below_the_limit_the_form_still_works(app, client_user, allowed):
    owner = sign_in(app, client_user, csrf=True)
    for _ in range(allowed - 1):
        assert change_password(owner, "a typo").status_code == 200

    changed = change_password(owner, PASSWORD)

    assert changed.status_code == 302
    assert b"Your password is changed." in owner.get("/").data
    assert client_user.check_password(NEW_PASSWORD)


def test_reading_the_form_is_not_counted(app, client_user, allowed):
    reader = sign_in(app, client_user, csrf=True)
    for _ in range(allowed + 2):
        assert reader.get("/auth/password").status_code == 200
    assert change_password(reader, PASSWORD).status_code == 302
