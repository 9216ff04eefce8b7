import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import sign_in

pytestmark = pytest.mark.e2e


def test_practitioner_signs_in_and_sees_their_dashboard(page, live_server, practitioner):
    sign_in(page, live_server, practitioner)
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    assert practitioner.name in page.locator("header").inner_text()


def test_wrong_password_is_refused_with_a_message(page, live_server, client_user):
    page.goto(f"{live_server.url}/auth/login")
    page.get_by_label("Email").fill(client_user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    # expect() waits: the message reaches the live region a moment after the swap
    # (a11y.js re-adds it so screen readers announce it), so a one-shot check can race.
    expect(page.get_by_text("Email or password is not right.")).to_be_visible()
