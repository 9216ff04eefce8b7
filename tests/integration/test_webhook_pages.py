"""The outbound webhook pages: register an endpoint (its secret shown once), the
delivery log with each attempt, the test ping, the banner of a disabled endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from standardwebhooks import Webhook

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import DeliveryStatus, Role, WebhookDelivery, WebhookEndpoint
from portal.webhooks_out import delivery
from portal.webhooks_out.endpoints import register_endpoint
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.webhook_receiver import GARBAGE, local_webhooks

app_config = local_webhooks

EVENTS = ["booking.created", "booking.canceled"]


def _register(web, url, events=EVENTS, **extra):
    return web.post("/settings/webhooks/", data={"url": url, "event_types": events, **extra})


def test_registering_shows_the_secret_once(signed_in, practitioner, receiver):
    web = signed_in(practitioner)
    page = _register(web, receiver.url, description="CRM sync")
    assert page.status_code == 201
    assert page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<', page.text).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert endpoint.secret == secret and endpoint.url == receiver.url
    assert [t.value for t in endpoint.event_types] == EVENTS
    again = web.get("/settings/webhooks/")
    assert secret not in again.text and receiver.url in again.text
    assert secret not in web.get(f"/settings/webhooks/{endpoint.id}").text


def test_refusals_show_on_the_form(app, signed_in, practitioner):
    web = signed_in(practitioner)
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    app.config["PORTAL_WEBHOOKS_ALLOW_HTTP"] = False
    for url, message in [
        ("http://hooks.example.com/", "https://"),
        ("https://127.0.0.1/in", "private, loopback"),
        ("not a url", "https://"),
    ]:
        page = _register(web, url)
        assert page.status_code == 200 and message in page.text, url
    page = _register(web, "https://hooks.example.com/", events=[])
    assert "Choose at least one event." in page.text
    page = _register(web, "https://hooks.example.com/", events=["webhook.ping"])
    assert page.status_code == 200 and "is not a valid choice" in page.text
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_test_ping_and_the_delivery_log(signed_in, practitioner, client_user, receiver):
    web = signed_in(practitioner)
    endpoint = register_endpoint(practitioner, receiver.url, ["booking.created"])
    answer = web.post(f"/settings/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "Test ping delivered: HTTP 204." in answer.text
    Webhook(endpoint.secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    workshop = make_workshop(practitioner)
    receiver.status = 503
    booking.purchase(client_user, workshop.service, session=workshop)
    delivery.deliver_due()
    log = web.get(f"/settings/webhooks/{endpoint.id}").text
    pending = db.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
    )
    assert pending.event.message_id in log
    assert "HTTP 503" in log and "HTTP 204" in log and " ms" in log
    assert "booking.created" in log and "webhook.ping" in log


def test_a_disabled_endpoint_has_a_banner_and_can_be_enabled(signed_in, practitioner, receiver):
    endpoint = register_endpoint(practitioner, receiver.url, ["booking.created"])
    receiver.status = 500
    client = make_user()
    workshop = make_workshop(practitioner)
    start = utcnow()
    booking.purchase(client, workshop.service, session=workshop, now=start)
    delivery.deliver_due(now=start)
    delivery.deliver_due(now=start + timedelta(hours=24))
    web = signed_in(practitioner)
    listing = web.get("/settings/webhooks/").text
    assert 'role="alert"' in listing and "was disabled" in listing
    assert "Every delivery failed for 24 hours." in listing
    web.post(f"/settings/webhooks/{endpoint.id}/enable")
    assert "was disabled" not in web.get("/settings/webhooks/").text


def test_owners_only(signed_in, practitioner, receiver):
    endpoint = register_endpoint(practitioner, receiver.url, ["booking.created"])
    other = make_user(Role.PRACTITIONER)
    web = signed_in(other)
    assert web.get(f"/settings/webhooks/{endpoint.id}").status_code == 404
    assert web.post(f"/settings/webhooks/{endpoint.id}/delete").status_code == 404
    assert receiver.url not in web.get("/settings/webhooks/").text
    assert db.session.get(WebhookEndpoint, endpoint.id) is not None


def test_delete(signed_in, practitioner, receiver):
    endpoint = register_endpoint(practitioner, receiver.url, ["booking.created"])
    web = signed_in(practitioner)
    answer = web.post(f"/settings/webhooks/{endpoint.id}/delete", follow_redirects=True)
    assert "deleted" in answer.text
    db.session.expire_all()
    assert db.session.scalar(select(WebhookEndpoint)) is None


def test_a_garbage_answer_to_the_test_ping_is_shown_not_a_500(
    signed_in, practitioner, raw_receivers
):
    endpoint = register_endpoint(
        practitioner, raw_receivers(GARBAGE["bad status line"]).url, ["booking.created"]
    )
    web = signed_in(practitioner)
    answer = web.post(f"/settings/webhooks/{endpoint.id}/test")
    assert answer.status_code == 302
    page = web.get(answer.headers["Location"]).text
    assert "Test ping failed: BadStatusLine" in page and "It will be retried." in page


def test_a_url_is_stored_normalised_and_one_with_a_space_is_refused(signed_in, practitioner):
    web = signed_in(practitioner)
    page = _register(web, "http://127.0.0.1:9/hooks in")
    assert page.status_code == 200 and "cannot contain spaces" in page.text
    assert _register(web, "HTTP://Hooks.Example.com:80/café").status_code == 201
    assert db.session.scalar(select(WebhookEndpoint.url)) == "http://hooks.example.com/caf%C3%A9"
