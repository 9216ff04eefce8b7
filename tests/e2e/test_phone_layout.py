"""Every role's main screens fit a phone (390 and 360 px wide) and a desktop (1440 px).

A page fits when the document is no wider than the viewport: nothing is reached by
scrolling sideways. On a phone the calendar shows its agenda, where each session's
time and title read in full.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from portal import booking
from portal.models import ServiceType
from tests.fixtures.browser import sign_in
from tests.fixtures.client_portal import day_at, paid_bundle
from tests.fixtures.factories import make_course, make_service, make_user

pytestmark = pytest.mark.e2e

LONG_TITLE = "Private consultation for returning clients"


def overflow(page) -> int:
    """How many pixels the document reaches past the viewport's right edge."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


TARGETS = ", ".join(
    f"main {selector}"
    for selector in (
        "button",
        ".button",
        "select",
        "input:not([type=hidden]):not([type=checkbox]):not([type=radio])",
    )
)


def small_targets(page) -> list[str]:
    """Buttons and fields a finger cannot hit: shorter than 44 px (WCAG 2.5.5)."""
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
             .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
             .map(e => (e.textContent.trim() || e.name || e.type).slice(0, 40))""",
        TARGETS,
    )


def assert_fit(page, live_server, paths) -> None:
    """Visit each path; at phone size also narrow to 360 px. Report every misfit at once."""
    height = page.viewport_size["height"]
    widths = [page.viewport_size["width"]] + ([360] if page.viewport_name == "phone" else [])
    misfits = []
    for path in paths:
        page.set_viewport_size({"width": widths[0], "height": height})
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, f"{path} answered {response.status}"
        for width in widths:
            page.set_viewport_size({"width": width, "height": height})
            if (extra := overflow(page)) > 0:
                misfits.append(f"{path} is {extra} px too wide at {width} px")
        if page.viewport_name == "phone":
            misfits += [f"{path}: {t} is under 44 px tall" for t in small_targets(page)]
    assert not misfits, "\n".join(misfits)


@pytest.fixture
def practice(practitioner, client_user):
    """A practitioner with a week of sessions, a course, credits sold and an order unpaid."""
    private = make_service(practitioner, ServiceType.WORKSHOP, name=LONG_TITLE, max_participants=12)
    session = booking.create_session(private, start_time=day_at(1, 14))
    booking.book_workshop_seat(client_user, session)
    make_course(practitioner, sessions=3, name="Spring Yin course")
    paid_bundle(client_user, practitioner, classes=10)
    booking.book_workshop_seat(make_user(name="Pat Pending"), session)
    return session


def test_practitioner_screens_fit(sized_page, live_server, practitioner, practice):
    page = sized_page
    sign_in(page, live_server, practitioner)
    assert_fit(
        page,
        live_server,
        (
            "/",
            "/calendar/",
            f"/calendar/?date={practice.start_time.date().isoformat()}",
            "/calendar/month",
            "/calendar/day",
            "/calendar/sessions",
            f"/calendar/sessions/{practice.id}",
            f"/calendar/sessions/{practice.id}/edit",
            "/calendar/sessions/new",
            "/practice/services/",
            "/orders/",
            "/courses/",
            "/practice/availability/",
            "/clients/",
            f"/clients/{practice.bookings[0].user_id}",
            f"/notes/bookings/{practice.bookings[0].id}",
            "/audit/",
        ),
    )


def test_client_screens_fit(sized_page, live_server, client_user, practitioner, practice):
    page = sized_page
    sign_in(page, live_server, client_user)
    assert_fit(
        page, live_server, ("/", "/book/", f"/book/practitioners/{practitioner.id}", "/bookings/")
    )


def test_staff_screens_fit(sized_page, live_server, staff_user, report_world):
    page = sized_page
    sign_in(page, live_server, staff_user)
    assert_fit(
        page,
        live_server,
        ("/", "/attendance/", "/attendance/reports/no-shows", "/calendar/", "/audit/"),
    )


def _reads_in_full(locator) -> bool:
    """The element shows all its text: nothing cut off sideways, nothing hidden."""
    return locator.is_visible() and locator.evaluate("e => e.scrollWidth <= e.clientWidth + 1")


def test_day_and_agenda_show_each_session_time_and_title_in_full(
    sized_page, live_server, practitioner, practice
):
    page = sized_page
    sign_in(page, live_server, practitioner)
    local_day = practice.start_time.astimezone(practitioner.zone).date().isoformat()
    views = ["day"] + (["", "month"] if page.viewport_name == "phone" else [])
    for view in views:
        page.goto(f"{live_server.url}/calendar/{view}?date={local_day}")
        item = page.locator(".agenda-item", has_text=LONG_TITLE)
        expect(item.locator(".ev-time")).to_have_text("09:00–10:00")
        expect(item.locator(".ev-title")).to_have_text(LONG_TITLE)
        assert _reads_in_full(item.locator(".ev-time")), view
        assert _reads_in_full(item.locator(".ev-title")), view
    if page.viewport_name == "desktop":
        # From tablet width up the week keeps its grid, and the agenda stays out of the way.
        page.goto(f"{live_server.url}/calendar/?date={local_day}")
        expect(page.locator("details.event", has_text=LONG_TITLE)).to_be_visible()
        expect(page.locator(".agenda")).to_be_hidden()


def test_menu_folds_away_on_a_phone_and_opens_without_javascript(
    browser, live_server, practitioner
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_label("Email").fill(practitioner.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    calendar = page.get_by_role("link", name="Calendar", exact=True)
    expect(calendar).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(calendar).to_be_hidden()  # inside its group, folded too
    schedule = page.locator("summary", has_text="Schedule")
    assert schedule.bounding_box()["height"] >= 44
    schedule.click()
    expect(calendar).to_be_visible()
    assert overflow(page) <= 0
    box = calendar.bounding_box()
    assert box["height"] >= 44
    calendar.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("–")
    context.close()
