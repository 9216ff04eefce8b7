"""Creating, editing, rescheduling and canceling sessions; rosters; session lists."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import BookingStatus, ServiceSession, ServiceType, SessionStatus
from tests.fixtures.factories import future, make_course, make_service, make_user, make_workshop


def field_error(html: str, field: str) -> str:
    """The error text rendered right under a form field."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def form_data(start, user, **extra):
    local = start.astimezone(user.zone)
    data = {
        "start_date": local.date().isoformat(),
        "start_time": local.strftime("%H:%M"),
        "duration": "90",
        "max_participants": "12",
        "title": "",
    }
    data.update(extra)
    return data


def test_new_session_dialog_is_a_fragment_for_htmx_and_a_page_without(signed_in, practitioner):
    make_service(practitioner, ServiceType.WORKSHOP, name="Yoga Nidra", max_participants=20)
    web = signed_in(practitioner)
    fragment = web.get("/calendar/sessions/new", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith("<dialog ")
    assert "Yoga Nidra (workshop · 60 min · 20 seats)" in fragment
    assert 'hx-post="/calendar/sessions/new"' in fragment
    page = web.get("/calendar/sessions/new").text
    assert "<html" in page and 'id="session-dialog"' in page


def test_new_session_without_services_points_to_the_services_page(signed_in, practitioner):
    html = signed_in(practitioner).get("/calendar/sessions/new").text
    assert "Create a service" in html and "/practice/services/new" in html


def test_creating_a_workshop_puts_it_on_the_calendar(signed_in, practitioner):
    workshop = make_service(practitioner, ServiceType.WORKSHOP, name="Qi Gong", max_participants=20)
    web = signed_in(practitioner)
    start = future(days=6, hour=16)

    response = web.post(
        "/calendar/sessions/new", data=form_data(start, practitioner, service=str(workshop.id))
    )

    assert response.status_code == 302
    session = db.session.scalar(select(ServiceSession))
    assert session.start_time == start and session.max_participants == 12
    assert session.end_time == start + timedelta(minutes=90)
    week = web.get(response.headers["Location"]).text
    assert "Qi Gong is on your calendar." in week
    assert "0/12 seats" in week


def test_htmx_create_answers_with_a_location_for_the_calendar(signed_in, practitioner):
    workshop = make_service(practitioner, ServiceType.WORKSHOP)
    start = future(days=6, hour=16)
    response = signed_in(practitioner).post(
        "/calendar/sessions/new",
        data=form_data(start, practitioner, service=str(workshop.id)),
        headers={"HX-Request": "true"},
    )
    location = json.loads(response.headers["HX-Location"])
    day = start.astimezone(practitioner.zone).date().isoformat()
    assert location == {
        "path": f"/calendar/?date={day}",
        "target": "#calendar",
        "swap": "outerHTML",
    }


def test_an_overlapping_time_is_shown_next_to_the_start_time(signed_in, practitioner):
    existing = make_workshop(practitioner, start=future(days=6, hour=16), name="Existing")
    workshop = make_service(practitioner, ServiceType.WORKSHOP)
    html = (
        signed_in(practitioner)
        .post(
            "/calendar/sessions/new",
            data=form_data(
                existing.start_time + timedelta(minutes=30), practitioner, service=str(workshop.id)
            ),
            headers={"HX-Request": "true"},
        )
        .text
    )
    assert "overlap" in field_error(html, "start_time") and "Existing" in html
    assert html.lstrip().startswith("<dialog ")
    assert db.session.scalars(select(ServiceSession)).all() == [existing]


def test_invalid_fields_are_reported_inline(signed_in, practitioner):
    workshop = make_service(practitioner, ServiceType.WORKSHOP)
    html = (
        signed_in(practitioner)
        .post(
            "/calendar/sessions/new",
            data=form_data(
                future(), practitioner, service=str(workshop.id), duration="2", max_participants="0"
            ),
        )
        .text
    )
    assert field_error(html, "duration") and field_error(html, "max_participants")
    assert db.session.scalars(select(ServiceSession)).all() == []


def test_another_practitioners_service_is_not_a_choice(signed_in, practitioner, other_practitioner):
    theirs = make_service(other_practitioner, ServiceType.WORKSHOP)
    make_service(practitioner, ServiceType.WORKSHOP)
    html = (
        signed_in(practitioner)
        .post(
            "/calendar/sessions/new", data=form_data(future(), practitioner, service=str(theirs.id))
        )
        .text
    )
    assert field_error(html, "service")
    assert db.session.scalars(select(ServiceSession)).all() == []


def test_edit_reschedules_and_the_calendar_shows_the_new_time(signed_in, practitioner):
    session = make_workshop(practitioner, seats=10, start=future(days=5, hour=15))
    web = signed_in(practitioner)
    form = web.get(f"/calendar/sessions/{session.id}/edit").text
    local = session.start_time.astimezone(practitioner.zone)
    assert f'value="{local.strftime("%H:%M")}"' in form and 'value="90"' in form

    new_start = session.start_time + timedelta(days=1, hours=1)
    response = web.post(
        f"/calendar/sessions/{session.id}/edit",
        data=form_data(new_start, practitioner, duration="60", max_participants="8", title="Moved"),
    )
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.start_time == new_start and session.revision == 1
    assert "Moved" in web.get(response.headers["Location"]).text


def test_capacity_below_the_seats_taken_is_refused_inline(signed_in, practitioner):
    session = make_workshop(practitioner, seats=10)
    for _ in range(3):
        booking.book_workshop_seat(make_user(), session)
    html = (
        signed_in(practitioner)
        .post(
            f"/calendar/sessions/{session.id}/edit",
            data=form_data(session.start_time, practitioner, max_participants="2"),
        )
        .text
    )
    assert "3 seats are taken" in field_error(html, "max_participants")


def test_cancel_says_how_many_bookings_were_canceled(signed_in, practitioner):
    session = make_workshop(practitioner, seats=10, name="Drumming")
    for _ in range(3):
        booking.book_workshop_seat(make_user(), session)
    web = signed_in(practitioner)
    response = web.post(
        f"/calendar/sessions/{session.id}/cancel", data={"reason": "ill", "confirmed": "y"}
    )
    assert (
        "Drumming is canceled; 3 bookings were canceled."
        in web.get(response.headers["Location"]).text
    )
    db.session.refresh(session)
    assert session.status == SessionStatus.CANCELED
    assert {b.status for b in session.bookings} == {BookingStatus.CANCELED}


def test_roster_lists_attendees_and_the_practitioner_adds_and_removes_one(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=2)
    booking.book_workshop_seat(make_user(name="Early Bird"), session)
    web = signed_in(practitioner)
    page = web.get(f"/calendar/sessions/{session.id}").text
    assert "Early Bird" in page and "pending payment" in page and "1/2 seats taken" in page

    fragment = web.post(
        f"/calendar/sessions/{session.id}/attendees",
        data={"email": client_user.email.upper()},
        headers={"HX-Request": "true"},
    ).text
    assert fragment.lstrip().startswith('<section class="card" id="roster">')
    assert client_user.name in fragment and "2/2 seats taken" in fragment
    assert f"{client_user.name} is added." in fragment

    full = web.post(
        f"/calendar/sessions/{session.id}/attendees",
        data={"email": make_user().email},
        headers={"HX-Request": "true"},
    ).text
    assert re.search(r'role="alert">\s*<p class="error">[^<]* is full\.', full)

    seat = next(b for b in session.bookings if b.user_id == client_user.id)
    removed = web.post(
        f"/calendar/sessions/{session.id}/attendees/{seat.id}/remove",
        data={"confirmed": "y"},
        headers={"HX-Request": "true"},
    ).text
    assert "1/2 seats taken" in removed and "their seat is free" in removed
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED


LATE_CANCEL_BUTTON = re.compile(r'<button[^>]*name="client_requested"[^>]*>Late cancel</button>')


def test_removing_a_client_past_the_cutoff_is_no_late_cancel_and_returns_their_credit(
    signed_in, practitioner, client_user
):
    yoga = make_service(practitioner, cancellation_cutoff_hours=24 * 30)
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 3)])
    order = booking.buy_credits(client_user, bundle)
    seat = order.bookings[0]
    booking.schedule_credit(seat, future(days=5, hour=10))
    session = seat.service_session
    web = signed_in(practitioner)
    assert LATE_CANCEL_BUTTON.search(web.get(f"/calendar/sessions/{session.id}").text)

    removed = web.post(
        f"/calendar/sessions/{session.id}/attendees/{seat.id}/remove",
        data={"confirmed": "y"},
        headers={"HX-Request": "true"},
    ).text

    assert f"{client_user.name} is removed; their seat is free. Their credit is returned." in (
        removed
    )
    assert '<span class="badge">late cancel</span>' not in removed
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED and seat.late_cancel is False
    db.session.refresh(order)
    assert sum(b.status == BookingStatus.DRAFT for b in order.bookings) == 3


