"""The token settings page and the create-token command."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import accounts, api_tokens
from portal.extensions import db
from portal.models import ApiToken
from tests.fixtures.factories import PASSWORD, make_user

TOKEN = re.compile(r"est_[0-9a-f]{12}_[A-Za-z0-9_-]{40,}")


def test_settings_need_sign_in(client):
    response = client.get("/settings/tokens/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_nav_links_to_the_token_page(client, auth, practitioner):
    auth.login(practitioner, PASSWORD)
    assert 'href="/settings/tokens/"' in client.get("/").get_data(as_text=True)


def test_create_shows_the_token_once_and_it_works(client, auth, client_user):
    auth.login(client_user, PASSWORD)

    response = client.post("/settings/tokens/", data={"name": "my calendar app"})

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    raw = TOKEN.search(page).group(0)
    assert "shown this once" in page and "my calendar app" in page
    assert api_tokens.user_for_token(raw) == client_user
    again = client.get("/settings/tokens/").get_data(as_text=True)
    assert "my calendar app" in again and raw not in again and TOKEN.search(again) is None


def test_create_needs_a_name(client, auth, client_user):
    auth.login(client_user, PASSWORD)
    response = client.post("/settings/tokens/", data={"name": ""}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_revoke_own_token(client, auth, client_user):
    token, raw = api_tokens.issue_token(client_user, "old script")
    auth.login(client_user, PASSWORD)

    response = client.post(f"/settings/tokens/{token.id}/revoke", follow_redirects=True)

    assert "Token “old script” is revoked." in response.get_data(as_text=True)
    assert api_tokens.user_for_token(raw) is None
    api = client.get("/api/v1/services/", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 401


def test_revoke_via_htmx_returns_the_fragment(client, auth, client_user):
    token, _raw = api_tokens.issue_token(client_user, "old script")
    auth.login(client_user, PASSWORD)
    response = client.post(f"/settings/tokens/{token.id}/revoke", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="tokens">') and "<html" not in html
    assert "revoked" in html


def test_someone_elses_token_cannot_be_revoked_and_is_not_listed(client, auth, client_user):
    other = make_user()
    token, raw = api_tokens.issue_token(other, "theirs")
    auth.login(client_user, PASSWORD)

    assert "theirs" not in client.get("/settings/tokens/").get_data(as_text=True)
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 404
    assert api_tokens.user_for_token(raw) == other


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_token_forms_are_csrf_protected(client, auth, client_user):
    token, raw = api_tokens.issue_token(client_user, "keep")
    with client.session_transaction() as session:
        session["_user_id"] = accounts.record_sign_in(client_user).get_id()
        session["_fresh"] = True
    assert client.post("/settings/tokens/", data={"name": "x"}).status_code == 400
    assert client.post(f"/settings/tokens/{token.id}/revoke").status_code == 400
    assert api_tokens.user_for_token(raw) == client_user
    page = client.get("/settings/tokens/").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_cli_create_token_prints_a_working_token(runner, practitioner):
    result = runner.invoke(args=["create-token", practitioner.email.upper(), "--name", "ci"])

    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert TOKEN.fullmatch(raw)
    assert api_tokens.user_for_token(raw) == practitioner
    assert db.session.scalar(select(ApiToken.name)) == "ci"


def test_cli_create_token_for_unknown_email_fails(runner, app):
    result = runner.invoke(args=["create-token", "nobody@example.com"])
    assert result.exit_code != 0
    assert "no account for nobody@example.com" in result.output
    assert db.session.scalars(select(ApiToken)).all() == []
