"""Sign-in rate limit, cookie flags, security headers and markup the CSP would block."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from limits import parse

from portal.config import build_config
from tests.fixtures.app import make_app
from tests.fixtures.factories import PASSWORD
from tests.fixtures.livekit import LIVEKIT_URL
from tests.fixtures.security import (
    browser,
    csp_blocked_markup,
    csrf_token_of,
    missing_security_headers,
)

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"


class TestLoginRateLimit:
    @pytest.fixture
    def app_config(self, tmp_path):
        # The limit exactly as a deployment gets it: from the environment-fed config.
        limit = build_config(str(tmp_path))["PORTAL_LOGIN_RATE_LIMIT"]
        return {
            "RATELIMIT_ENABLED": True,
            "WTF_CSRF_ENABLED": True,
            "PORTAL_LOGIN_RATE_LIMIT": limit,
        }

    def attempt(self, client, user, password, address="203.0.113.7"):
        page = client.get("/auth/login", environ_base={"REMOTE_ADDR": address})
        data = {"email": user.email, "password": password}
        data["csrf_token"] = csrf_token_of(page.get_data(as_text=True))
        return client.post("/auth/login", data=data, environ_base={"REMOTE_ADDR": address})

    def test_guessing_stops_at_the_configured_limit_even_for_the_right_password(
        self, app, client_user
    ):
        allowed = parse(app.config["PORTAL_LOGIN_RATE_LIMIT"]).amount
        guesser = browser(app)
        for _ in range(allowed):
            response = self.attempt(guesser, client_user, "wrong guess")
            assert response.status_code == 200
            assert b"Email or password is not right." in response.data
        refused = self.attempt(guesser, client_user, PASSWORD)
        assert refused.status_code == 429
        assert b"Too many sign-in attempts" in refused.data
        assert missing_security_headers(refused) == []
        assert guesser.get("/bookings/").status_code == 302  # not signed in

        # The limit is per address: the real owner elsewhere still gets in.
        owner = browser(app)
        assert self.attempt(owner, client_user, PASSWORD, address="198.51.100.2").status_code == 302
        assert owner.get("/bookings/").status_code == 200

    def test_reading_the_sign_in_page_is_not_counted(self, app, client_user):
        allowed = parse(app.config["PORTAL_LOGIN_RATE_LIMIT"]).amount
        reader = browser(app)
        address = {"REMOTE_ADDR": "192.0.2.44"}
        for _ in range(allowed + 2):
            assert reader.get("/auth/login", environ_base=address).status_code == 200
        assert self.attempt(reader, client_user, PASSWORD, address="192.0.2.44").status_code == 302


def cookie_flags(response, name: str) -> dict[str, str | bool]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))
    flags = {}
    for part in header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        flags[key.lower()] = value or True
    return flags


def remembered_sign_in(app, user):
    client = browser(app)
    response = client.post(
        "/auth/login", data={"email": user.email, "password": PASSWORD, "remember_me": "y"}
    )
    assert response.status_code == 302
    return response


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_sign_in_cookies_are_httponly_and_samesite_lax(app, client_user, cookie):
    flags = cookie_flags(remembered_sign_in(app, client_user), cookie)
    assert flags.get("httponly") is True
    assert flags.get("samesite") == "Lax"
    assert "secure" not in flags  # plain http in development: a Secure cookie would be lost


def test_plain_http_development_gets_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers


class TestBehindHttps:
    @pytest.fixture
    def app_config(self, monkeypatch):
        # Set the way an operator sets it: in the environment the config is read from.
        monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
        return {}

    def test_browsers_are_told_to_keep_to_https(self, app, client):
        assert client.get("/auth/login").headers["Strict-Transport-Security"] == (
            "max-age=31536000"
        )

    @pytest.mark.parametrize("cookie", ["session", "remember_token"])
    def test_cookies_are_secure(self, app, client_user, cookie):
        flags = cookie_flags(remembered_sign_in(app, client_user), cookie)
        assert flags.get("secure") is True
        assert flags.get("httponly") is True
        assert flags.get("samesite") == "Lax"


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no/such/page", "/feeds/unknown.ics"])
def test_anonymous_answers_carry_the_security_headers(client, path):
    response = client.get(path)
    if response.mimetype == "text/html":
        assert missing_security_headers(response) == []
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_header_check_catches_a_weakened_policy(client):
    """The checker the matrix relies on must notice each weakening."""
    response = client.get("/auth/login")
    assert missing_security_headers(response) == []
    response.headers["Content-Security-Policy"] = response.headers[
        "Content-Security-Policy"
    ].replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    del response.headers["Referrer-Policy"]
    problems = missing_security_headers(response)
    assert len(problems) == 3, problems


def connect_sources(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directive = next(d.split() for d in policy.split(";") if d.split()[0] == "connect-src")
    return directive[1:]


@pytest.mark.parametrize(
    ("app_config", "expected"),
    [
        ({"LIVEKIT_URL": ""}, ["'self'"]),
        (
            {"LIVEKIT_URL": LIVEKIT_URL},
            ["'self'", "wss://livekit.portal.test", "https://livekit.portal.test"],
        ),
        # A development server over plain ws://, on a port, reached under a path.
        (
            {"LIVEKIT_URL": "ws://127.0.0.1:7880/rtc"},
            ["'self'", "ws://127.0.0.1:7880", "http://127.0.0.1:7880"],
        ),
    ],
)
def test_pages_may_connect_only_to_the_portal_and_its_livekit_server(client, expected):
    for path in ("/auth/login", "/api/v1/openapi.json", "/no/such/page"):
        sources = connect_sources(client.get(path))
        assert sources == expected, path
        # No scheme wildcard (wss:, https:) and no host wildcard.
        assert not any(source.endswith(":") or "*" in source for source in sources)


@pytest.mark.parametrize("livekit_url", ["livekit.example.com", "ftp://livekit.example.com"])
def test_a_livekit_url_that_names_no_server_stops_the_app_starting(database_url, livekit_url):
    with pytest.raises(ValueError, match="LIVEKIT_URL"):
        make_app(database_url, LIVEKIT_URL=livekit_url)


@pytest.mark.parametrize(
    "markup",
    [
        "<script>alert(1)</script>",
        '<button onclick="go()">',
        '<div style="color:red">',
        "<style>p{}</style>",
        '<a href="javascript:go()">',
        '<form hx-on::after-request="go()">',
        """<div hx-vals='js:{a: 1}'>""",
    ],
)
def test_the_markup_check_catches_what_the_csp_blocks(markup):
    assert csp_blocked_markup(f"<p>{markup}</p>")


def test_the_markup_check_allows_self_hosted_scripts():
    assert csp_blocked_markup('<script src="/static/js/join.js" defer></script>') == []


def test_no_template_has_markup_the_csp_would_block():
    # Mail is read in mail clients, never served under the CSP, and styles only inline.
    templates = sorted(p for p in TEMPLATES.rglob("*.html") if p.parts[-2] != "emails")
    assert len(templates) > 20
    found = [
        f"{path.relative_to(TEMPLATES)}: {problem}"
        for path in templates
        for problem in csp_blocked_markup(JINJA_COMMENT.sub("", path.read_text()))
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",  # browsers read "/\" as "//": another host
        "/\\/evil.example/",
        "\\\\evil.example/",
        "/\r\n//evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_sends_anyone_to_another_site(app, client_user, target):
    client = browser(app)
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": client_user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    # Resolved as a browser does: a backslash counts as a slash, tabs and newlines vanish.
    location = re.sub(r"[\t\r\n]", "", response.headers["Location"]).replace("\\", "/")
    resolved = urlsplit(urljoin("http://portal.test/auth/login", location))
    assert (resolved.scheme, resolved.netloc) == ("http", "portal.test")


def test_sign_in_still_returns_to_the_page_asked_for(app, client_user):
    response = browser(app).post(
        "/auth/login?next=/bookings/%3Fday%3D2030-01-01",
        data={"email": client_user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/bookings/?day=2030-01-01"


def test_a_deactivated_account_loses_its_open_sessions(app, client_user):
    """Deactivation stops sign-in, API tokens and feeds; it must end open sessions too,
    remember-me cookie included."""
    from portal.extensions import db

    remembered = browser(app)
    remembered.post(
        "/auth/login",
        data={"email": client_user.email, "password": PASSWORD, "remember_me": "y"},
    )
    assert remembered.get("/bookings/").status_code == 200
    client_user.is_active_account = False
    db.session.commit()

    response = remembered.get("/bookings/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    remembered.delete_cookie("session", domain="portal.test")
    assert remembered.get("/bookings/").status_code == 302  # the remember cookie alone


def test_changing_the_password_signs_out_every_other_session(app, client_user):
    """A stolen session or remember-me cookie must not outlive the password it came from;
    the browser that changed the password stays signed in."""
    thief = browser(app)
    thief.post(
        "/auth/login",
        data={"email": client_user.email, "password": PASSWORD, "remember_me": "y"},
    )
    owner = browser(app)
    owner.post(
        "/auth/login",
        data={"email": client_user.email, "password": PASSWORD, "remember_me": "y"},
    )
    assert thief.get("/bookings/").status_code == 200

    changed = owner.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a fresh passphrase",
            "confirm_password": "a fresh passphrase",
        },
    )
    assert changed.status_code == 302
    assert owner.get("/bookings/").status_code == 200
    owner.delete_cookie("session", domain="portal.test")
    assert owner.get("/bookings/").status_code == 200  # remembered under the new password

    refused = thief.get("/bookings/")
    assert refused.status_code == 302
    assert "/auth/login" in refused.headers["Location"]
    thief.delete_cookie("session", domain="portal.test")
    assert thief.get("/bookings/").status_code == 302  # the remember cookie alone


def test_sign_in_costs_one_password_hash_whether_or_not_the_email_exists(
    app, client_user, monkeypatch
):
    """Answer times must not tell which emails have accounts: an unknown email is put
    through the same (deliberately slow) hash check as a wrong password."""
    import werkzeug.security

    from portal import accounts
    from portal.models import users

    checks = []

    def counting(pwhash, password):
        checks.append(pwhash)
        return werkzeug.security.check_password_hash(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    # The stand-in check for an unknown email lives with the account operations.
    monkeypatch.setattr(accounts.operations, "check_password_hash", counting)
    for email in (client_user.email, "nobody-here@example.com"):
        checks.clear()
        response = browser(app).post("/auth/login", data={"email": email, "password": "wrong"})
        assert b"Email or password is not right." in response.data
        assert len(checks) == 1, email
        assert checks[0].startswith(("scrypt:", "pbkdf2:"))


def test_without_card_payments_forms_post_only_to_the_portal(client):
    """Stripe's Checkout joins form-action only when Stripe is configured
    (tests/integration/test_stripe_checkout.py checks that side)."""
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    assert "form-action 'self'" in policy and "stripe" not in policy
