"""Practitioner pages that misbehaved in a real browser (#14)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal import booking
from portal.models import ServiceType
from tests.fixtures.browser import sign_in
from tests.fixtures.factories import make_service, make_user, make_workshop

pytestmark = pytest.mark.e2e


def csp_violations(page) -> list[str]:
    """Collects the console's Content Security Policy complaints from now on."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_new_session_opened_as_its_own_page_saves_and_says_so(page, live_server, practitioner):
    make_service(practitioner, ServiceType.WORKSHOP, name="Forest Bathing", max_participants=20)
    day = datetime.now(practitioner.zone).date() + timedelta(days=7)
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/sessions/new?date={day.isoformat()}")
    page.get_by_label("Start time").fill("16:00")
    page.get_by_role("button", name="Create session").click()

    page.wait_for_url(f"{live_server.url}/calendar/?date={day.isoformat()}")
    expect(page.get_by_text("Forest Bathing is on your calendar.")).to_be_visible()
    expect(page.locator("details.event", has_text="Forest Bathing")).to_contain_text("16:00")


def test_edit_session_opened_as_its_own_page_saves_and_says_so(page, live_server, practitioner):
    session = make_workshop(practitioner, name="Forest Bathing")
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/sessions/{session.id}/edit")
    page.get_by_label("Start time").fill("08:15")
    page.get_by_role("button", name="Save changes").click()

    page.wait_for_url(f"{live_server.url}/calendar/?date=*")
    expect(page.get_by_text("Forest Bathing is updated.")).to_be_visible()
    expect(page.locator("details.event", has_text="Forest Bathing")).to_contain_text("08:15")


def test_roster_cancel_button_counts_the_clients_just_added(page, live_server, practitioner):
    session = make_workshop(practitioner, seats=12)
    ana, ben = make_user(name="Ana Added"), make_user(name="Ben Added")
    violations = csp_violations(page)
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/sessions/{session.id}")
    roster = page.locator("#roster")
    for client in (ana, ben):
        roster.get_by_label("Client email").fill(client.email)
        roster.get_by_role("button", name="Add client").click()
        expect(
            page.locator("#flash-region").get_by_text(f"{client.name} is added.")
        ).to_be_visible()

    expect(roster.get_by_role("heading", level=2).first).to_contain_text("2/12 seats taken")
    expect(page.get_by_role("button", name="Cancel session and its 2 bookings")).to_be_visible()
    assert violations == []


def test_removing_a_client_asks_in_a_dialog_and_dismissing_keeps_them(
    page, live_server, practitioner
):
    session = make_workshop(practitioner, seats=12)
    ana = make_user(name="Ana Kept")
    booking.book_workshop_seat(ana, session)
    sign_in(page, live_server, practitioner)
    page.goto(f"{live_server.url}/calendar/sessions/{session.id}")
    roster = page.locator("#roster")
    asked = []

    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    roster.get_by_role("button", name="Remove Ana Kept").click()
    expect(roster).to_contain_text("1/12 seats taken")
    assert asked == ["Remove Ana Kept?"]

    page.once("dialog", lambda dialog: dialog.accept())
    roster.get_by_role("button", name="Remove Ana Kept").click()
    expect(
        page.locator("#flash-region").get_by_text("Ana Kept is removed; their seat is free.")
    ).to_be_visible()
    expect(roster).to_contain_text("0/12 seats taken")