def test_late_cancel_on_the_roster_records_the_clients_late_cancel(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=3, cancellation_cutoff_hours=24 * 30)
    order = booking.book_workshop_seat(client_user, session)
    booking.confirm_payment(order)
    seat = order.bookings[0]

    canceled = (
        signed_in(practitioner)
        .post(
            f"/calendar/sessions/{session.id}/attendees/{seat.id}/remove",
            data={"client_requested": "y", "confirmed": "y"},
            headers={"HX-Request": "true"},
        )
        .text
    )

    assert f"{client_user.name} is canceled at their request; their seat is free." in canceled
    assert '<span class="badge">late cancel</span>' in canceled
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED and seat.late_cancel is True


def test_late_cancel_is_offered_only_past_the_cutoff(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3, start=future(days=5))
    booking.book_workshop_seat(client_user, session)

    page = signed_in(practitioner).get(f"/calendar/sessions/{session.id}").text

    assert f"Remove {client_user.name}" in page and not LATE_CANCEL_BUTTON.search(page)


def test_adding_an_unknown_email_says_so(signed_in, practitioner):
    session = make_workshop(practitioner)
    html = (
        signed_in(practitioner)
        .post(f"/calendar/sessions/{session.id}/attendees", data={"email": "nobody@example.com"})
        .text
    )
    assert field_error(html, "email") == "No client account has that email."


