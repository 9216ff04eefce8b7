"""A visitor books from a practitioner's shared link (#12): picks a 1-on-1 time without an
account, signs in half-way (sign-up is the accounts helper's; an existing client signs in
here), confirms the same time and finds it under My bookings in their own timezone. Once with
JavaScript (the browser's zone is detected) and once without (the zone is picked), at a
phone's width."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from portal import profiles
from portal.extensions import db
from portal.l10n import format_moment
from portal.models import Role
from tests.fixtures.factories import make_service, make_user, open_all_week
from tests.fixtures.l10n import BROWSER_LOCALE

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shared_link(practitioner):
    open_all_week(practitioner)
    make_service(practitioner, name="Consultation", price_cents=0, duration_minutes=60)
    profiles.save_public_profile(practitioner, slug="maya-rivers", bio="Bodywork and breath.")
    db.session.commit()
    return "/p/maya-rivers"


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _book_from_the_link(page, live_server, shared_link, visitor_zone: str) -> None:
    client = make_user(Role.CLIENT, name="Tomo Client", timezone="Asia/Tokyo")
    page.goto(f"{live_server.url}{shared_link}")
    expect(page.get_by_role("heading", name="Bodywork and breath.")).to_have_count(0)
    expect(page.get_by_text("Bodywork and breath.")).to_be_visible()
    page.get_by_role("link", name="Pick a time Consultation").click()
    expect(page.get_by_text(f"Times are shown in your timezone, {visitor_zone}.")).to_be_visible()
    assert _fits_the_screen(page)

    page.locator(".slot-jump a.button").click()  # next available
    first = page.locator(".slots form").first
    start = datetime.fromisoformat(first.locator("input[name=start]").get_attribute("value"))
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
    assert _fits_the_screen(page)
    page.get_by_role("button", name="Confirm and book").click()

    if page.get_by_text("Menu", exact=True).is_visible():
        page.get_by_text("Menu", exact=True).click()  # the phone's folded navigation
    page.get_by_role("link", name="My bookings", exact=True).click()
    upcoming = page.locator("#upcoming")
    expect(upcoming).to_contain_text("Consultation")
    expect(upcoming).to_contain_text(in_tokyo)


def test_a_visitor_books_from_the_shared_link_with_javascript(browser, live_server, shared_link):
    context = browser.new_context(timezone_id="America/New_York", locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _book_from_the_link(page, live_server, shared_link, "America/New_York")
    finally:
        context.close()


def test_a_visitor_books_from_the_shared_link_without_javascript_on_a_phone(
    browser, live_server, shared_link
):
    context = browser.new_context(
        timezone_id="America/New_York", locale="en-GB", java_script_enabled=False, viewport=PHONE
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        # Without JavaScript the browser's zone is unknown: times start in UTC until picked.
        page.goto(f"{live_server.url}{shared_link}")
        expect(page.get_by_label("Show times in")).to_have_value("UTC")
        page.get_by_label("Show times in").select_option("America/Chicago")
        page.get_by_role("button", name="Use this timezone").click()
        expect(page.get_by_label("Show times in")).to_have_value("America/Chicago")
        _book_from_the_link(page, live_server, shared_link, "America/Chicago")
    finally:
        context.close()
