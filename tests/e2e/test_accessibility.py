"""axe-core over every role's pages, on a phone (390×844) and a desktop (1440×900) (#14).

Each page, the calendar's session dialog open and showing a field error included, has no
critical or serious axe violation, one h1 and no skipped heading level. A failure lists
every page's findings at once: rule, impact and the elements (their CSS targets).
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal import booking, profiles
from portal.extensions import db
from portal.models import Booking, Notification, ServiceType
from tests.fixtures.browser import sign_in
from tests.fixtures.client_portal import day_at, paid_bundle
from tests.fixtures.factories import make_service, make_user

pytestmark = pytest.mark.e2e

BLOCKING = {"critical", "serious"}
AXE = Axe()

# Heading levels of the page, in document order (hidden ones too: a screen reader's list).
HEADINGS = "[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1])"


def heading_problems(page) -> list[str]:
    levels = page.evaluate(HEADINGS)
    problems = []
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings (want one)")
    for before, after in zip([0, *levels], levels, strict=False):
        if after > before + 1:
            problems.append(f"h{after} follows h{before or '-'}")
    return problems


def findings(page, label: str) -> list[str]:
    """The page's blocking axe violations and heading faults, one line each."""
    lines = []
    for violation in AXE.run(page).response["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:5])
            lines.append(f"{label}: {violation['id']} ({violation['impact']}): {targets}")
    return lines + [f"{label}: {problem}" for problem in heading_problems(page)]


def audit(page, base_url: str, paths) -> list[str]:
    found = []
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        assert response.ok, f"{path} answered {response.status}"
        found += findings(page, path)
    return found


def assert_clean(found: list[str]) -> None:
    assert not found, "accessibility violations:\n" + "\n".join(found)


@pytest.fixture
def world(practitioner, client_user):
    """Something on every page: sessions, a paid bundle's credits, an unpaid order, a
    public page, and the messages they sent."""
    workshop = make_service(
        practitioner, ServiceType.WORKSHOP, name="Forest Bathing", max_participants=12
    )
    session = booking.create_session(workshop, start_time=day_at(1, 14))
    order = booking.book_workshop_seat(client_user, session)
    booking.book_workshop_seat(make_user(name="Pat Pending"), session)
    one_on_one = make_service(practitioner, name="Consultation", duration_minutes=60)
    bundle = paid_bundle(client_user, practitioner, classes=3)
    credit = db.session.scalars(select(Booking).where(Booking.order_id == bundle.id)).first()
    profiles.save_public_profile(practitioner, slug="maya-rivers", bio="Bodywork and breath.")
    db.session.commit()
    return {
        "session": session,
        "order": order,
        "one_on_one": one_on_one,
        "workshop": workshop,
        "credit": credit,
    }


def test_anonymous_pages(sized_page, live_server, world):
    assert_clean(
        audit(
            sized_page,
            live_server.url,
            (
                "/",
                "/p/maya-rivers",
                f"/book/services/{world['one_on_one'].id}",
                "/auth/login",
                "/signup",
                "/reset-password",
            ),
        )
    )


def test_client_pages(sized_page, live_server, client_user, world):
    sign_in(sized_page, live_server, client_user)
    assert_clean(
        audit(
            sized_page,
            live_server.url,
            (
                "/",
                "/bookings/",
                "/book/",
                f"/book/services/{world['one_on_one'].id}",
                f"/book/services/{world['workshop'].id}",
                f"/orders/{world['order'].id}",
                f"/bookings/{world['credit'].id}/schedule",
                "/settings/profile",
                "/settings/notifications/",
                "/audit/",
            ),
        )
    )


def test_practitioner_pages(sized_page, live_server, practitioner, world):
    page = sized_page
    sign_in(page, live_server, practitioner)
    local_day = world["session"].start_time.astimezone(practitioner.zone).date().isoformat()
    found = audit(
        page,
        live_server.url,
        (
            f"/calendar/?date={local_day}",
            f"/calendar/day?date={local_day}",
            "/calendar/month",
            "/calendar/sessions",
            f"/calendar/sessions/{world['session'].id}",
            "/calendar/sessions/new",
            "/practice/services/",
            "/orders/",
            "/attendance/",
            "/attendance/reports/no-shows",
            "/courses/",
            "/settings/tokens/",
            "/settings/webhooks/",
            "/settings/profile",
            "/clients/",
            f"/clients/{world['order'].user_id}",
            f"/notes/bookings/{world['order'].bookings[0].id}",
            f"/notes/bookings/{world['order'].bookings[0].id}?kind=soap",
            "/audit/",
        ),
    )

    page.goto(f"{live_server.url}/calendar/?date={local_day}")
    page.locator("#new-session").click()
    dialog = page.locator("dialog#session-dialog")
    expect(dialog).to_be_visible()
    found += findings(page, "session dialog")
    dialog.get_by_label("Start time").fill("")
    dialog.get_by_role("button", name="Create session").click()
    expect(dialog.get_by_label("Start time")).to_have_attribute("aria-invalid", "true")
    found += findings(page, "session dialog with an error")
    dialog.get_by_label("Start time").fill("16:00")
    dialog.get_by_role("button", name="Create session").click()
    expect(page.locator("#flash-region")).to_contain_text("is on your calendar.")
    found += findings(page, "calendar with a flash")
    assert_clean(found)


def test_staff_pages(sized_page, live_server, staff_user, world, report_world):
    # One message's page: the unsent confirmation of the world's order, rendered as a preview.
    message = db.session.scalars(
        select(Notification).where(Notification.user_id == world["order"].user_id)
    ).first()
    sign_in(sized_page, live_server, staff_user)
    assert_clean(
        audit(
            sized_page,
            live_server.url,
            (
                "/",
                "/attendance/",
                "/attendance/reports/no-shows",
                f"/attendance/sessions/{report_world.sessions['A2'].id}",
                "/staff/outbox/",
                f"/staff/outbox/{message.id}",
                "/staff/users/",
                f"/calendar/?practitioner={report_world.pia.id}",
            ),
        )
    )
