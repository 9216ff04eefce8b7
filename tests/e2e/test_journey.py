"""One story across every role, on screen in Chromium, from an empty practice to a no-show.

Only the accounts and the practitioner's working hours are set up directly. Everything
else goes through the pages a person uses; the video room is LiveKit's part, so its
signed webhooks are POSTed to the portal over HTTP exactly as a LiveKit server sends
them, for the room and the identity named in the join token the portal handed out.
The session that "happens" is created a few minutes ahead, so its room is open now.
Screenshots of each step go to test-artifacts/screenshots/journey-*.png.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import re
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from portal.models import Role, RoomEventKind
from tests.fixtures.browser import SCREENSHOTS, menu_link, sign_in, wait_for_htmx
from tests.fixtures.factories import make_user, open_all_week
from tests.fixtures.l10n import BROWSER_LOCALE, shown, shown_money
from tests.fixtures.livekit import (
    CONTENT_TYPE,
    LIVEKIT_CONFIG,
    participant_info,
    serialize,
    sign,
    webhook_event,
)

pytestmark = pytest.mark.e2e

WORKSHOP = "Sound Bath"
INDIVIDUAL = "Private yoga"
BUNDLE = "5-class yoga pass"
COURSE = "8-Week Mindfulness"


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


@pytest.fixture
def cast(app):
    """The accounts: a practitioner open all week, two clients, a staff member."""
    maya = make_user(Role.PRACTITIONER, name="Maya Rivers", timezone="America/New_York")
    open_all_week(maya)
    return {
        "practitioner": maya,
        "ana": make_user(name="Ana Lima", timezone="Europe/London"),
        "ben": make_user(name="Ben Okafor", timezone="Europe/London"),
        "staff": make_user(Role.STAFF, name="Sam Staff"),
    }


class Journey:
    def __init__(self, browser, live_server):
        self.browser = browser
        self.live_server = live_server
        self.url = live_server.url
        self._shots = itertools.count(1)

    @contextmanager
    def signed_in(self, user):
        """A browser of its own for `user` (own cookies), signed in on the portal."""
        context = self.browser.new_context(timezone_id="UTC", locale="en-GB")
        context.set_default_timeout(10_000)
        try:
            page = context.new_page()
            sign_in(page, self.live_server, user)
            yield page
        finally:
            context.close()

    def shot(self, page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"journey-{next(self._shots):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)

    def post_webhook(self, event) -> int:
        """POST one event to the served portal as LiveKit does: raw JSON, bare JWT."""
        body = serialize(event)
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request(
                "POST",
                "/webhooks/livekit",
                body=body.encode(),
                headers={"Content-Type": CONTENT_TYPE, "Authorization": sign(body)},
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- the practitioner sets up the practice ------------------------------------------------


def create_service(page, name: str, kind: str, *, price: str, seats: str = "1", **extra):
    menu_link(page, "Services").click()
    # Packages and bundles have their own form (the packages blueprint).
    credits = kind in ("package", "bundle")
    page.get_by_role("link", name="New package or bundle" if credits else "New service").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Type").select_option(kind)
    page.get_by_label("Price").fill(price)
    page.get_by_label("Max participants").fill(seats)
    if "validity_days" in extra:
        page.get_by_label("Valid for (days)").fill(extra["validity_days"])
    if "contains" in extra:
        included, quantity = extra["contains"]
        page.locator("#components-0-included").select_option(label=included)
        page.locator("#components-0-quantity").fill(quantity)
    page.get_by_role("button", name="Save" if credits else "Save service", exact=True).click()
    expect(page.locator(".flash.success")).to_have_text(f"{name} is saved.")
    return page.locator("table tr", has_text=name)


def schedule_workshop_session(page, start_local: datetime):
    menu_link(page, "Calendar").click()
    page.get_by_role("link", name="New session", exact=True).click()
    dialog = page.locator("#session-dialog")
    dialog.get_by_label("Service").select_option(label=f"{WORKSHOP} (workshop · 60 min · 12 seats)")
    dialog.get_by_label("Date", exact=True).fill(start_local.date().isoformat())
    dialog.get_by_label("Start time").fill(f"{start_local:%H:%M}")
    dialog.get_by_role("button", name="Create session").click()
    expect(page.get_by_text(f"{WORKSHOP} is on your calendar.")).to_be_visible()
    event = page.locator("details.event", has_text=WORKSHOP)
    end_local = start_local + timedelta(minutes=60)
    expect(event).to_contain_text(f"{start_local:%H:%M}–{end_local:%H:%M}")
    expect(event).to_contain_text("0/12 seats")


def create_course(page, first_day) -> None:
    menu_link(page, "Courses").click()
    page.get_by_role("link", name="New course").click()
    page.get_by_label("Name").fill(COURSE)
    page.get_by_label("Price").fill("200")
    page.get_by_label("Duration (minutes)").fill("90")
    page.get_by_label("Max participants").fill("10")
    page.get_by_label("First session date").fill(first_day.isoformat())
    page.get_by_label("Start time").fill("18:30")
    page.get_by_label("Repeat").select_option("weekly")
    page.get_by_label("Number of sessions").fill("8")
    page.get_by_role("button", name="Create course and sessions").click()
    expect(page.get_by_text(f"{COURSE} is created with 8 sessions.")).to_be_visible()
    items = page.locator("ol.course-sessions > li")
    expect(items).to_have_count(8)
    for week in range(8):
        when = first_day + timedelta(weeks=week)
        at = shown(datetime.combine(when, time(18, 30), tzinfo=UTC), locale=BROWSER_LOCALE)
        expect(items.nth(week)).to_contain_text(f"Session {week + 1} · {at}")


# -- clients buy ---------------------------------------------------------------------------


def open_service(page, practitioner_name: str, service: str) -> None:
    page.get_by_role("link", name="Book", exact=True).click()
    page.get_by_role("link", name=practitioner_name).click()
    page.get_by_role("link", name=f"View {service}").click()
    expect(page.get_by_role("heading", name=service, exact=True)).to_be_visible()


def expect_awaiting_payment(page, service: str) -> None:
    expect(page.locator(".flash.success")).to_have_text(f"Order placed for {service}.")
    expect(page.get_by_role("heading", name="Awaiting payment")).to_be_visible()


def buy_workshop_seat(page, practitioner_name: str, seats_left: int) -> None:
    open_service(page, practitioner_name, WORKSHOP)
    sessions = page.locator("table tbody tr")
    expect(sessions).to_have_count(1)
    expect(sessions).to_contain_text(f"{seats_left} of 12")
    sessions.get_by_role("button", name="Buy a seat").click()
    expect_awaiting_payment(page, WORKSHOP)


def schedule_credit(page, client, days_ahead: int, clock: str) -> None:
    page.get_by_role("link", name="My bookings", exact=True).click()
    page.locator("#credits").get_by_role("link", name="Schedule").first.click()
    expect(page.get_by_role("heading", name=f"Schedule {INDIVIDUAL}")).to_be_visible()
    heading = page.locator(".slot-day")
    for _ in range(days_ahead):
        before = heading.inner_text()
        page.get_by_role("link", name="Next day →").click()  # an htmx swap
        expect(heading).not_to_have_text(before)
    page.get_by_role("button", name=clock, exact=True).click()
    day = datetime.now(client.zone).date() + timedelta(days=days_ahead)
    at = datetime.combine(day, time.fromisoformat(clock), tzinfo=UTC)
    expect(page.locator(".flash.success")).to_have_text(
        f"{INDIVIDUAL} is scheduled for {shown(at, locale=BROWSER_LOCALE)} ({client.timezone})."
    )


def workshop_row(page):
    return page.locator("#upcoming tbody tr", has_text=WORKSHOP)


# -- the story -----------------------------------------------------------------------------


def test_a_week_in_the_practice_from_empty_calendar_to_the_no_show_report(
    browser, live_server, cast
):
    maya, ana, ben, staff = cast["practitioner"], cast["ana"], cast["ben"], cast["staff"]
    journey = Journey(browser, live_server)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Five to six minutes ahead: bookable now, and its video room (open ten minutes
    # before the start) is open for the whole test.
    workshop_start = now + timedelta(minutes=6)
    course_first_day = (now.astimezone(maya.zone) + timedelta(days=3)).date()

    with journey.signed_in(maya) as practice:
        # 1. The practitioner builds the practice: a workshop, a bundle, an 8-week course.
        expect(practice.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
        journey.shot(practice, "practitioner-dashboard")
        create_service(practice, WORKSHOP, "workshop", price="30", seats="12")
        create_service(practice, INDIVIDUAL, "individual", price="60")
        bundle_row = create_service(
            practice,
            BUNDLE,
            "bundle",
            price="250",
            validity_days="90",
            contains=(INDIVIDUAL, "5"),
        )
        expect(bundle_row).to_contain_text(f"5 × {INDIVIDUAL} · valid 90 days")
        journey.shot(practice, "practitioner-services")
        schedule_workshop_session(practice, workshop_start.astimezone(maya.zone))
        journey.shot(practice, "practitioner-calendar")
        create_course(practice, course_first_day)
        journey.shot(practice, "practitioner-course")

        # 2. Two clients buy, each in a browser of their own.
        with journey.signed_in(ana) as ana_page, journey.signed_in(ben) as ben_page:
            open_service(ana_page, maya.name, BUNDLE)
            expect(ana_page.get_by_text(f"5 × {INDIVIDUAL} (60 minutes)")).to_be_visible()
            ana_page.get_by_role("button", name=re.compile(rf"^Buy {BUNDLE}")).click()
            expect_awaiting_payment(ana_page, BUNDLE)
            journey.shot(ana_page, "ana-bundle-order")
            buy_workshop_seat(ana_page, maya.name, seats_left=12)

            open_service(ben_page, maya.name, COURSE)
            expect(ben_page.locator("ol.plain > li")).to_have_count(8)
            price = shown_money(20000, locale=BROWSER_LOCALE)
            ben_page.get_by_role("button", name=f"Enroll in all 8 sessions · {price}").click()
            expect_awaiting_payment(ben_page, COURSE)
            expect(ben_page.locator("table tbody tr")).to_have_count(8)
            journey.shot(ben_page, "ben-course-order")
            buy_workshop_seat(ben_page, maya.name, seats_left=11)

            # The payments arrive offline; the practitioner records them.
            menu_link(practice, "Orders").click()
            orders = practice.locator("table tbody tr")
            expect(orders).to_have_count(4)
            journey.shot(practice, "practitioner-orders")
            for client, service in ((ana, BUNDLE), (ana, WORKSHOP), (ben, COURSE), (ben, WORKSHOP)):
                pending = orders.count()
                row = orders.filter(has_text=client.name).filter(has_text=service)
                row.get_by_role("button", name="Mark paid").click()
                expect(practice.locator(".flash.success")).to_contain_text("is marked paid")
                expect(orders).to_have_count(pending - 1)
            expect(practice.get_by_text("No orders are awaiting payment.")).to_be_visible()

            # Ana schedules two of her credits in the slot picker.
            ana_page.get_by_role("link", name="My bookings", exact=True).click()
            expect(ana_page.locator("#credits")).to_contain_text("5 of 5 credits left")
            schedule_credit(ana_page, ana, 2, "10:00")
            schedule_credit(ana_page, ana, 3, "11:00")
            expect(ana_page.locator("#credits")).to_contain_text("3 of 5 credits left")
            expect(ana_page.locator("#upcoming tbody tr", has_text=INDIVIDUAL)).to_have_count(2)
            expect(workshop_row(ana_page)).to_contain_text("confirmed")
            expect(workshop_row(ana_page).get_by_role("link", name="Join")).to_be_visible()
            journey.shot(ana_page, "ana-my-bookings")

            # 3. The workshop happens. Ben goes through Join to the room page.
            ben_page.get_by_role("link", name="My bookings", exact=True).click()
            # My bookings shows a course's sessions together, under the course (#14).
            course = ben_page.locator(".course-seats", has_text=COURSE)
            expect(course.locator(".course-sessions > li")).to_have_count(8)
            expect(workshop_row(ben_page)).to_contain_text("confirmed")
            workshop_row(ben_page).get_by_role("link", name="Join").click()
            expect(ben_page.get_by_role("heading", name=WORKSHOP)).to_be_visible()
            expect(ben_page.locator("#room-status")).to_have_text("Ready to join the video room.")
            expect(
                ben_page.get_by_role("button", name="Join with camera and microphone")
            ).to_be_visible()
            journey.shot(ben_page, "ben-join-page")
            grant = jwt_claims(ben_page.get_by_label("Token").input_value())

        # The roster before the room opens: two paid seats.
        practice.goto(f"{journey.url}/calendar/?date={workshop_start.astimezone(maya.zone):%F}")
        event = practice.locator("details.event", has_text=WORKSHOP)
        expect(event).to_contain_text("2/12 seats")

    room, ben_identity = grant["video"]["room"], grant["sub"]
    opened = datetime.now(UTC).replace(microsecond=0)
    end = workshop_start + timedelta(minutes=60)
    ben_in_room = participant_info("PA_ben", ben_identity, name=ben.name, joined_at=opened)
    events = [
        webhook_event(RoomEventKind.ROOM_STARTED, room, at=opened, room_created_at=opened),
        webhook_event(
            RoomEventKind.PARTICIPANT_JOINED,
            room,
            at=opened,
            room_created_at=opened,
            participant=ben_in_room,
        ),
        webhook_event(
            RoomEventKind.PARTICIPANT_LEFT,
            room,
            at=end,
            room_created_at=opened,
            participant=ben_in_room,
        ),
        webhook_event(RoomEventKind.ROOM_FINISHED, room, at=end, room_created_at=opened),
    ]
    assert [journey.post_webhook(event) for event in events] == [200, 200, 200, 200]

    # 4. Staff reads the no-show report and the session's attendance.
    with journey.signed_in(staff) as office:
        menu_link(office, "Reports").click()
        expect(office.get_by_role("heading", name="No-show report")).to_be_visible()
        wait_for_htmx(office)
        session_day = workshop_start.astimezone(staff.zone).date().isoformat()
        office.get_by_label("To", exact=True).fill(session_day)
        office.wait_for_url(re.compile(rf"end={session_day}"))
        office.get_by_label("Practitioner").select_option(label=maya.name)
        office.wait_for_url(re.compile(rf"practitioner={maya.id}"))
        expect(office.get_by_label("Practitioner")).to_have_value(str(maya.id))
        report = office.locator("#noshow-report")
        expect(report.locator(".summary")).to_contain_text(
            "1 no-shows of 2 confirmed seats (50.0%)"
        )
        by_service = office.locator("#by-service tbody tr")
        expect(by_service).to_have_count(1)
        expect(by_service).to_contain_text(WORKSHOP)
        by_client = office.locator("#by-client tbody tr")
        expect(by_client).to_have_count(2)
        ana_row = by_client.filter(has_text=ana.name)
        ben_row = by_client.filter(has_text=ben.name)
        # booked, attended, no-shows, rate, late cancels
        expect(ana_row.locator("td").nth(2)).to_have_text("1")
        expect(ana_row.locator("td").nth(3)).to_have_text("0")
        expect(ana_row.locator("td").nth(4)).to_have_text("1")
        expect(ana_row.locator("td").nth(5)).to_have_text("100.0%")
        expect(ben_row.locator("td").nth(3)).to_have_text("1")
        expect(ben_row.locator("td").nth(4)).to_have_text("0")
        journey.shot(office, "staff-noshow-report")

        menu_link(office, "Attendance").click()
        recent = office.locator("#recent-sessions tbody tr")
        expect(recent).to_have_count(1)
        expect(recent).to_contain_text("completed")
        recent.get_by_role("link", name=WORKSHOP).click()
        expect(office.get_by_role("heading", name=WORKSHOP)).to_be_visible()
        clients = office.locator("#session-attendance table.attendance tbody tr")
        expect(clients).to_have_count(2)
        ana_line = clients.filter(has_text=ana.name)
        ben_line = clients.filter(has_text=ben.name)
        expect(ben_line.locator(".badge").first).to_have_text("attended")
        expect(ben_line).to_contain_text(f"{opened:%H:%M:%S}")
        expect(ana_line.locator(".badge").first).to_have_text("no show")
        expect(ana_line).to_contain_text("never joined")
        expect(office.get_by_text("Nobody without a booking joined.")).to_be_visible()
        journey.shot(office, "staff-session-attendance")
