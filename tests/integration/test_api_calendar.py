"""GET /api/v1/calendar/, /api/v1/sessions/<id> and /api/v1/services/ for every role."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import Order, OrderStatus, Role, ServiceType
from tests.fixtures.api import error_of
from tests.fixtures.factories import (
    future,
    make_course,
    make_service,
    make_user,
    make_workshop,
    open_all_week,
)

EVENT_KEYS = {
    "service_session_id",
    "service",
    "session_type",
    "sequence_number",
    "start_time",
    "end_time",
    "timezone",
    "status",
    "max_participants",
    "current_participants",
    "attendee_count",
    "attendees",
    "livekit_room",
}
ATTENDEE_KEYS = {"booking_id", "user_id", "name", "status", "livekit_identity"}


def span(start: datetime, end: datetime) -> str:
    return urlencode({"start": start.isoformat(), "end": end.isoformat()})


def window(days_from: int = 0, days_to: int = 30) -> str:
    return span(future(days=days_from, hour=0), future(days=days_to, hour=0))


def calendar(api, query: str | None = None):
    return api.get(f"/api/v1/calendar/?{query or window()}")


@pytest.fixture
def world(practitioner, client_user):
    """Two practitioners' sessions; the client holds seats in some of them."""
    other_practitioner = make_user(Role.PRACTITIONER)
    open_all_week(other_practitioner)
    stranger = make_user()
    workshop = make_workshop(practitioner, seats=10, start=future(days=3, hour=14))
    booking.book_workshop_seat(client_user, workshop)
    booking.book_workshop_seat(stranger, workshop)
    individual = make_service(practitioner, price_cents=0)
    private = booking.book_individual_session(stranger, individual, future(days=4, hour=16))
    others_workshop = make_workshop(other_practitioner, start=future(days=5, hour=14))
    yoga = make_service(practitioner, name="Yoga")
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 2)])
    credits = booking.buy_credits(client_user, bundle)  # two unscheduled drafts: not events
    return {
        "workshop": workshop,
        "private": private.bookings[0].service_session,
        "others_workshop": others_workshop,
        "other_practitioner": other_practitioner,
        "stranger": stranger,
        "credit": credits.bookings[0],
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [e["service_session_id"] for e in response.get_json()["events"]]


def test_calendar_event_has_every_field_of_the_issue(api_as, practitioner, client_user, world):
    body = calendar(api_as(practitioner)).get_json()

    first = body["events"][0]
    assert set(body) == {"events"}
    assert set(first) >= EVENT_KEYS
    workshop = world["workshop"]
    assert first["service_session_id"] == workshop.id
    assert first["service"] == {
        "id": workshop.service.id,
        "name": workshop.service.name,
        "service_type": "workshop",
    }
    assert first["session_type"] == "workshop" and first["sequence_number"] is None
    assert datetime.fromisoformat(first["start_time"]) == workshop.start_time
    assert first["start_time"].endswith("+00:00")
    assert datetime.fromisoformat(first["end_time"]) == workshop.end_time
    assert first["timezone"] == "America/New_York"
    assert first["status"] == "scheduled"
    assert first["max_participants"] == 10
    assert first["current_participants"] == 2 and first["attendee_count"] == 2
    assert first["livekit_room"] == workshop.livekit_room_name
    attendees = first["attendees"]
    assert all(set(a) == ATTENDEE_KEYS for a in attendees)
    assert [a["user_id"] for a in attendees] == [client_user.id, world["stranger"].id]
    assert attendees[0]["name"] == client_user.name
    assert attendees[0]["livekit_identity"] == client_user.livekit_identity
    assert attendees[0]["status"] == "pending_payment"
    assert attendees[0]["booking_id"] == workshop.bookings[0].id


def test_practitioner_sees_only_their_own_scheduled_sessions(api_as, practitioner, world):
    api = api_as(practitioner)
    assert ids(calendar(api)) == [world["workshop"].id, world["private"].id]
    mine = calendar(api, window() + f"&practitioner_id={practitioner.id}")
    assert ids(mine) == [world["workshop"].id, world["private"].id]
    theirs = calendar(api, window() + f"&practitioner_id={world['other_practitioner'].id}")
    assert theirs.status_code == 403 and error_of(theirs)["code"] == "forbidden"


def test_staff_sees_everyone_and_can_filter_by_practitioner(api_as, staff_user, world):
    api = api_as(staff_user)
    everything = ids(calendar(api))
    assert everything == [world["workshop"].id, world["private"].id, world["others_workshop"].id]
    other = world["other_practitioner"]
    assert ids(calendar(api, window() + f"&practitioner_id={other.id}")) == [
        world["others_workshop"].id
    ]
    body = calendar(api).get_json()["events"][1]
    assert [a["user_id"] for a in body["attendees"]] == [world["stranger"].id]


def test_client_sees_sessions_they_hold_a_seat_in_and_only_themselves(api_as, client_user, world):
    body = calendar(api_as(client_user)).get_json()
    assert [e["service_session_id"] for e in body["events"]] == [world["workshop"].id]
    event_ = body["events"][0]
    assert event_["attendee_count"] == 2
    assert [a["user_id"] for a in event_["attendees"]] == [client_user.id]


def test_canceled_seat_and_canceled_session_leave_the_calendar(
    api_as, practitioner, client_user, world
):
    booking.cancel_booking(world["workshop"].bookings[0], practitioner)
    assert ids(calendar(api_as(client_user))) == []
    booking.cancel_session(world["workshop"], practitioner)
    assert world["workshop"].id not in ids(calendar(api_as(practitioner)))


def test_window_is_an_overlap_test(api_as, practitioner, world):
    api = api_as(practitioner)
    start = world["workshop"].start_time
    inside = span(start + timedelta(minutes=30), start + timedelta(minutes=31))
    assert ids(calendar(api, inside)) == [world["workshop"].id]
    assert ids(calendar(api, span(start - timedelta(hours=1), start))) == []


def test_offsets_are_honoured_and_unencoded_plus_is_not_a_500(api_as, practitioner, world):
    api = api_as(practitioner)
    start = world["workshop"].start_time.astimezone(ZoneInfo("Asia/Tokyo"))
    assert ids(calendar(api, span(start, start + timedelta(minutes=1)))) == [world["workshop"].id]
    raw_plus = calendar(api, "start=2030-01-01T00:00:00+01:00&end=2030-01-02T00:00:00+01:00")
    assert raw_plus.status_code == 422


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("end=2030-01-02T00:00:00Z", "start"),
        ("start=2030-01-01T00:00:00&end=2030-01-02T00:00:00Z", "start"),
        ("start=2030-01-02T00:00:00Z&end=2030-01-01T00:00:00Z", "end"),
        ("start=2030-01-01T00:00:00Z&end=2031-06-01T00:00:00Z", "end"),
        ("start=tomorrow&end=2030-01-01T00:00:00Z", "start"),
        (
            "start=2030-01-01T00:00:00Z&end=2030-01-02T00:00:00Z&practitioner_id=abc",
            "practitioner_id",
        ),
        (
            "start=2030-01-01T00:00:00Z&end=2030-01-02T00:00:00Z&practitioner_id=0",
            "practitioner_id",
        ),
        ("start=2030-01-01T00:00:00Z&end=2030-01-02T00:00:00Z&colour=blue", "colour"),
        ("start=1700-01-01T00:00:00Z&end=2030-01-02T00:00:00Z", "start"),
    ],
)
def test_bad_calendar_queries_are_422_with_the_field(api_as, staff_user, query, field):
    response = calendar(api_as(staff_user), query)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["fields"]


