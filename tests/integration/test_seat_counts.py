"""A practitioner may hide how many seats are left (#12): clients and visitors then read only
"Available" or "Full" (and the waitlist offer), on the pages and through the API, while the
practitioner and staff keep the counts."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Service, ServiceType
from tests.fixtures.client_portal import day_at, text_of
from tests.fixtures.factories import make_course, make_service, make_user, make_workshop
from tests.fixtures.practice import SERVICE_FORM


def workshop_with_seats_taken(practitioner, *, show: bool):
    """A workshop with 2 of 5 seats taken (3 left) and a second session, of 1 seat, full."""
    session = make_workshop(
        practitioner, seats=5, start=day_at(5, 9), name="Breathwork", show_seats_left=show
    )
    for _ in range(2):
        booking.book_workshop_seat(make_user(), session)
    full = booking.create_session(session.service, start_time=day_at(6, 9), max_participants=1)
    booking.book_workshop_seat(make_user(), full)
    db.session.commit()
    return session, full


def shows_no_count(text: str) -> bool:
    return not any(
        words in text for words in ("3 of 5", "0 of 1", "3 seats left", "Seats left", "seats left")
    )


def test_a_hidden_count_reads_available_or_full_to_visitors_and_clients(
    client, signed_in, maya, client_user
):
    session, full = workshop_with_seats_taken(maya, show=False)
    page = f"/book/services/{session.service_id}"
    for viewer in ("visitor", "client"):
        if viewer == "client":
            signed_in(client_user)
        text = text_of(client.get(page))
        assert shows_no_count(text), viewer
        assert "Availability" in text and "Available" in text and "Full" in text
        assert "Join the waitlist" in text and "Buy a seat" in text
        assert "hides how many seats are left" not in text
        for other in ("/", "/p/maya-rivers"):
            assert shows_no_count(text_of(client.get(other))), (viewer, other)


def test_a_hidden_course_count_reads_available(client, maya):
    course = make_course(maya, sessions=2, seats=10, show_seats_left=False)
    text = text_of(client.get(f"/book/services/{course.id}"))
    assert "10 seats left" not in text and "seats left" not in text
    assert text.count("· Available") == 2


def test_a_shown_count_still_reads_the_number(client, maya):
    session, _full = workshop_with_seats_taken(maya, show=True)
    text = text_of(client.get(f"/book/services/{session.service_id}"))
    assert "Seats left" in text and "3 of 5" in text and "0 of 1" in text
    course = make_course(maya, sessions=2, seats=10)
    assert "10 seats left" in text_of(client.get(f"/book/services/{course.id}"))


def test_the_practitioner_and_staff_still_see_the_counts(client, signed_in, maya, staff_user, auth):
    session, _full = workshop_with_seats_taken(maya, show=False)
    page = f"/book/services/{session.service_id}"
    for viewer in (maya, staff_user):
        signed_in(viewer)
        text = text_of(client.get(page))
        assert "3 of 5" in text and "0 of 1" in text
        # Their preview says what clients see instead.
        assert "Clients see only “Available” or “Full”" in text
        auth.logout()
    roster = text_of(signed_in(maya).get(f"/calendar/sessions/{session.id}"))
    assert "2/5 seats taken" in roster


def test_the_api_gives_a_hidden_count_as_null_to_clients_only(maya, client_user, api_as):
    session, full = workshop_with_seats_taken(maya, show=False)
    booking.book_workshop_seat(client_user, session)
    db.session.commit()

    def listed(user) -> dict[int, dict]:
        body = api_as(user).get(f"/api/v1/services/?practitioner_id={maya.id}").get_json()
        (service,) = [s for s in body["services"] if s["id"] == session.service_id]
        return {s["service_session_id"]: s for s in service["sessions"]}

    seen = listed(client_user)
    assert seen[session.id]["seats_left"] is None and seen[session.id]["available"] is True
    assert seen[full.id]["seats_left"] is None and seen[full.id]["available"] is False
    event = api_as(client_user).get(f"/api/v1/sessions/{session.id}").get_json()
    assert event["current_participants"] is None and event["attendee_count"] is None
    assert [a["user_id"] for a in event["attendees"]] == [client_user.id]

    own = listed(maya)
    assert own[session.id]["seats_left"] == 2 and own[full.id]["seats_left"] == 0
    event = api_as(maya).get(f"/api/v1/sessions/{session.id}").get_json()
    assert event["current_participants"] == 3 and event["attendee_count"] == 3


def test_the_api_gives_a_shown_count_to_clients(maya, client_user, api_as):
    session, full = workshop_with_seats_taken(maya, show=True)
    body = api_as(client_user).get(f"/api/v1/services/?practitioner_id={maya.id}").get_json()
    sessions = {s["service_session_id"]: s for s in body["services"][0]["sessions"]}
    assert sessions[session.id]["seats_left"] == 3 and sessions[session.id]["available"] is True
    assert sessions[full.id]["seats_left"] == 0 and sessions[full.id]["available"] is False


def test_the_openapi_document_says_the_count_may_be_null(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    seats_left = schemas["UpcomingSession"]["properties"]["seats_left"]
    assert {"type": "null"} in seats_left["anyOf"]
    assert schemas["UpcomingSession"]["properties"]["available"]["type"] == "boolean"


# -- The setting ------------------------------------------------------------------------------


def stored(service_id: int) -> bool:
    db.session.expire_all()
    return db.session.scalar(select(Service.show_seats_left).where(Service.id == service_id))


def test_the_service_form_offers_the_setting_with_its_hint(signed_in, maya):
    html = signed_in(maya).get("/practice/services/new").text
    (box,) = re.findall(r'<input[^>]*name="show_seats_left"[^>]*>', html)
    assert " checked " in box and 'type="checkbox"' in box  # shown unless they opt out
    assert "Show clients how many seats are left" in html
    assert 'aria-describedby="show_seats_left-hint"' in html
    assert "you and staff still see the counts" in html


def test_the_form_saves_the_setting_both_ways(signed_in, maya):
    web = signed_in(maya)
    form = {**SERVICE_FORM, "service_type": "workshop", "max_participants": "8"}
    assert web.post("/practice/services/new", data=form).status_code == 302
    workshop = db.session.scalar(select(Service).where(Service.name == "Deep Tissue"))
    assert workshop.show_seats_left is False  # the box was left unticked

    edit = f"/practice/services/{workshop.id}/edit"
    assert web.post(edit, data={**form, "show_seats_left": "y"}).status_code == 302
    assert stored(workshop.id) is True
    assert web.post(edit, data=form).status_code == 302
    assert stored(workshop.id) is False


def test_invalid_input_changes_nothing(signed_in, maya):
    workshop = make_service(maya, ServiceType.WORKSHOP, max_participants=8)
    web = signed_in(maya)
    form = {**SERVICE_FORM, "service_type": "workshop", "max_participants": "0"}
    answer = web.post(f"/practice/services/{workshop.id}/edit", data=form)
    assert answer.status_code == 200 and 'id="max_participants-error"' in answer.text
    assert stored(workshop.id) is True
    assert db.session.get(Service, workshop.id).max_participants == 8


def test_a_course_is_created_with_the_setting(signed_in, maya):
    form = {
        **SERVICE_FORM,
        "name": "Breath course",
        "max_participants": "6",
        "start_date": day_at(10, 9).date().isoformat(),
        "start_time": "09:00",
        "frequency": "weekly",
        "interval": "1",
        "count": "2",
    }
    assert signed_in(maya).post("/courses/new", data=form).status_code == 302
    course = db.session.scalar(select(Service).where(Service.name == "Breath course"))
    assert course.service_type == ServiceType.COURSE and course.show_seats_left is False


def test_saving_a_package_leaves_the_setting_alone(signed_in, maya):
    massage = make_service(maya, name="Massage")
    package = make_service(
        maya,
        ServiceType.PACKAGE,
        components=[(massage, 3)],
        validity_days=90,
        show_seats_left=False,
    )
    form = {
        **SERVICE_FORM,
        "name": "Reset package",
        "service_type": "package",
        "validity_days": "90",
        "components-0-included": str(massage.id),
        "components-0-quantity": "3",
    }
    answer = signed_in(maya).post(f"/practice/packages/{package.id}/edit", data=form)
    assert answer.status_code == 302
    assert stored(package.id) is False
    assert db.session.get(Service, package.id).name == "Reset package"
