"""Keyboard-only journeys (#14): Tab, Enter, Escape and typing, never a click.

A practitioner opens the calendar's session dialog, closes it with Esc, opens it again and
creates a session; a client buys a workshop seat. Along the way: the skip link, focus after
htmx swaps, and the live region announcing what a swap did.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal import booking
from portal.extensions import db
from portal.models import ServiceType
from tests.fixtures.browser import sign_in
from tests.fixtures.factories import make_service, make_workshop

pytestmark = pytest.mark.e2e

# The focused element's name as read out: its aria-label, its label (a field), or its text.
FOCUSED_TEXT = """() => {
  const e = document.activeElement;
  const label = e.labels && e.labels.length ? e.labels[0].textContent : '';
  return (e.getAttribute('aria-label') || label || e.textContent || e.value || '').trim();
}"""


def focused(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement.matches(s)", selector)


def outline_width(page) -> float:
    """The focused element's outline: what shows a keyboard user where they are."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          return style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth);
        }"""
    )


def tab_to(page, text: str, limit: int = 80) -> None:
    """Press Tab until the focused element reads `text` (its start), as a person would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED_TEXT).startswith(text):
            return
    raise AssertionError(f"{text!r} is not reached with Tab")


def test_skip_link_is_first_and_moves_focus_to_main(page, live_server, practitioner):
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_TEXT) == "Skip to main content"
    expect(page.get_by_role("link", name="Skip to main content")).to_be_visible()
    page.keyboard.press("Enter")
    assert focused(page, "main#main")
    page.keyboard.press("Tab")  # on into the page's own content, past the navigation
    assert focused(page, "main *")


def test_practitioner_creates_a_session_in_the_dialog_with_the_keyboard(
    page, live_server, practitioner
):
    make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing", max_participants=20)
    day = datetime.now(practitioner.zone).date() + timedelta(days=7)
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/?date={day.isoformat()}")
    dialog = page.locator("dialog#session-dialog")

    # Calendar navigation is an htmx swap: focus lands on the new week's heading.
    heading = page.get_by_role("heading", level=1)
    before = heading.inner_text()
    tab_to(page, "Next ›")
    page.keyboard.press("Enter")
    expect(heading).not_to_have_text(before)
    page.wait_for_function("() => document.activeElement.matches('#calendar h1')")
    tab_to(page, "‹ Previous")
    page.keyboard.press("Enter")
    expect(heading).to_have_text(before)

    # Open, and Esc: the modal closes and focus is back on its opener.
    tab_to(page, "New session")
    assert outline_width(page) >= 2
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert dialog.evaluate("d => d.matches(':modal') && d.contains(document.activeElement)")
    for _ in range(12):  # Tab cycles inside the modal; the page behind is inert
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.activeElement === document.body"
            " || document.getElementById('session-dialog').contains(document.activeElement)"
        )
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    assert focused(page, "#new-session")

    # Open again; an error keeps the dialog open with focus on the invalid field.
    region = page.evaluate_handle("document.getElementById('flash-region')")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, "Create session")
    page.keyboard.press("Enter")
    start = dialog.get_by_label("Start time")
    expect(start).to_have_attribute("aria-invalid", "true")
    page.wait_for_function("() => document.activeElement.id === 'start_time'")
    assert dialog.evaluate("d => d.matches(':modal')")
    page.keyboard.type("1600")
    tab_to(page, "Create session")
    page.keyboard.press("Enter")

    # Saved: the dialog is gone, focus is back on its opener, the live region (the same
    # element, so screen readers announce the change) says so, and the session shows.
    expect(dialog).to_have_count(0)
    expect(page.locator("#flash-region")).to_contain_text("Forest Bathing is on your calendar.")
    assert region.evaluate("r => r.isConnected && r === document.getElementById('flash-region')")
    assert page.locator("#flash-region").get_attribute("aria-live") == "polite"
    page.wait_for_function("() => document.activeElement.id === 'new-session'")
    expect(page.locator("details.event", has_text="Forest Bathing")).to_contain_text("16:00")


def test_client_buys_a_workshop_seat_with_the_keyboard(
    page, live_server, practitioner, client_user
):
    make_workshop(practitioner, name="Forest Bathing", price_cents=3000)
    sign_in(page, live_server, client_user)
    for link in ("Book", practitioner.name, "View Forest Bathing"):
        tab_to(page, link)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Forest Bathing")).to_be_visible()
    tab_to(page, "Buy a seat")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Awaiting payment")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Forest Bathing")


def test_slot_picker_swap_puts_focus_on_the_new_day(page, live_server, practitioner, client_user):
    service = make_service(practitioner, name="Consultation", price_cents=0)
    sign_in(page, live_server, client_user)
    page.goto(f"{live_server.url}/book/services/{service.id}")
    day = page.locator(".slot-day")
    before = day.inner_text()
    tab_to(page, "Next day →")
    page.keyboard.press("Enter")
    expect(day).not_to_have_text(before)
    page.wait_for_function("() => document.activeElement.matches('.slot-day')")


def test_without_javascript_the_session_form_is_a_page_reached_and_sent_by_keyboard(
    browser, live_server, practitioner
):
    make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing", max_participants=20)
    context = browser.new_context(timezone_id="UTC", locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, practitioner)
        day = datetime.now(practitioner.zone).date() + timedelta(days=7)
        page.goto(f"{live_server.url}/calendar/?date={day.isoformat()}")
        tab_to(page, "New session")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1, name="New session")).to_be_visible()
        tab_to(page, "Start time")
        page.keyboard.type("1600")
        tab_to(page, "Create session")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator("#flash-region")).to_contain_text("Forest Bathing is on your calendar.")
    finally:
        context.close()


# Every text put into an element of an aria-live region that was already in the page: what a
# screen reader reads out. A region swapped in whole, its text already inside, is not listed.
RECORD_ANNOUNCEMENTS = """() => {
  window.announced = [];
  new MutationObserver(records => {
    for (const record of records) {
      const live = record.target.closest && record.target.closest('[aria-live]');
      const text = [...record.addedNodes].map(n => n.textContent).join(' ').trim();
      if (live && text) window.announced.push(text);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def test_a_boosted_forms_flash_is_announced_and_focus_lands_on_the_heading(
    page, live_server, practitioner, client_user
):
    session = make_workshop(practitioner, name="Breathwork", price_cents=0)
    booking.book_workshop_seat(client_user, session)
    db.session.commit()
    sign_in(page, live_server, client_user)
    page.goto(f"{live_server.url}/bookings/")
    page.evaluate(RECORD_ANNOUNCEMENTS)
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel Breathwork?"
    page.locator("#upcoming").get_by_role("button", name="Cancel").focus()
    page.keyboard.press("Enter")  # hx-boost: the answer replaces the whole body

    flash = page.locator("#flash-region .flash.success")
    expect(flash).to_contain_text("is canceled")
    page.wait_for_function("() => window.announced.some(t => t.includes('is canceled'))")
    assert focused(page, "#main h1")
    assert page.evaluate(FOCUSED_TEXT) == "My bookings"
