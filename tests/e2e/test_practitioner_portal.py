"""A practitioner runs their calendar in a real browser, with htmx doing the swaps."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import ServiceSession, ServiceType
from tests.fixtures.browser import menu_link, sign_in
from tests.fixtures.factories import make_service
from tests.fixtures.l10n import BROWSER_LOCALE, shown

pytestmark = pytest.mark.e2e


def test_practitioner_creates_a_workshop_navigates_weeks_and_sees_a_booking(
    page, live_server, practitioner, client_user
):
    make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing", max_participants=20)
    sign_in(page, live_server, practitioner)
    menu_link(page, "Calendar").click()
    page.wait_for_url(f"{live_server.url}/calendar/")
    # A marker on the window survives htmx swaps but not a full page load.
    page.evaluate("window.portalMarker = 'same page'")

    day = datetime.now(practitioner.zone).date() + timedelta(days=7)
    page.get_by_role("link", name="New session", exact=True).click()
    dialog = page.locator("#session-dialog")
    dialog.get_by_label("Service").select_option(
        label="Forest Bathing (workshop · 60 min · 20 seats)"
    )
    dialog.get_by_label("Date", exact=True).fill(day.isoformat())
    dialog.get_by_label("Start time").fill("16:00")
    dialog.get_by_label("Duration (minutes)").fill("90")
    dialog.get_by_label("Capacity (seats)").fill("12")
    dialog.get_by_role("button", name="Create session").click()

    page.wait_for_url(f"{live_server.url}/calendar/?date={day.isoformat()}")
    expect(page.get_by_text("Forest Bathing is on your calendar.")).to_be_visible()
    event = page.locator("details.event", has_text="Forest Bathing")
    expect(event).to_contain_text("16:00–17:30")
    expect(event).to_contain_text("0/12 seats")
    expect(page.locator("#session-dialog")).to_have_count(0)
    assert page.evaluate("window.portalMarker") == "same page"

    db.session.commit()  # end the test's read snapshot; the server wrote since
    session = db.session.scalar(select(ServiceSession))
    booking.book_workshop_seat(client_user, session)

    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url(lambda url: url != f"{live_server.url}/calendar/?date={day.isoformat()}")
    expect(page.get_by_text("No sessions this week.")).to_be_visible()
    page.get_by_role("link", name="‹ Previous").click()
    event = page.locator("details.event", has_text="Forest Bathing")
    event.locator("summary").click()
    expect(event).to_contain_text("1/12 seats")
    expect(event.get_by_text(client_user.name)).to_be_visible()
    assert page.evaluate("window.portalMarker") == "same page"

    page.reload()
    assert page.evaluate("window.portalMarker") is None
    expect(page.locator("details.event", has_text="Forest Bathing")).to_contain_text("1/12 seats")


def test_practitioner_generates_a_course_of_eight_weekly_sessions(page, live_server, practitioner):
    sign_in(page, live_server, practitioner)
    menu_link(page, "Courses").click()
    page.get_by_role("link", name="New course").click()
    first = datetime.now(practitioner.zone).date() + timedelta(days=3)
    page.get_by_label("Name").fill("8-Week Mindfulness")
    page.get_by_label("Price").fill("200")
    page.get_by_label("Duration (minutes)").fill("90")
    page.get_by_label("Max participants").fill("10")
    page.get_by_label("First session date").fill(first.isoformat())
    page.get_by_label("Start time").fill("18:30")
    page.get_by_label("Repeat").select_option("weekly")
    page.get_by_label("Number of sessions").fill("8")
    page.get_by_role("button", name="Create course and sessions").click()

    expect(page.get_by_text("8-Week Mindfulness is created with 8 sessions.")).to_be_visible()
    items = page.locator("ol.course-sessions > li")
    expect(items).to_have_count(8)
    for week in range(8):
        when = first + timedelta(weeks=week)
        at = shown(datetime.combine(when, time(18, 30), tzinfo=UTC), locale=BROWSER_LOCALE)
        expect(items.nth(week)).to_contain_text(f"Session {week + 1} · {at}")

    page.goto(f"{live_server.url}/calendar/month?date={first.isoformat()}")
    expect(page.locator("details.event", has_text="8-Week Mindfulness · session 1")).to_have_count(
        1
    )


def test_the_calendar_works_with_javascript_off(browser, live_server, practitioner):
    make_service(practitioner, ServiceType.WORKSHOP, name="Chanting", max_participants=6)
    context = browser.new_context(java_script_enabled=False, timezone_id="UTC", locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, live_server, practitioner)
        page.goto(f"{live_server.url}/calendar/")
        page.get_by_role("link", name="New session", exact=True).click()
        page.wait_for_url(f"{live_server.url}/calendar/sessions/new*")
        day = datetime.now(practitioner.zone).date() + timedelta(days=1)
        page.get_by_label("Date", exact=True).fill(day.isoformat())
        page.get_by_label("Start time").fill("09:15")
        page.get_by_role("button", name="Create session").click()
        page.wait_for_url(f"{live_server.url}/calendar/?date={day.isoformat()}")
        expect(page.get_by_text("Chanting is on your calendar.")).to_be_visible()
        event = page.locator("details.event", has_text="Chanting")
        event.locator("summary").click()
        expect(event).to_contain_text("No bookings yet.")
        page.get_by_role("link", name="Next ›").click()
        page.wait_for_url(f"{live_server.url}/calendar/?date=*")
        expect(page.get_by_text("No sessions this week.")).to_be_visible()
    finally:
        context.close()