def test_removing_a_booking_of_another_session_is_not_found(signed_in, practitioner, client_user):
    mine = make_workshop(practitioner, start=future(days=3))
    other = make_workshop(practitioner, start=future(days=4))
    booking.book_workshop_seat(client_user, other)
    seat = other.bookings[0]
    response = signed_in(practitioner).post(
        f"/calendar/sessions/{mine.id}/attendees/{seat.id}/remove", data={"confirmed": "y"}
    )
    assert response.status_code == 404


def test_upcoming_and_past_lists(signed_in, practitioner):
    upcoming = make_workshop(practitioner, start=future(days=3), name="Soon")
    canceled = make_workshop(practitioner, start=future(days=5), name="Called off")
    booking.cancel_session(canceled, practitioner)
    past = make_workshop(practitioner, start=future(days=-3), name="Last week")
    web = signed_in(practitioner)

    html = web.get("/calendar/sessions").text
    assert "Upcoming sessions" in html and "Soon" in html
    assert "Last week" not in html and "Called off" not in html

    html = web.get("/calendar/sessions?when=past", headers={"HX-Request": "true"}).text
    assert html.lstrip().startswith('<section id="session-list">')
    assert "Last week" in html and "Soon" not in html
    assert upcoming.id and past.id


def test_one_course_session_is_edited_alone(signed_in, practitioner):
    course = make_course(practitioner, sessions=3)
    sessions = db.session.scalars(
        select(ServiceSession)
        .where(ServiceSession.service_id == course.id)
        .order_by(ServiceSession.sequence_number)
    ).all()
    web = signed_in(practitioner)
    page = web.get(f"/courses/{course.id}").text
    assert f"/calendar/sessions/{sessions[1].id}/edit" in page

    before = [s.start_time for s in sessions]
    moved = sessions[1].start_time + timedelta(days=1)
    response = web.post(
        f"/calendar/sessions/{sessions[1].id}/edit",
        data=form_data(moved, practitioner, max_participants="10"),
    )
    assert response.status_code == 302
    for session in sessions:
        db.session.refresh(session)
    assert [s.start_time for s in sessions] == [before[0], moved, before[2]]
    assert [s.revision for s in sessions] == [0, 1, 0]
    assert [s.sequence_number for s in sessions] == [1, 2, 3]


def test_edit_dialog_and_htmx_cancel(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=4, name="Sound bath")
    booking.book_workshop_seat(client_user, session)
    web = signed_in(practitioner)
    dialog = web.get(f"/calendar/sessions/{session.id}/edit", headers={"HX-Request": "true"}).text
    assert dialog.lstrip().startswith("<dialog ")
    assert "Edit Sound bath" in dialog and "1 booking will be canceled." in dialog

    response = web.post(
        f"/calendar/sessions/{session.id}/cancel",
        headers={"HX-Request": "true"},
        data={"confirmed": "y"},
    )
    location = json.loads(response.headers["HX-Location"])
    calendar = web.get(location["path"], headers={"HX-Request": "true"}).text
    assert "Sound bath is canceled; 1 booking was canceled." in calendar
    assert "status-canceled" in calendar

    again = web.post(
        f"/calendar/sessions/{session.id}/cancel",
        data={"confirmed": "y"},
        follow_redirects=True,
    )
    assert "it cannot be canceled" in again.text


def test_blank_duration_and_capacity_take_the_services(signed_in, practitioner):
    workshop = make_service(
        practitioner, ServiceType.WORKSHOP, duration_minutes=75, max_participants=14
    )
    start = future(days=6, hour=16)
    data = form_data(
        start, practitioner, service=str(workshop.id), duration="", max_participants=""
    )
    assert signed_in(practitioner).post("/calendar/sessions/new", data=data).status_code == 302
    session = db.session.scalar(select(ServiceSession))
    assert session.end_time - session.start_time == timedelta(minutes=75)
    assert session.max_participants == 14


def test_a_flash_shows_once_on_a_boosted_page_and_inside_an_htmx_swap(signed_in, practitioner):
    """One helper decides "page or fragment": a boosted request gets the full page, whose
    layout shows the flash; the calendar fragment inside it must not show it again."""
    workshop = make_service(practitioner, ServiceType.WORKSHOP, name="Qi Gong", max_participants=20)
    web = signed_in(practitioner)
    message = "Qi Gong is on your calendar."
    for headers, whole_page in (
        ({"HX-Request": "true", "HX-Boosted": "true"}, True),
        ({"HX-Request": "true"}, False),
    ):
        start = future(days=6 if whole_page else 8, hour=16)
        response = web.post(
            "/calendar/sessions/new", data=form_data(start, practitioner, service=str(workshop.id))
        )
        answer = web.get(response.headers["Location"], headers=headers).text
        assert ("<html" in answer) is whole_page
        assert answer.count(message) == 1
