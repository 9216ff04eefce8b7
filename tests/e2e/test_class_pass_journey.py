"""A class pass on a phone (#21): the practitioner defines it, the client buys it, books two
classes with it, cancels one in time and has its credit back; each page fits 390 px and has
no critical or serious axe finding."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Booking
from tests.fixtures.browser import fits_the_screen, sign_in
from tests.fixtures.client_portal import full_workshop
from tests.fixtures.factories import future
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
BLOCKING = {"critical", "serious"}


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


def test_the_practitioner_defines_a_pass_on_a_phone(phone, live_server, practitioner):
    make_group_class(practitioner, name="Breathwork")
    sign_in(phone, live_server, practitioner)
    phone.goto(f"{live_server.url}/practice/passes/new")
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []

    phone.get_by_label("Name").fill("Breathwork 5-pass")
    phone.get_by_label("Price").fill("60")
    phone.get_by_label("Credits (classes)").fill("5")
    phone.get_by_label("Breathwork").check()
    phone.get_by_role("button", name="Save").click()

    expect(phone.locator(".flash.success")).to_contain_text("Breathwork 5-pass is saved")
    expect(phone.locator("main")).to_contain_text("5 classes")


def test_a_client_books_classes_with_a_pass_and_a_cancel_in_time_returns_one(
    phone, live_server, practitioner, client_user
):
    breathwork = make_group_class(practitioner, name="Breathwork", cancellation_cutoff_hours=24)
    pass_service = make_class_pass(
        practitioner, services=[breathwork], credits=10, price_cents=0, name="Breath pass"
    )
    for days in (3, 4, 5):
        booking.create_session(breathwork, start_time=future(days=days))
    sign_in(phone, live_server, client_user)

    phone.goto(f"{live_server.url}/book/services/{pass_service.id}")
    assert fits_the_screen(phone)
    phone.get_by_role("button", name="Buy Breath pass").click()
    phone.goto(f"{live_server.url}/passes")
    expect(phone.locator("main")).to_contain_text("10 credits left")
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []

    phone.get_by_role("link", name="Book a class").click()
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []
    for _ in range(3):
        phone.get_by_role("button", name="Book with this pass").first.click()
        expect(phone.locator(".flash.success")).to_contain_text("You have a seat in Breathwork")
    expect(phone.locator("main")).to_contain_text("7 credits left")
    expect(phone.locator("main")).to_contain_text("3 of 10 used")

    phone.goto(f"{live_server.url}/bookings/")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator("#upcoming").get_by_role("button", name="Cancel").first.click()
    expect(phone.locator(".flash.success")).to_contain_text("Its class pass credit is returned")

    phone.goto(f"{live_server.url}/passes")
    expect(phone.locator("main")).to_contain_text("8 credits left")


def test_a_waitlist_offer_is_taken_with_a_pass_on_a_phone(
    phone, live_server, practitioner, client_user
):
    session, (holder,) = full_workshop(practitioner, seats=1, name="Breathwork")
    booking.join_waitlist(client_user, session)
    held_pass(
        client_user,
        make_class_pass(practitioner, services=[session.service], credits=5, name="Breath pass"),
    )
    seat = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(seat, holder)
    sign_in(phone, live_server, client_user)

    phone.goto(f"{live_server.url}/bookings/")
    assert fits_the_screen(phone)
    assert blocking_findings(phone) == []
    phone.get_by_role("button", name="Take it with Breath pass · 5 credits left").click()

    expect(phone.locator(".flash.success")).to_contain_text(
        "confirmed with a credit of Breath pass"
    )
    expect(phone.locator("#upcoming")).to_contain_text("Breathwork")
    assert blocking_findings(phone) == []
    phone.goto(f"{live_server.url}/passes")
    expect(phone.locator("main")).to_contain_text("4 credits left")
