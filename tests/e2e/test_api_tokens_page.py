import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.browser import menu_link, sign_in

pytestmark = pytest.mark.e2e


def test_create_a_token_see_it_once_then_revoke_it(page, live_server, client_user):
    sign_in(page, live_server, client_user)
    menu_link(page, "API tokens").click()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Token name").fill("my calendar sync")
    page.get_by_role("button", name="Create token").click()

    expect(page.locator("#new-token")).to_be_visible()
    token = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"est_[0-9a-f]{12}_\S{40,}", token)
    response = page.request.get(
        f"{live_server.url}/api/v1/services/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200

    page.reload()
    assert page.locator("#new-token").count() == 0
    page.get_by_role("button", name="Revoke my calendar sync").click()
    expect(page.get_by_text("Token “my calendar sync” is revoked.")).to_be_visible()
    expect(page.get_by_role("button", name="Revoke my calendar sync")).to_have_count(0)
    response = page.request.get(
        f"{live_server.url}/api/v1/services/", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
