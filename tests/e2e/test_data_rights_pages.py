"""The data rights pages on a phone and a desktop: asking for a copy, downloading it from
the emailed link, and scheduling the account's deletion, with no sideways scroll and no
critical or serious axe finding (plain forms: they work without JavaScript too)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal import privacy
from portal.extensions import db
from portal.models import Notification, NotificationKind
from tests.e2e.test_accessibility import findings
from tests.e2e.test_phone_layout import assert_fit
from tests.fixtures.browser import sign_in
from tests.fixtures.factories import PASSWORD

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(tmp_path):
    return {"PORTAL_EXPORT_DIR": str(tmp_path / "exports")}


def test_export_and_deletion_in_the_browser(sized_page, live_server, client_user):
    page = sized_page
    sign_in(page, live_server, client_user)
    assert_fit(page, live_server, ["/settings/profile"])
    assert findings(page, "profile") == []

    page.get_by_role("button", name="Prepare a copy of my data").click()
    expect(page.get_by_text("being prepared")).to_be_visible()
    db.session.commit()  # end this process's read snapshot: the request came from the server
    assert privacy.prepare_exports() == 1
    payload = db.session.scalar(
        select(Notification.payload).where(Notification.kind == NotificationKind.DATA_EXPORT_READY)
    )
    link = urlsplit(payload["url"]).path
    assert_fit(page, live_server, [link])
    assert findings(page, "download page") == []
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "estuary-data.zip"

    page.goto(f"{live_server.url}/settings/profile")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("will be deleted on").first).to_be_visible()
    assert_fit(page, live_server, ["/settings/profile"])
    assert findings(page, "profile, deletion scheduled") == []
    page.get_by_role("button", name="Keep my account").click()
    expect(page.get_by_text("Your account will not be deleted.")).to_be_visible()
