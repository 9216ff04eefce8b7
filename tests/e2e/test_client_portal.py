"""A client's journey in Chromium: credits and the slot picker, then the waitlist."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Order
from tests.fixtures.browser import sign_in
from tests.fixtures.client_portal import full_workshop, make_bundle

pytestmark = pytest.mark.e2e


def test_client_buys_a_bundle_schedules_two_classes_and_cancels_one(
    page, live_server, practitioner, client_user
):
    bundle = make_bundle(practitioner, classes=10, name="10-class yoga pass")
    sign_in(page, live_server, client_user)

    page.get_by_role("link", name="Book", exact=True).click()
    page.get_by_role("link", name=practitioner.name).click()
    page.get_by_role("link", name="View 10-class yoga pass").click()
    expect(page.get_by_text("10 × Yoga class")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Buy 10-class yoga pass")).click()
    expect(page.get_by_role("heading", name="Awaiting payment")).to_be_visible()

    # The practitioner records the offline payment (a fresh read: the server wrote the order).
    db.session.rollback()
    order = db.session.scalars(select(Order).where(Order.service_id == bundle.id)).one()
    booking.confirm_payment(order, reference="bank transfer")

    page.get_by_role("link", name="My bookings", exact=True).click()
    credits = page.locator("#credits")
    expect(credits).to_contain_text("10 of 10 credits left")

    for days_ahead, clock in ((2, "10:00"), (3, "11:00")):
        credits.get_by_role("link", name="Schedule").first.click()
        heading = page.locator(".slot-day")
        for _ in range(days_ahead):
            before = heading.inner_text()
            page.get_by_role("link", name="Next day →").click()  # an htmx swap
            expect(heading).not_to_have_text(before)
        page.get_by_role("button", name=clock, exact=True).click()
        expect(page.locator(".flash.success")).to_contain_text("is scheduled for")

    expect(credits).to_contain_text("8 of 10 credits left")
    upcoming = page.locator("#upcoming tbody tr")
    expect(upcoming).to_have_count(2)

    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel Yoga class?"
    upcoming.first.get_by_role("button", name="Cancel").click()

    expect(page.locator(".flash.success")).to_contain_text("Your credit is returned")
    expect(page.locator("#credits")).to_contain_text("9 of 10 credits left")
    expect(page.locator("#canceled")).to_contain_text("Canceled: credit returned")
    expect(page.locator("#upcoming tbody tr")).to_have_count(1)


def test_a_waiting_client_gets_the_seat_when_one_is_canceled(
    browser, page, live_server, practitioner, client_user
):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0, name="Breathwork")
    sign_in(page, live_server, client_user)
    page.goto(f"{live_server.url}/book/services/{session.service_id}")
    expect(page.get_by_text("Full.")).to_be_visible()
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.locator(".flash.success")).to_contain_text("You are on the waitlist")

    holder_context = browser.new_context(timezone_id="UTC", locale="en-GB")
    try:
        holder_page = holder_context.new_page()
        sign_in(holder_page, live_server, holder)
        holder_page.goto(f"{live_server.url}/bookings/")
        holder_page.once("dialog", lambda dialog: dialog.accept())
        holder_page.locator("#upcoming").get_by_role("button", name="Cancel").click()
        expect(holder_page.locator(".flash.success")).to_contain_text("is canceled")
    finally:
        holder_context.close()

    page.get_by_role("link", name="My bookings", exact=True).click()
    waitlist = page.locator("#waitlist")
    expect(waitlist).to_contain_text("A seat is held for you")
    waitlist.get_by_role("button", name="Accept the seat").click()
    expect(page.locator(".flash.success")).to_contain_text("The seat is yours")
    expect(page.locator("#upcoming")).to_contain_text("Breathwork")
    expect(page.locator("#upcoming")).to_contain_text("confirmed")
