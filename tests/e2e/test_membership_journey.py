"""A membership on a phone (#21): the client subscribes from the plan's page (Stripe's Checkout
page stands in; the subscription is made at localstripe and its signed events delivered to the
portal), books three classes with it, cancels one in time and has the class back; each page
fits 390 px and has no critical or serious axe finding."""

from __future__ import annotations

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from portal import booking
from tests.fixtures.browser import fits_the_screen, sign_in
from tests.fixtures.factories import future
from tests.fixtures.memberships import make_plan
from tests.fixtures.passes import make_group_class
from tests.fixtures.stripe_billing import subscribe_at_stripe
from tests.fixtures.stripe_server import signed_event, stripe_config

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
BLOCKING = {"critical", "serious"}


@pytest.fixture
def app_config(billing_fake):
    return stripe_config(billing_fake.url)


def blocking_findings(page) -> list[str]:
    return [
        f"{page.url}: {v['id']} ({v['impact']})"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def phone(browser):
    context = browser.new_context(timezone_id="UTC", locale="en-GB", viewport=PHONE)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _deliver(live_server, event_type: str, object_id: str, obj: str) -> None:
    body, headers = signed_event(event_type, {"id": object_id, "object": obj})
    answer = requests.post(f"{live_server.url}/webhooks/stripe", data=body, headers=headers)
    assert answer.status_code == 200


def test_subscribe_book_three_classes_and_cancel_one_in_time(
    phone, live_server, practitioner, client_user, localstripe_url
):
    yoga = make_group_class(practitioner, name="Yoga", cancellation_cutoff_hours=24)
    plan = make_plan(practitioner, credits=3, services=[yoga], name="Yoga monthly")
    for days in (3, 4, 5):
        booking.create_session(yoga, start_time=future(days=days))
    sign_in(phone, live_server, client_user)

    phone.goto(f"{live_server.url}/book/services/{plan.id}")
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []
    # Stripe's hosted page is not reachable from the tests: a stand-in answers for it.
    phone.route(
        "https://checkout.stripe.com/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body="<!doctype html><html lang=en><title>Checkout</title><h1>Stripe</h1></html>",
        ),
    )
    phone.get_by_role("button", name="Subscribe to Yoga monthly").click()
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []
    phone.get_by_role("link", name="Continue to payment").click()
    phone.wait_for_url("https://checkout.stripe.com/**")

    # The client pays there; Stripe tells the portal.
    sub_id, first_invoice = subscribe_at_stripe(localstripe_url, client_user, plan)
    _deliver(live_server, "customer.subscription.created", sub_id, "subscription")
    _deliver(live_server, "invoice.paid", first_invoice, "invoice")
    booking.apply_payment_events()

    phone.goto(f"{live_server.url}/memberships?returned=1")
    main = phone.locator("main")
    expect(main).to_contain_text("Active")
    expect(main).to_contain_text("3")
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []

    phone.get_by_role("link", name="Book a class").first.click()
    assert fits_the_screen(phone)
    for _ in range(3):
        phone.get_by_role("button", name="Book with this pass").first.click()
        expect(phone.locator(".flash.success")).to_contain_text("You have a seat in Yoga")

    phone.goto(f"{live_server.url}/memberships")
    expect(phone.locator(".membership dd").first).to_have_text("0")

    phone.goto(f"{live_server.url}/bookings/")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("#upcoming").get_by_role("button", name="Cancel").first.click()
    expect(phone.locator(".flash.success")).to_be_visible()

    phone.goto(f"{live_server.url}/memberships")
    expect(phone.locator(".membership dd").first).to_have_text("1")
    assert blocking_findings(phone) == []
