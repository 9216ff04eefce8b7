"""A due fee and the payouts page on a phone (#20): the client finds what they owe on My
bookings and the order page, the practitioner the fee's controls and their payouts page;
each fits 390 px and has no blocking axe finding."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import assert_clean, findings
from tests.fixtures.browser import VIEWPORTS, fits_the_screen, sign_in, visitor_page
from tests.fixtures.fees import owe_due_fees

pytestmark = pytest.mark.e2e


def test_a_due_fee_on_a_phone(browser, live_server, practitioner, client_user):
    [fee] = owe_due_fees(practitioner, [client_user])
    width, height = VIEWPORTS["phone"]
    phone = {"width": width, "height": height}

    with visitor_page(browser, java_script_enabled=False, viewport=phone) as page:
        sign_in(page, live_server, client_user)
        page.goto(f"{live_server.url}/bookings/")
        expect(page.get_by_role("heading", name="Fees due")).to_be_visible()
        page.get_by_role("link", name="Pay it on the order's page").click()
        expect(page.locator(".fee-due")).to_contain_text("$15.00 is due")
        assert fits_the_screen(page)

    with visitor_page(browser, viewport=phone) as page:
        sign_in(page, live_server, client_user)
        page.goto(f"{live_server.url}/bookings/")
        assert_clean(findings(page, "my bookings with a fee due"))

    with visitor_page(browser, viewport=phone) as page:
        sign_in(page, live_server, practitioner)
        page.goto(f"{live_server.url}/orders/{fee.order_id}")
        expect(page.get_by_role("button", name="Mark fee paid")).to_be_visible()
        assert fits_the_screen(page)
        assert_clean(findings(page, "order with a fee due"))
        page.goto(f"{live_server.url}/settings/payouts/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Payouts")
        assert fits_the_screen(page)
        assert_clean(findings(page, "payouts"))
