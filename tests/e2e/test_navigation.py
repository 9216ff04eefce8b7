"""The main menu with the keyboard, on a phone (390 px) and a desktop (1440 px) (#24).

Groups open with Enter or Space on their button (aria-expanded says so), Escape closes the
open one and gives focus back to its button; the current page and its group are marked; the
open menu fits the screen and passes axe.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import assert_clean, findings
from tests.fixtures.browser import fits_the_screen, sign_in

pytestmark = pytest.mark.e2e

FOCUSED = "document.activeElement.textContent.trim()"


def tab_to(page, text: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED) == text:
            return
    raise AssertionError(f"{text!r} is not reached with Tab")


def test_menus_open_and_close_with_the_keyboard(sized_page, live_server, practitioner):
    page = sized_page
    sign_in(page, live_server, practitioner)
    page.wait_for_load_state("load")
    nav = page.locator('nav[aria-label="Main"]')  # folded away on a phone: hidden
    schedule = nav.get_by_role("button", name="Schedule")
    # include_hidden: the link is there, folded in its group, before and after it is shown.
    calendar = nav.get_by_role("link", name="Calendar", exact=True, include_hidden=True)
    expect(calendar).to_be_hidden()
    home = nav.get_by_role("link", name="Home", include_hidden=True)
    expect(home).to_have_attribute("aria-current", "page")

    if page.viewport_name == "phone":
        tab_to(page, "Menu")
        page.keyboard.press("Enter")
    tab_to(page, "Schedule")
    expect(schedule).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(schedule).to_have_attribute("aria-expanded", "true")
    expect(calendar).to_be_visible()
    assert fits_the_screen(page)
    assert_clean(findings(page, f"{page.viewport_name}: Schedule open"))

    page.keyboard.press("Escape")
    expect(calendar).to_be_hidden()
    expect(schedule).to_have_attribute("aria-expanded", "false")
    assert page.evaluate(FOCUSED) == "Schedule"

    page.keyboard.press("Space")
    expect(schedule).to_have_attribute("aria-expanded", "true")
    # Opening another group closes this one: one list at a time.
    tab_to(page, "Settings")
    page.keyboard.press("Enter")
    expect(nav.get_by_role("button", name="Settings")).to_have_attribute("aria-expanded", "true")
    expect(schedule).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Escape")

    schedule.focus()
    page.keyboard.press("Enter")
    tab_to(page, "Calendar")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("–")
    page.wait_for_load_state("load")
    expect(calendar).to_have_attribute("aria-current", "page")
    toggle = nav.get_by_role("button", name="Schedule", include_hidden=True)
    expect(toggle).to_have_class("menu-toggle current")
    assert fits_the_screen(page)

    if page.viewport_name == "phone":
        # Escape with no group open folds the phone's menu and returns to its button.
        tab_to(page, "Menu")
        page.keyboard.press("Enter")
        tab_to(page, "Schedule")
        page.keyboard.press("Escape")
        expect(page.locator("details.menu")).not_to_have_attribute("open", "")
        assert page.evaluate(FOCUSED) == "Menu"


def test_groups_open_without_javascript(browser, live_server, practitioner):
    desktop = {"width": 1440, "height": 900}
    context = browser.new_context(viewport=desktop, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, live_server, practitioner)
    orders = page.get_by_role("link", name="Orders", exact=True)
    expect(orders).to_be_hidden()
    page.locator("summary", has_text="Clients").click()
    expect(orders).to_be_visible()
    orders.click()
    current = page.get_by_role("link", name="Orders", exact=True, include_hidden=True)
    expect(current).to_have_attribute("aria-current", "page")
    context.close()


def test_a_client_menu_and_the_dashboard_pass_axe_open(sized_page, live_server, client_user):
    page = sized_page
    sign_in(page, live_server, client_user)
    page.wait_for_load_state("load")
    if page.viewport_name == "phone":
        page.get_by_text("Menu", exact=True).click()
    nav = page.locator('nav[aria-label="Main"]')  # folded away on a phone: hidden
    expect(nav.get_by_role("link", name="My bookings", exact=True)).to_be_visible()
    nav.get_by_role("button", name="Settings").click()
    expect(nav.get_by_role("link", name="API tokens")).to_be_visible()
    assert fits_the_screen(page)
    assert_clean(findings(page, f"{page.viewport_name}: client Settings open"))
