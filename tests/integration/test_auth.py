from __future__ import annotations

import re

import pytest

from tests.fixtures.factories import PASSWORD


def test_landing_page_answers_anonymously(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_sign_in_and_out(client, auth, practitioner):
    response = auth.login(practitioner)
    assert response.status_code == 302
    page = client.get("/")
    assert practitioner.name.encode() in page.data
    assert b"<h1>Dashboard</h1>" in page.data
    auth.logout()
    assert b"<h1>Dashboard</h1>" not in client.get("/").data


def test_wrong_password_re_renders_with_the_error(client, auth, client_user):
    response = auth.login(client_user, password="nope")
    assert response.status_code == 200
    assert b"Email or password is not right." in response.data


def test_next_parameter_cannot_redirect_off_site(client, client_user):
    response = client.post(
        "/auth/login?next=https://evil.example/",
        data={"email": client_user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_password_change_requires_the_current_password(client, auth, client_user):
    auth.login(client_user)
    wrong = client.post(
        "/auth/password",
        data={
            "current_password": "wrong",
            "new_password": "a-new-password",
            "confirm_password": "a-new-password",
        },
    )
    assert b"That is not your current password." in wrong.data
    right = client.post(
        "/auth/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-password",
            "confirm_password": "a-new-password",
        },
    )
    assert right.status_code == 302
    auth.logout()
    assert auth.login(client_user, password="a-new-password").status_code == 302


class TestWithProtection:
    @pytest.fixture
    def app_config(self):
        return {
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": True,
            "PORTAL_LOGIN_RATE_LIMIT": "3 per minute",
        }

    def test_login_without_csrf_token_is_refused(self, client, client_user):
        response = client.post(
            "/auth/login", data={"email": client_user.email, "password": PASSWORD}
        )
        assert response.status_code == 400
        assert b"CSRF" in response.data

    def test_login_attempts_are_rate_limited_with_a_clear_message(self, client, client_user):
        page = client.get("/auth/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        attempt = {"email": client_user.email, "password": "x", "csrf_token": token}
        for _ in range(3):
            assert (
                b"Email or password is not right." in client.post("/auth/login", data=attempt).data
            )
        response = client.post("/auth/login", data=attempt)
        assert response.status_code == 429
        assert b"Too many sign-in attempts" in response.data

    def test_pages_carry_security_headers(self, client):
        response = client.get("/auth/login")
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
