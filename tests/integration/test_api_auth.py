"""Bearer-token authentication of the JSON API, and its JSON errors."""

from __future__ import annotations

import pytest

from portal import api_tokens
from portal.extensions import db
from tests.fixtures.api import error_of
from tests.fixtures.factories import PASSWORD

CALENDAR = "/api/v1/calendar/?start=2030-01-01T00:00:00Z&end=2030-01-08T00:00:00Z"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token est_x_y"],
)
def test_missing_or_non_bearer_authorization_is_401(client, client_user, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(CALENDAR, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client, client_user):
    response = client.get(CALENDAR, headers={"Authorization": "Bearer est_abcdef_nope"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_revoked_token_stops_working_at_once(client, client_user):
    token, raw = api_tokens.issue_token(client_user, "x")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get(CALENDAR, headers=headers).status_code == 200

    api_tokens.revoke_token(token)

    response = client.get(CALENDAR, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_deactivated_account_token_is_401(api_as, client_user):
    api = api_as(client_user)
    client_user.is_active_account = False
    db.session.commit()
    assert api.get(CALENDAR).status_code == 401


def test_scheme_is_case_insensitive(client, client_user):
    _token, raw = api_tokens.issue_token(client_user, "x")
    assert client.get(CALENDAR, headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_a_signed_in_browser_session_does_not_authenticate_the_api(client, signed_in, client_user):
    signed_in(client_user)
    assert client.get("/").status_code == 200
    response = client.get(CALENDAR)
    assert response.status_code == 401


def test_unknown_api_path_and_wrong_method_answer_json(api_as, client_user):
    api = api_as(client_user)
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = api.get("/api/v1/orders")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    outside = api.get("/no-such-page")
    assert outside.status_code == 404 and outside.mimetype == "text/html"


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_api_needs_no_csrf_token_but_html_forms_still_do(client, api_as, client_user):
    api = api_as(client_user)
    response = api.post("/api/v1/orders", json={"service_id": 999})
    assert response.status_code == 422  # reached the view: no CSRF refusal
    html = client.post("/auth/login", data={"email": client_user.email, "password": PASSWORD})
    assert html.status_code == 400
