"""A newcomer's whole way in (#12), in Chromium: a practitioner's shared link, a 1-on-1
service and a free time, sign-up instead of sign-in, the confirmation mail actually sent
(delivered by the worker's code to a real SMTP server), back on the same choice ready to
confirm, confirmed, and there under My bookings in the timezone they signed up with.
Once with JavaScript (the browser's zone is pre-selected) and once without, on a phone;
and the same way onto a full workshop's waitlist."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import accounts
from portal.extensions import db
from portal.models import Order, WaitlistEntry
from tests.fixtures.browser import (
    PHONE,
    confirm_and_find_in_my_bookings,
    first_free_time,
    fits_the_screen,
    follow_verification,
    sign_up,
    visitor_page,
)
from tests.fixtures.client_portal import day_at, full_workshop
from tests.fixtures.l10n import BROWSER_LOCALE, shown

pytestmark = pytest.mark.e2e

ADDRESS = "nia@example.com"


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def _journey(page, live_server, shared_link, mailbox, *, zone: str, pick_zone: bool) -> None:
    page.goto(f"{live_server.url}{shared_link}")
    page.get_by_role("link", name="Pick a time Consultation").click()
    first, start = first_free_time(page)
    first.get_by_role("button").click()

    # Not signed in: the choice waits behind sign-in, where a newcomer creates an account.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_up(page, name="Nia Newcomer", email="Nia@Example.com", zone=zone if pick_zone else None)
    assert fits_the_screen(page)
    db.session.rollback()
    assert db.session.scalars(select(Order)).all() == []

    follow_verification(page, mailbox, ADDRESS)
    expect(page.locator(".flash.success")).to_contain_text("Your email address is confirmed")
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    local = shown(start, zone=zone, locale=BROWSER_LOCALE)
    expect(page.locator("main")).to_contain_text(f"Consultation on {local} ({zone})")
    assert fits_the_screen(page)
    confirm_and_find_in_my_bookings(page, "Consultation", local)

    db.session.rollback()
    user = accounts.find_user_by_email(ADDRESS)
    assert user.email_verified and user.timezone == zone
    (order,) = db.session.scalars(select(Order)).all()
    assert order.user_id == user.id
    assert [b.service_session.start_time for b in order.bookings] == [start]


def test_a_newcomer_signs_up_and_books_from_the_shared_link(
    app, browser, live_server, shared_link, mailbox
):
    with visitor_page(browser, timezone_id="America/New_York") as page:
        _journey(page, live_server, shared_link, mailbox, zone="America/New_York", pick_zone=False)


def test_the_same_journey_without_javascript_on_a_phone(
    app, browser, live_server, shared_link, mailbox
):
    options = {"timezone_id": "America/New_York", "java_script_enabled": False, "viewport": PHONE}
    with visitor_page(browser, **options) as page:
        # Without JavaScript nothing reads the browser's zone: the newcomer picks one.
        _journey(page, live_server, shared_link, mailbox, zone="Asia/Tokyo", pick_zone=True)


def test_a_newcomer_joins_a_full_workshops_waitlist_without_javascript(
    app, browser, live_server, practitioner, mailbox
):
    session, _holders = full_workshop(practitioner, seats=1, start=day_at(6, 9), name="Breathwork")
    db.session.commit()
    with visitor_page(browser, java_script_enabled=False, viewport=PHONE) as page:
        page.goto(f"{live_server.url}/book/services/{session.service_id}")
        row = page.locator(f"#session-{session.id}")
        row.get_by_role("button", name="Join the waitlist").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        sign_up(page, name="Nia Newcomer", email=ADDRESS, zone="Europe/Lisbon")
        follow_verification(page, mailbox, ADDRESS)

        expect(page.get_by_role("heading", name="Join the waitlist")).to_be_visible()
        expect(page.locator("main")).to_contain_text("is full")
        page.get_by_role("button", name="Join the waitlist").click()
        expect(page.locator(".flash.success")).to_contain_text("You are on the waitlist")
        expect(row).to_contain_text("On the waitlist")
    db.session.rollback()
    entry = db.session.scalars(select(WaitlistEntry)).one()
    assert entry.user.email == ADDRESS and entry.service_session_id == session.id
