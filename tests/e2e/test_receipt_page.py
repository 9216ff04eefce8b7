"""The receipt page on a phone (#20): reached from the order page without JavaScript,
no wider than the screen, no blocking axe finding, and printed as the receipt alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal import booking
from tests.e2e.test_accessibility import assert_clean, findings
from tests.fixtures.browser import VIEWPORTS, fits_the_screen, sign_in, visitor_page
from tests.fixtures.factories import future, make_workshop

pytestmark = pytest.mark.e2e


def test_a_client_opens_and_prints_a_receipt_on_a_phone(
    browser, live_server, practitioner, client_user
):
    workshop = make_workshop(practitioner, start=future(days=9), price_cents=4200)
    order = booking.confirm_payment(
        booking.book_workshop_seat(client_user, workshop), reference="cash"
    )
    reference = order.payments[0].receipt.reference
    width, height = VIEWPORTS["phone"]
    phone = {"width": width, "height": height}

    with visitor_page(browser, java_script_enabled=False, viewport=phone) as page:
        sign_in(page, live_server, client_user)
        page.goto(f"{live_server.url}/orders/{order.id}")
        page.get_by_role("link", name=f"Receipt {reference}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Receipt {reference}")
        expect(page.locator(".receipt-amount")).to_contain_text("$42.00")
        expect(page.locator(".receipt-lines")).to_contain_text(workshop.display_title)
        assert fits_the_screen(page)
        receipt_url = page.url

    with visitor_page(browser, viewport=phone) as page:
        sign_in(page, live_server, client_user)
        page.goto(receipt_url)
        assert_clean(findings(page, "receipt"))
        page.emulate_media(media="print")
        expect(page.locator(".topbar")).to_be_hidden()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