def test_calendar_runs_a_fixed_number_of_queries(api_as, staff_user, practitioner):
    api = api_as(staff_user)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        # SQLite's BEGIN depends on whether the test's shared session had a transaction open.
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    def measure() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert calendar(api).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    make_workshop(practitioner, seats=5, start=future(days=2))
    booking.book_workshop_seat(
        make_user(), make_workshop(practitioner, start=future(days=2, hour=18))
    )
    calendar(api)  # the token's first use writes last_used_at; not part of the count
    small = measure()
    course = make_course(practitioner, sessions=3)
    for _ in range(4):
        booking.enroll_in_course(make_user(), course)
    for day in range(5, 9):
        session = make_workshop(practitioner, seats=5, start=future(days=day, hour=8))
        for _ in range(3):
            booking.book_workshop_seat(make_user(), session)
    assert len(calendar(api).get_json()["events"]) == 9
    assert measure() == small


# /api/v1/sessions/<id>


def test_session_detail_is_the_calendar_event(api_as, practitioner, world):
    api = api_as(practitioner)
    detail = api.get(f"/api/v1/sessions/{world['workshop'].id}")
    assert detail.status_code == 200
    assert detail.get_json() == calendar(api).get_json()["events"][0]


def test_course_session_has_its_sequence_number(api_as, practitioner, client_user):
    course = make_course(practitioner, sessions=2)
    order = booking.enroll_in_course(client_user, course)
    second = order.bookings[1].service_session
    body = api_as(client_user).get(f"/api/v1/sessions/{second.id}").get_json()
    assert body["sequence_number"] == 2 and body["session_type"] == "course_session"
    assert body["service"]["service_type"] == "course"


