"""A practitioner connects their own CalDAV calendar (a real Radicale) on a 390 px phone,
sees its event as a busy block on their calendar, and the slot is gone from the public
booking page (#22). No sideways scroll; axe finds nothing critical or serious."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.external_calendars import sync
from portal.models import ServiceType
from tests.e2e.test_accessibility import assert_clean, findings
from tests.fixtures.browser import fits_the_screen, menu_link, sign_in, visitor_page
from tests.fixtures.factories import future, make_service

pytestmark = pytest.mark.e2e

EVENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20270101T000000Z
DTSTART:{start:%Y%m%dT%H%M%SZ}
DTEND:{end:%Y%m%dT%H%M%SZ}
SUMMARY:Private appointment
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def app_config():
    return {"PORTAL_WEBHOOKS_ALLOW_PRIVATE": True, "PORTAL_WEBHOOKS_ALLOW_HTTP": True}


def refresh_all(app) -> None:
    with app.app_context():
        try:
            sync.refresh_due(limit=1000)
        finally:
            db.session.remove()


def offered_starts(page) -> set[datetime]:
    return {
        datetime.fromisoformat(value)
        for value in page.locator(".slots input[name=start]").evaluate_all(
            "inputs => inputs.map(i => i.value)"
        )
    }


def test_connect_a_calendar_see_the_busy_block_and_the_slot_gone(
    app, browser, live_server, practitioner, radicale
):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, name="Shiatsu")
    busy = future(days=3, hour=15)
    free = busy + timedelta(hours=2)
    day = busy.astimezone(practitioner.zone).date()
    with visitor_page(browser) as before:
        before.goto(f"{live_server.url}/book/services/{service.id}?day={day.isoformat()}")
        assert {busy, free} <= offered_starts(before)

    # Everything CalDAV is done before the browser starts: Playwright's loop runs on
    # this thread, and the CalDAV client must not (it would wait on that loop).
    name = f"Clinic {uuid.uuid4().hex[:6]}"
    remote = radicale.make_calendar(name)
    remote.save_event(
        EVENT.format(uid=f"{uuid.uuid4()}@test", start=busy, end=busy + timedelta(hours=1))
    )
    found: list[str] = []
    # JavaScript on: axe runs in the page (the forms work without it: the pages' tests).
    with visitor_page(browser, viewport={"width": 390, "height": 844}) as page:
        sign_in(page, live_server, practitioner)
        page.get_by_text("Menu", exact=True).click()
        menu_link(page, "My calendars").click()
        page.get_by_label("Server address").fill(radicale.url)
        page.get_by_label("User name").fill(radicale.username)
        page.get_by_label("App password").fill(radicale.password)
        page.get_by_role("button", name="Connect", exact=True).click()
        expect(page.get_by_text(name)).to_be_visible()
        assert fits_the_screen(page)
        found += findings(page, "calendars")

        # The worker's refresher reads it; here the test reads every connected calendar,
        # on a thread of its own as the worker does (this one runs Playwright's loop).
        reader = threading.Thread(target=refresh_all, args=(app,))
        reader.start()
        reader.join(timeout=120)

        page.goto(f"{live_server.url}/calendar/day?date={day.isoformat()}")
        expect(page.get_by_text("Busy (your calendar)").first).to_be_visible()
        # The event's own words stay in the practitioner's calendar app.
        assert "Private appointment" not in page.content()
        assert fits_the_screen(page)
        found += findings(page, "calendar day")

    with visitor_page(browser, viewport={"width": 390, "height": 844}) as after:
        after.goto(f"{live_server.url}/book/services/{service.id}?day={day.isoformat()}")
        starts = offered_starts(after)
        assert busy not in starts and free in starts
        assert fits_the_screen(after)
        found += findings(after, "public service page")
    assert_clean(found)
