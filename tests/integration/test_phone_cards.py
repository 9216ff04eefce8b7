"""On a phone a table row is a card and each cell shows its column's name (data-label, as the
no-show report does); the day view, the agenda and the session lists say who is coming."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Booking, Role
from tests.fixtures.factories import make_course, make_user, make_workshop

ROW = re.compile(r"<tbody>(.*?)</tbody>", re.S)
CELL = re.compile(r"<td([^>]*)>(.*?)</td>", re.S)


def unlabelled_cells(html: str) -> list[str]:
    """Cells that show something but would lose their column's name on a phone."""
    missing = []
    for body in ROW.findall(html):
        for attrs, content in CELL.findall(body):
            text = re.sub(r"<[^>]+>|\s+", "", content)
            if text and "data-label=" not in attrs and "colspan" not in attrs:
                missing.append(text[:40])
    return missing


def test_every_card_cell_is_labelled(signed_in, practitioner):
    staff = make_user(Role.STAFF)
    ana = make_user(name="Ana Card")
    course = make_course(practitioner, sessions=2, name="Card course")
    booking.confirm_payment(booking.enroll_in_course(ana, course))
    workshop = make_workshop(practitioner, seats=3, name="Card workshop", price_cents=0)
    booking.book_workshop_seat(ana, workshop)
    today = datetime.now(practitioner.zone).replace(hour=12, minute=0, second=0, microsecond=0)
    make_workshop(practitioner, start=today.astimezone(UTC), name="Today's class")
    ran = make_workshop(practitioner, start=today.replace(hour=9).astimezone(UTC), name="Ran")
    before = ran.start_time - timedelta(days=1)
    booking.confirm_payment(booking.book_workshop_seat(ana, ran, now=before), now=before)
    booking.start_session(ran)
    booking.complete_session(ran)
    web = signed_in(practitioner)
    pages = [
        "/",
        "/calendar/sessions",
        "/courses/",
        f"/courses/{course.id}",
        "/attendance/",
        "/attendance/courses",
        f"/attendance/courses/{course.id}",
        f"/attendance/sessions/{ran.id}",
    ]
    found = {}
    for url in pages:
        response = web.get(url)
        assert response.status_code == 200, url
        assert "<tbody>" in response.text, url
        if missing := unlabelled_cells(response.text):
            found[url] = missing
    web.post("/auth/logout")
    web = signed_in(staff)
    for url in ("/", "/staff/outbox/"):
        if missing := unlabelled_cells(web.get(url).text):
            found[url] = missing
    assert not found, found


def test_day_view_agenda_and_session_list_name_who_is_coming(signed_in, practitioner):
    workshop = make_workshop(practitioner, seats=3, name="Names workshop", price_cents=0)
    booking.book_workshop_seat(make_user(name="Bea Coming"), workshop)
    booking.book_workshop_seat(make_user(name="Dan Coming"), workshop)
    left = make_user(name="Cal Canceled")
    booking.book_workshop_seat(left, workshop)
    seat = db.session.scalars(select(Booking).where(Booking.user_id == left.id)).one()
    booking.cancel_booking(seat, left)
    web = signed_in(practitioner)
    day = workshop.start_time.astimezone(practitioner.zone).date().isoformat()
    coming = '<span class="who-is-coming">Bea Coming, Dan Coming</span>'

    lists = web.get("/calendar/sessions").text
    assert f'<td data-label="Who is coming">{coming}</td>' in lists
    for url in (f"/calendar/day?date={day}", f"/calendar/?date={day}"):
        agenda = web.get(url).text.split('class="agenda"', 1)[1].split("</div>", 1)[0]
        assert coming in agenda, url
        assert "Cal Canceled" not in agenda, url
