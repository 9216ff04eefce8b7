"""A visitor books from a practitioner's shared link (#12): picks a 1-on-1 time without an
account, signs in half-way (sign-up is the accounts helper's; an existing client signs in
here), confirms the same time and finds it under My bookings in their own timezone. Once with
JavaScript (the browser's zone is detected) and once without (the zone is picked), at a
phone's width."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from portal.l10n import format_moment
from portal.models import Role
from tests.fixtures.browser import (
    PHONE,
    confirm_and_find_in_my_bookings,
    first_free_time,
    fits_the_screen,
    visitor_page,
)
from tests.fixtures.factories import make_user
from tests.fixtures.l10n import BROWSER_LOCALE

pytestmark = pytest.mark.e2e


def _book_from_the_link(page, live_server, shared_link, visitor_zone: str) -> None:
    client = make_user(Role.CLIENT, name="Tomo Client", timezone="Asia/Tokyo")
    page.goto(f"{live_server.url}{shared_link}")
    expect(page.get_by_role("heading", name="Bodywork and breath.")).to_have_count(0)
    expect(page.get_by_text("Bodywork and breath.")).to_be_visible()
    page.get_by_role("link", name="Pick a time Consultation").click()
    expect(page.get_by_text(f"Times are shown in your timezone, {visitor_zone}.")).to_be_visible()
    assert fits_the_screen(page)

    first, start = first_free_time(page)
    shown = start.astimezone(ZoneInfo(visitor_zone)).strftime("%H:%M")
    expect(first.get_by_role("button")).to_have_text(shown)
    first.get_by_role("button").click()

    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(client.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    in_tokyo = format_moment(start, zone=ZoneInfo("Asia/Tokyo"), locale=BROWSER_LOCALE)
    expect(page.locator("main")).to_contain_text(f"{in_tokyo} (Asia/Tokyo)")
    assert fits_the_screen(page)
    confirm_and_find_in_my_bookings(page, "Consultation", in_tokyo)


def test_a_visitor_books_from_the_shared_link_with_javascript(browser, live_server, shared_link):
    with visitor_page(browser, timezone_id="America/New_York") as page:
        _book_from_the_link(page, live_server, shared_link, "America/New_York")


def test_a_visitor_books_from_the_shared_link_without_javascript_on_a_phone(
    browser, live_server, shared_link
):
    options = {"timezone_id": "America/New_York", "java_script_enabled": False, "viewport": PHONE}
    with visitor_page(browser, **options) as page:
        # Without JavaScript the browser's zone is unknown: times start in UTC until picked.
        page.goto(f"{live_server.url}{shared_link}")
        # One line says which zone; "change" opens the picker (a <details>: no script needed).
        expect(page.get_by_label("Show times in")).to_be_hidden()
        page.get_by_text("Times in UTC · change").click()
        expect(page.get_by_label("Show times in")).to_have_value("UTC")
        page.get_by_label("Show times in").select_option("America/Chicago")
        page.get_by_role("button", name="Use this timezone").click()
        expect(page.get_by_label("Show times in")).to_have_value("America/Chicago")
        _book_from_the_link(page, live_server, shared_link, "America/Chicago")
