"""CSRF: every state-changing HTML route refuses a POST without the session's token and
changes nothing; the same POST with the token (the form field a page renders, or the
X-CSRFToken header htmx sends from <body hx-headers>) gets through.

The POST routes come from the URL map, so a new form route is covered the day it is
added. Only the bearer-token API, the signed LiveKit webhook and the one-click
unsubscribe (RFC 8058: a mail client posts it, with its signed token and no cookie) are
exempt, and they are checked to stay that way."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tests.fixtures.security import (
    CSRF_REFUSAL,
    PERSONAS,
    browser,
    changed_tables,
    csrf_token_of,
    sign_in,
    snapshot,
)
from tests.security.test_authorization_matrix import OK, ROWS, TABLE, outcome, world_value

# Whom each form is posted as: the first of these the matrix lets through.
PREFERENCE = ("client", "practitioner", "staff", "anonymous")
# Accepted, these end the poster's sign-in on the server.
SIGNS_OUT = {"auth.logout", "auth.sign_out_everywhere"}
HX_HEADERS = re.compile(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""")


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def exempt(endpoint: str) -> bool:
    return endpoint.startswith("api.") or endpoint in (
        "webhooks.livekit",
        # Stripe signs its events (Stripe-Signature); a browser's cookie never reaches it.
        "webhooks.stripe_event",
        "notifications.unsubscribe",
    )


def form_routes(app) -> list[str]:
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    return [r.endpoint for r in TABLE if r.endpoint in posts and not exempt(r.endpoint)]


def poster(endpoint: str) -> str:
    expected = ROWS[endpoint].expected
    return next(p for p in PREFERENCE if expected[PERSONAS.index(p)] == OK)


class Browsers:
    """One test client per persona, signed in through the CSRF-protected form."""

    def __init__(self, app, world):
        self.app, self.world, self._clients = app, world, {}

    def __call__(self, persona: str):
        if persona not in self._clients:
            user = self.world.user(persona)
            self._clients[persona] = (
                sign_in(self.app, user, csrf=True) if user else browser(self.app)
            )
        return self._clients[persona]

    def forget(self, persona: str) -> None:
        """The persona signed out: the next call signs in afresh."""
        self._clients.pop(persona, None)

    def path(self, endpoint: str) -> str:
        r = ROWS[endpoint]
        args = {name: world_value(self.world, attr) for name, attr in r.args.items()}
        with self.app.test_request_context():
            return url_for(endpoint, **args)


def test_the_form_routes_are_the_ones_expected(app):
    """A sanity check that the enumeration found the portal's forms."""
    routes = form_routes(app)
    assert {"auth.login", "auth.logout", "shop.buy", "bookings.cancel"} <= set(routes)
    assert len(routes) >= 25


def test_every_form_route_refuses_a_post_without_the_token(app, world):
    browsers = Browsers(app, world)
    failures = []
    for endpoint in form_routes(app):
        persona = poster(endpoint)
        client = browsers(persona)  # signing in writes a session row: before the snapshot
        before = snapshot()
        response = client.post(browsers.path(endpoint), data={})
        where = f"POST {endpoint} as {persona} without a CSRF token"
        if response.status_code != 400 or not CSRF_REFUSAL.search(response.data):
            failures.append(f"{where}: answered {response.status_code}")
        if changed := changed_tables(before, snapshot()):
            failures.append(f"{where}: changed {', '.join(changed)}")
        wrong = browsers(persona).post(browsers.path(endpoint), data={"csrf_token": "forged"})
        if wrong.status_code != 400:
            failures.append(f"POST {endpoint} with a forged token: answered {wrong.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("carrier", ["form field", "htmx header"])
def test_every_form_route_accepts_the_token_of_the_page(app, world, carrier):
    browsers = Browsers(app, world)
    failures = []
    for endpoint in form_routes(app):
        persona = poster(endpoint)
        browser = browsers(persona)
        page = browser.get(url_for("auth.login" if persona == "anonymous" else "home.index"))
        html = page.get_data(as_text=True)
        if carrier == "form field":
            response = browser.post(
                browsers.path(endpoint), data={"csrf_token": csrf_token_of(html)}
            )
        else:
            token = HX_HEADERS.search(html).group(1)
            response = browser.post(
                browsers.path(endpoint),
                data={},
                headers={"X-CSRFToken": token, "HX-Request": "true"},
            )
        got = outcome(response)
        if got != OK or CSRF_REFUSAL.search(response.data):
            failures.append(f"POST {endpoint} as {persona} ({carrier}): {response.status_code}")
        if endpoint in SIGNS_OUT:
            browsers.forget(persona)
    assert not failures, "\n".join(failures)


def test_the_api_and_the_webhook_never_take_the_cookie(app, world):
    """Exempt from CSRF because they ignore the sign-in cookie: a signed-in browser
    posting to them without their own credential is turned away and changes nothing."""
    browser = sign_in(app, world.client, csrf=True)
    before = snapshot()
    order = browser.post("/api/v1/orders", json={"service_id": world.bundle.id})
    assert order.status_code == 401
    hook = browser.post(
        "/webhooks/livekit", data="{}", headers={"Content-Type": "application/webhook+json"}
    )
    assert hook.status_code == 401
    assert changed_tables(before, snapshot()) == []


def test_the_one_click_unsubscribe_acts_only_on_its_signed_token(app, world):
    """Exempt because the signed token, not the cookie, says whose messages stop: a
    signed-in browser posting a forged or altered token is turned away, changing nothing."""
    browser = sign_in(app, world.client, csrf=True)
    before = snapshot()
    for token in ("forged", world.unsubscribe_token[:-2] + "xx"):
        answer = browser.post(url_for("notifications.unsubscribe", token=token))
        assert answer.status_code == 404
    assert changed_tables(before, snapshot()) == []
    answer = browser.post(
        url_for("notifications.unsubscribe", token=world.unsubscribe_token),
        data={"List-Unsubscribe": "One-Click"},
    )
    assert answer.status_code == 200
    assert changed_tables(before, snapshot()) == ["notification_preferences"]
