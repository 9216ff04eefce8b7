"""The webhook pages on a 390 px phone with JavaScript off: register an endpoint, see
its secret once, send a test ping and read it in the delivery log."""

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.fixtures.browser import menu_link, sign_in
from tests.fixtures.webhook_receiver import local_webhooks

pytestmark = pytest.mark.e2e

app_config = local_webhooks


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    # What overflows its own box, to say where the page grew wide.
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 2)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert width <= 390, f"{page.url} is {width}px wide: {wide}"


def test_register_ping_and_read_the_log_on_a_phone_without_js(
    browser, live_server, practitioner, receiver
):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 390, "height": 844}, locale="en-GB"
    )
    page = context.new_page()
    try:
        sign_in(page, live_server, practitioner)
        page.get_by_text("Menu", exact=True).click()  # the phone's folded navigation
        menu_link(page, "Webhooks").click()
        _fits(page)
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Booking canceled").uncheck()
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.locator("#new-secret").inner_text()
        assert secret.startswith("whsec_")
        _fits(page)

        page.get_by_role("link", name=receiver.url).click()
        page.get_by_role("button", name="Send a test ping").click()
        expect(page.get_by_text("Test ping delivered: HTTP 204.")).to_be_visible()
        expect(page.get_by_text("webhook.ping")).to_be_visible()
        _fits(page)
        request = receiver.requests[0]
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "webhook.ping"

        page.reload()
        assert page.locator("#new-secret").count() == 0
        page.get_by_role("button", name="Delete endpoint").click()
        expect(page.get_by_text("No endpoints yet.")).to_be_visible()
    finally:
        context.close()
