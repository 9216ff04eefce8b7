"""Sign-in, sign-up and password reset are limited per IP and per account (the address
typed, in any case), and the per-account limit answers alike whether the account exists."""

from __future__ import annotations

import pytest

from tests.fixtures.factories import make_user
from tests.fixtures.security import browser

NEW_PASSWORD = "tidal-basin-47-heron"


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_ENABLED": True,
        "PORTAL_LOGIN_RATE_LIMIT": "3 per minute",
        "PORTAL_LOGIN_ACCOUNT_RATE_LIMIT": "2 per minute",
        "PORTAL_SIGNUP_RATE_LIMIT": "3 per minute",
        "PORTAL_SIGNUP_ACCOUNT_RATE_LIMIT": "2 per hour",
        "PORTAL_RESET_RATE_LIMIT": "3 per minute",
        "PORTAL_RESET_ACCOUNT_RATE_LIMIT": "2 per hour",
    }


FORMS = {
    "/auth/login": lambda email: {"email": email, "password": "a wrong guess"},
    "/signup": lambda email: {
        "name": "Someone",
        "email": email,
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        "timezone": "UTC",
    },
    "/reset-password": lambda email: {"email": email},
}


def post(app, path: str, email: str, ip: str):
    return browser(app).post(path, data=FORMS[path](email), environ_base={"REMOTE_ADDR": ip})


@pytest.mark.parametrize("path", FORMS)
def test_one_account_is_limited_across_ips_whether_or_not_it_exists(app, path):
    existing = make_user().email
    for email in (existing, "ghost@example.com"):
        spellings = [email, email.upper(), email]
        codes = [post(app, path, e, f"10.0.{n}.1").status_code for n, e in enumerate(spellings)]
        assert 429 not in codes[:2] and codes[2] == 429, (path, email, codes)


@pytest.mark.parametrize("path", FORMS)
def test_one_ip_is_limited_across_accounts(app, path):
    codes = [post(app, path, f"n{n}@example.com", "10.9.9.9").status_code for n in range(4)]
    assert 429 not in codes[:3] and codes[3] == 429, codes
