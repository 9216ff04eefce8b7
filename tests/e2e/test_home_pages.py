"""The practitioner's dashboard and the client's home in a browser, at 390 and 1440 px (#24):
who is coming, what needs doing, a link per row that leads there; no sideways scroll; axe."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from portal import booking
from portal.extensions import db
from tests.e2e.test_accessibility import assert_clean, findings
from tests.fixtures.browser import fits_the_screen, sign_in
from tests.fixtures.client_portal import paid_bundle
from tests.fixtures.factories import make_service, make_user, make_workshop

pytestmark = pytest.mark.e2e


def day_at(user, hour: int, days: int = 1) -> datetime:
    day = datetime.now(user.zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=user.zone).astimezone(UTC)


def test_the_dashboard_says_who_is_coming_and_leads_to_the_session(
    sized_page, live_server, practitioner
):
    session = make_workshop(
        practitioner, seats=6, start=day_at(practitioner, 10), name="Tide breathing"
    )
    for name in ("Ana Sol", "Ben Mar"):
        booking.book_workshop_seat(make_user(name=name), session)
    db.session.commit()
    page = sized_page
    sign_in(page, live_server, practitioner)

    tomorrow = page.get_by_role("region", name="Tomorrow")
    row = tomorrow.get_by_role("row").filter(has_text="Tide breathing")
    expect(row).to_contain_text("Ana Sol")
    expect(row).to_contain_text("Ben Mar")
    expect(row.locator(".first-time")).to_have_count(2)
    needs = page.get_by_role("region", name="Needs you")
    expect(needs).to_contain_text("2 orders awaiting payment")
    expect(page.get_by_role("link", name="New session")).to_be_visible()
    assert fits_the_screen(page)
    assert_clean(findings(page, f"{page.viewport_name}: dashboard"))

    row.get_by_role("link", name="Tide breathing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tide breathing")


def test_the_client_home_books_a_credit(sized_page, live_server, practitioner, client_user):
    paid_bundle(client_user, practitioner, classes=3)
    consultation = make_service(practitioner, name="Consultation", price_cents=0)
    # Two days ahead: tomorrow at 15:00 is inside the 24-hour cancellation window (no
    # Reschedule link) once the practitioner's clock passes 15:00 today.
    booking.book_individual_session(client_user, consultation, day_at(practitioner, 15, days=2))
    db.session.commit()
    page = sized_page
    sign_in(page, live_server, client_user)

    upcoming = page.locator("#upcoming")
    expect(upcoming).to_contain_text("Consultation")
    expect(upcoming.get_by_role("link", name="Reschedule Consultation")).to_be_visible()
    credits = page.get_by_role("region", name="Credits left")
    expect(credits).to_contain_text("3 × Yoga class")
    expect(page.get_by_role("region", name="Your practitioners")).to_contain_text(practitioner.name)
    assert fits_the_screen(page)
    assert_clean(findings(page, f"{page.viewport_name}: client home"))

    credits.get_by_role("link", name="Book a Yoga class").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Yoga class")
