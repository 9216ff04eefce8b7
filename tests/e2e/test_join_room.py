"""The join page in Chromium: livekit-client loads under the CSP and tries the room."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal import booking
from portal.database import utcnow
from portal.models import ServiceType
from tests.fixtures.browser import sign_in
from tests.fixtures.factories import make_service
from tests.fixtures.livekit import API_KEY, API_SECRET

pytestmark = pytest.mark.e2e

# Nothing listens here: the client must report that it could not connect.
UNREACHABLE = "ws://127.0.0.1:9"


@pytest.fixture
def app_config():
    return {
        "LIVEKIT_URL": UNREACHABLE,
        "LIVEKIT_API_KEY": API_KEY,
        "LIVEKIT_API_SECRET": API_SECRET,
    }


@pytest.fixture
def soon(practitioner):
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=5)
    return booking.create_session(service, start_time=utcnow() + timedelta(minutes=5))


def test_the_client_library_loads_and_reports_a_failed_connection(
    page, live_server, practitioner, soon
):
    sign_in(page, live_server, practitioner)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Nothing on the page, htmx and the LiveKit client included, may trip the CSP.
    page.on(
        "console",
        lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    page.goto(f"{live_server.url}/sessions/{soon.id}/join")

    status = page.locator("#room-status")
    expect(status).to_have_text("Ready to join the video room.")
    page.get_by_role("button", name="Join with camera and microphone").click()
    expect(status).to_contain_text("Could not connect to the video room")
    expect(page.get_by_role("button", name="Join with camera and microphone")).to_be_visible()
    assert errors == []


def test_without_javascript_the_page_still_gives_the_server_and_token(
    browser, live_server, practitioner, soon
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_server, practitioner)
        page.goto(f"{live_server.url}/sessions/{soon.id}/join")

        assert page.locator("#livekit-url").inner_text() == UNREACHABLE
        assert page.get_by_label("Token").input_value().count(".") == 2
        assert not page.get_by_role("button", name="Join with camera and microphone").is_visible()
    finally:
        context.close()