def test_session_detail_access_by_role(api_as, practitioner, client_user, staff_user, world):
    private, workshop = world["private"], world["workshop"]
    other_practitioner = world["other_practitioner"]

    assert api_as(staff_user).get(f"/api/v1/sessions/{private.id}").status_code == 200
    assert api_as(practitioner).get(f"/api/v1/sessions/{private.id}").status_code == 200
    stranger = api_as(world["stranger"]).get(f"/api/v1/sessions/{private.id}").get_json()
    assert [a["user_id"] for a in stranger["attendees"]] == [world["stranger"].id]
    # Someone else's private 1-on-1: existence is private.
    for outsider in (client_user, other_practitioner):
        response = api_as(outsider).get(f"/api/v1/sessions/{private.id}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    # A public workshop is visible to any signed-in user, without others' names.
    onlooker = make_user()
    seen = api_as(onlooker).get(f"/api/v1/sessions/{workshop.id}").get_json()
    assert seen["attendee_count"] == 2 and seen["attendees"] == []


def test_unscheduled_drafts_and_missing_sessions_are_404(api_as, client_user, world):
    api = api_as(client_user)
    draft_session_id = world["credit"].service_session_id
    assert api.get(f"/api/v1/sessions/{draft_session_id}").status_code == 404
    assert api.get("/api/v1/sessions/999999").status_code == 404
    assert api.get("/api/v1/sessions/99999999999999").status_code == 404
    assert api.get("/api/v1/sessions/abc").status_code == 404


def test_session_detail_needs_a_token(api_as, world):
    response = api_as(None).get(f"/api/v1/sessions/{world['workshop'].id}")
    assert response.status_code == 401


# /api/v1/services/


def test_services_for_a_client_list_active_services_with_upcoming_sessions(
    api_as, practitioner, client_user
):
    workshop = make_workshop(practitioner, seats=4, start=future(days=2))
    make_service(practitioner, name="Retired", is_active=False)
    yoga = make_service(practitioner, name="Yoga")
    package = make_service(
        practitioner, ServiceType.PACKAGE, components=[(yoga, 3)], validity_days=90
    )

    body = api_as(client_user).get("/api/v1/services/").get_json()

    by_name = {s["name"]: s for s in body["services"]}
    assert "Retired" not in by_name
    listed = by_name[workshop.service.name]
    assert listed["service_type"] == "workshop" and listed["practitioner_id"] == practitioner.id
    assert listed["sessions"] == [
        {
            "service_session_id": workshop.id,
            "sequence_number": None,
            "start_time": workshop.start_time.isoformat(),
            "end_time": workshop.end_time.isoformat(),
            "seats_left": 4,
            "available": True,
        }
    ]
    assert by_name[package.name]["components"] == [{"service_id": yoga.id, "quantity": 3}]
    assert by_name[package.name]["validity_days"] == 90


def test_services_count_a_lapsed_hold_as_free_and_release_nothing(
    api_as, practitioner, client_user
):
    """As on the shop's page (booking.bookable_seats): the seat of a hold that lapsed is
    free to a reader, and the GET leaves the hold for the worker to release."""
    workshop = make_workshop(practitioner, seats=1, start=future(days=2))
    held = booking.book_workshop_seat(make_user(), workshop, now=utcnow() - timedelta(hours=1))
    db.session.commit()

    body = api_as(client_user).get("/api/v1/services/").get_json()

    (listed,) = [s for s in body["services"] if s["id"] == workshop.service_id]
    assert listed["sessions"][0]["seats_left"] == 1 and listed["sessions"][0]["available"]
    db.session.expire_all()
    assert db.session.get(Order, held.id).status == OrderStatus.PENDING


def test_practitioner_services_default_to_their_own_including_inactive(
    api_as, practitioner, staff_user
):
    mine = make_service(practitioner, name="Mine")
    retired = make_service(practitioner, name="Retired", is_active=False)
    other = make_user(Role.PRACTITIONER)
    theirs = make_service(other, name="Theirs")
    theirs_retired = make_service(other, name="Theirs retired", is_active=False)

    def names(api, query=""):
        return [s["id"] for s in api.get(f"/api/v1/services/{query}").get_json()["services"]]

    api = api_as(practitioner)
    assert names(api) == [mine.id, retired.id]
    assert names(api, f"?practitioner_id={other.id}") == [theirs.id]
    staff = api_as(staff_user)
    assert names(staff, f"?practitioner_id={other.id}") == [theirs.id, theirs_retired.id]
    assert names(staff) == [mine.id, retired.id, theirs.id, theirs_retired.id]
    bad = staff.get("/api/v1/services/?practitioner_id=-3")
    assert bad.status_code == 422 and "practitioner_id" in error_of(bad)["fields"]
