"""Answers made for one person carry `Cache-Control: private, no-store`, so neither a shared
proxy nor the back button after sign-out shows them to someone else; public pages and
static files keep their normal caching."""

from __future__ import annotations

import pytest

from portal.calendar_feeds import rotate_feed
from tests.fixtures.security import browser, sign_in

PRIVATE = "private, no-store"
WINDOW = {"start": "2030-01-01T00:00:00Z", "end": "2030-02-01T00:00:00Z"}


def cache_control(response) -> str:
    return response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/", "/bookings/", "/auth/password", "/no/such/page"])
def test_signed_in_pages_are_private_and_not_stored(app, client_user, path):
    assert cache_control(sign_in(app, client_user).get(path)) == PRIVATE


def test_an_htmx_fragment_for_a_signed_in_user_is_private_too(app, practitioner):
    response = sign_in(app, practitioner).get("/calendar/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert cache_control(response) == PRIVATE


def test_api_answers_to_a_bearer_token_are_private_and_not_stored(api_as, client_user):
    api = api_as(client_user)
    assert cache_control(api.get("/api/v1/calendar/", query_string=WINDOW)) == PRIVATE
    # A refusal of the token is no one's business either.
    unknown = {"Authorization": "Bearer est_nope"}
    refused = api.get("/api/v1/calendar/", query_string=WINDOW, headers=unknown)
    assert refused.status_code == 401
    assert cache_control(refused) == PRIVATE


@pytest.mark.parametrize("path", ["/auth/login", "/api/v1/openapi.json"])
def test_anonymous_public_answers_keep_their_normal_caching(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" not in cache_control(response)
    assert "private" not in cache_control(response)


def test_static_files_keep_their_normal_caching_even_when_signed_in(app, client_user):
    anonymous = browser(app).get("/static/css/portal.css")
    signed_in = sign_in(app, client_user).get("/static/css/portal.css")
    assert signed_in.status_code == anonymous.status_code == 200
    assert cache_control(signed_in) == cache_control(anonymous)
    assert "no-store" not in cache_control(signed_in)
    for response in (anonymous, signed_in):
        response.close()  # a file response holds the file open until closed


def test_a_calendar_feed_is_private_and_keeps_its_own_policy_for_its_owner(app, client_user):
    token = rotate_feed(client_user)
    path = f"/feeds/{token}.ics"

    fetched_by_an_app = browser(app).get(path)
    opened_while_signed_in = sign_in(app, client_user).get(path)

    for response in (fetched_by_an_app, opened_while_signed_in):
        assert response.status_code == 200
        assert response.mimetype == "text/calendar"
        assert cache_control(response).startswith("private")
    # The feed's own policy (calendar apps may poll it) wins over the signed-in default.
    assert cache_control(opened_while_signed_in) == cache_control(fetched_by_an_app)
