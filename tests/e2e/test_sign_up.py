"""Sign-up in Chromium: the form, the message actually sent, the link, signed in.
With JavaScript the browser's timezone is pre-selected; without it the person picks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal import accounts
from portal.extensions import db
from tests.fixtures.browser import follow_verification, sign_up

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def sign_up_and_verify(page, live_server, mailbox, *, zone: str | None) -> None:
    page.goto(f"{live_server.url}/auth/login?next=/book/")
    sign_up(page, name="Nia Newcomer", email="Nia@Example.com", zone=zone)
    follow_verification(page, mailbox, "nia@example.com")
    page.wait_for_url(f"{live_server.url}/book/")
    expect(page.locator(".flash.success")).to_contain_text("Your email address is confirmed")
    expect(page.locator("header")).to_contain_text("Nia Newcomer")


def test_sign_up_verify_from_the_email_and_arrive_signed_in(app, browser, live_server, mailbox):
    # A browser in Lisbon, so that the script's pick is seen (the server's default is UTC).
    context = browser.new_context(timezone_id="Europe/Lisbon", locale="en-GB")
    page = context.new_page()
    try:
        sign_up_and_verify(page, live_server, mailbox, zone=None)
    finally:
        context.close()
    db.session.rollback()
    user = accounts.find_user_by_email("nia@example.com")
    assert user.email_verified and user.timezone == "Europe/Lisbon"


def test_the_same_sign_up_works_without_javascript(app, browser, live_server, mailbox):
    context = browser.new_context(java_script_enabled=False, timezone_id="UTC", locale="en-GB")
    page = context.new_page()
    try:
        sign_up_and_verify(page, live_server, mailbox, zone="Asia/Tokyo")
    finally:
        context.close()
    db.session.rollback()
    user = accounts.find_user_by_email("nia@example.com")
    assert user.email_verified and user.timezone == "Asia/Tokyo"
