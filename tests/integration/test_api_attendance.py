"""GET /api/v1/sessions/<id>/attendance, /api/v1/reports/no-shows and
/api/v1/courses/<id>/completion: every role, exact fields, hand-counted numbers."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import event

from portal import booking
from portal.extensions import db
from portal.models import AttendanceStatus, Role, ServiceSession, ServiceType, User
from tests.fixtures.api import error_of
from tests.fixtures.attendance import book_past_session, finish, join, past
from tests.fixtures.factories import (
    future,
    make_course,
    make_service,
    make_user,
    make_workshop,
    open_all_week,
)
from tests.fixtures.report_data import build_course_world

ATTENDANCE_KEYS = {
    "session_id",
    "status",
    "service_id",
    "practitioner_id",
    "start_time",
    "end_time",
    "actual_start_time",
    "actual_end_time",
    "booked",
    "attended",
    "no_shows",
    "bookings",
    "late_cancels",
    "participants",
}
PARTICIPANT_KEYS = {
    "user_id",
    "identity",
    "participant_sid",
    "display_name",
    "participant_kind",
    "joined_at",
    "left_at",
    "duration_seconds",
}
COUNT_KEYS = {"booked", "attended", "no_shows", "no_show_rate", "late_cancels"}


@contextmanager
def counted_queries():
    statements: list[str] = []
    # The test client shares the test's session: start each measured request cold, in a
    # fresh transaction.
    db.session.commit()
    db.session.expire_all()

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def instant(value: str) -> datetime:
    """An answer's time: ISO 8601 with an explicit UTC offset."""
    assert value.endswith("+00:00"), value
    return datetime.fromisoformat(value)


# --- One session's attendance --------------------------------------------------------


@dataclass
class RanSession:
    session: ServiceSession
    ana: User
    ben: User
    cleo: User
    dan: User


@pytest.fixture
def ran(practitioner) -> RanSession:
    """A completed workshop 3 days ago, counted by hand:

    Ana two sids (2-20 and 25-50 min: 43 min) attended, leaving early; Ben never came (no-show);
    Cleo 0-60 attended; Dan late-canceled; the practitioner hosted; a guest not
    signed in looked in for 5 minutes.
    """
    ana, ben, cleo, dan = (make_user(name=n) for n in ("Ana", "Ben", "Cleo", "Dan"))
    session = book_past_session(practitioner, [ana, ben, cleo, dan], past(3))
    seat = next(b for b in session.bookings if b.user_id == dan.id)
    booking.cancel_booking(
        seat, practitioner, client_requested=True, now=session.start_time - timedelta(hours=3)
    )
    join(session, practitioner, 0, 60, kind="host")
    join(session, ana, 2, 20)
    join(session, ana, 25, 50)
    join(session, cleo, 0, 60)
    join(session, None, 10, 15, kind="unbooked", name="Guest")
    return RanSession(finish(session), ana, ben, cleo, dan)


def attendance(api, session_id: int):
    return api.get(f"/api/v1/sessions/{session_id}/attendance")


def test_practitioner_sees_the_whole_attendance(api_as, practitioner, ran):
    response = attendance(api_as(practitioner), ran.session.id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    assert set(body) == ATTENDANCE_KEYS
    assert body["session_id"] == ran.session.id and body["status"] == "completed"
    assert body["practitioner_id"] == practitioner.id
    assert instant(body["start_time"]) == ran.session.start_time
    assert instant(body["actual_end_time"]) == ran.session.end_time
    assert body["booked"] == sorted([ran.ana.id, ran.ben.id, ran.cleo.id])
    assert body["attended"] == sorted([ran.ana.id, ran.cleo.id])
    assert body["no_shows"] == [ran.ben.id]

    bookings = {b["user_id"]: b for b in body["bookings"]}
    assert [b["name"] for b in body["bookings"]] == ["Ana", "Ben", "Cleo"]
    assert bookings[ran.ana.id]["outcome"] == "attended"
    assert bookings[ran.ana.id]["total_seconds"] == 43 * 60
    start = ran.session.start_time
    assert instant(bookings[ran.ana.id]["first_joined_at"]) == start + timedelta(minutes=2)
    assert instant(bookings[ran.ana.id]["last_left_at"]) == start + timedelta(minutes=50)
    assert bookings[ran.ana.id]["early_leave"] is True  # 10 min before the end; slack is 5
    assert bookings[ran.ana.id]["late_join"] is False
    assert bookings[ran.cleo.id]["early_leave"] is False
    ben_seat = next(b for b in ran.session.bookings if b.user_id == ran.ben.id)
    assert bookings[ran.ben.id] == {
        "booking_id": ben_seat.id,
        "user_id": ran.ben.id,
        "name": "Ben",
        "outcome": "no_show",
        "overridden": False,
        "total_seconds": 0,
        "first_joined_at": None,
        "last_left_at": None,
        "late_join": False,
        "early_leave": False,
    }
    assert [(c["user_id"], c["name"]) for c in body["late_cancels"]] == [(ran.dan.id, "Dan")]
    dan_seat = next(b for b in ran.session.bookings if b.user_id == ran.dan.id)
    assert instant(body["late_cancels"][0]["canceled_at"]) == dan_seat.canceled_at

    participants = body["participants"]
    assert all(set(p) == PARTICIPANT_KEYS for p in participants)
    assert [p["user_id"] for p in participants] == [
        practitioner.id,
        ran.cleo.id,
        ran.ana.id,
        None,
        ran.ana.id,
    ]
    host = participants[0]
    assert host["participant_kind"] == "host"
    assert host["identity"] == practitioner.livekit_identity
    assert host["participant_sid"].startswith("PA_")
    assert instant(host["joined_at"]) == start
    assert instant(host["left_at"]) == start + timedelta(minutes=60)
    assert host["duration_seconds"] == 3600
    guest = participants[3]
    assert guest["identity"].startswith("guest-") and guest["duration_seconds"] == 300


def test_staff_sees_everyone_and_an_override(api_as, staff_user, ran):
    seat = next(b for b in ran.session.bookings if b.user_id == ran.ben.id)
    booking.override_outcome(seat, AttendanceStatus.ATTENDED, staff_user, reason="Phoned in")
    body = attendance(api_as(staff_user), ran.session.id).get_json()

    assert body["attended"] == sorted([ran.ana.id, ran.ben.id, ran.cleo.id])
    assert body["no_shows"] == []
    ben = next(b for b in body["bookings"] if b["user_id"] == ran.ben.id)
    assert ben["outcome"] == "attended" and ben["overridden"] is True
    assert len(body["participants"]) == 5


def test_a_booked_client_sees_only_their_own_entries(api_as, ran, practitioner):
    ana = attendance(api_as(ran.ana), ran.session.id).get_json()
    assert ana["booked"] == [ran.ana.id] and ana["attended"] == [ran.ana.id]
    assert ana["no_shows"] == [] and ana["late_cancels"] == []
    assert [b["user_id"] for b in ana["bookings"]] == [ran.ana.id]
    assert [p["user_id"] for p in ana["participants"]] == [ran.ana.id, ran.ana.id]
    assert {p["identity"] for p in ana["participants"]} == {ran.ana.livekit_identity}

    ben = attendance(api_as(ran.ben), ran.session.id).get_json()
    assert ben["booked"] == [ran.ben.id] and ben["no_shows"] == [ran.ben.id]
    assert ben["attended"] == [] and ben["participants"] == []
    assert [b["outcome"] for b in ben["bookings"]] == ["no_show"]


def test_a_late_canceled_client_sees_their_late_cancel_only(api_as, ran):
    body = attendance(api_as(ran.dan), ran.session.id).get_json()
    assert body["booked"] == [] and body["bookings"] == [] and body["participants"] == []
    assert [c["user_id"] for c in body["late_cancels"]] == [ran.dan.id]


def test_others_are_refused(api_as, practitioner, ran):
    other_practitioner = make_user(Role.PRACTITIONER)
    response = attendance(api_as(make_user()), ran.session.id)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    # As on the attendance pages, another practitioner's session does not exist for them.
    response = attendance(api_as(other_practitioner), ran.session.id)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"

    # A private 1-on-1 session does not exist for anyone else.
    owner = make_user()
    individual = make_service(practitioner, price_cents=0)
    order = booking.book_individual_session(owner, individual, future(days=4, hour=16))
    private = order.bookings[0].service_session
    for outsider in (make_user(), other_practitioner):
        response = attendance(api_as(outsider), private.id)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert attendance(api_as(owner), private.id).status_code == 200

    missing = attendance(api_as(practitioner), 999_999)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    anonymous = attendance(api_as(None), ran.session.id)
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "unauthorized"


def test_an_unscheduled_credit_has_no_attendance(api_as, practitioner, client_user):
    yoga = make_service(practitioner, name="Yoga")
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 1)])
    draft = booking.buy_credits(client_user, bundle).bookings[0].service_session
    for viewer in (client_user, practitioner):
        assert attendance(api_as(viewer), draft.id).status_code == 404


def test_before_completion_nobody_is_a_no_show(api_as, practitioner, client_user):
    session = make_workshop(practitioner, seats=5, price_cents=0, start=future(days=2))
    booking.book_workshop_seat(client_user, session)
    body = attendance(api_as(practitioner), session.id).get_json()
    assert body["status"] == "scheduled" and body["actual_start_time"] is None
    assert body["booked"] == [client_user.id]
    assert body["attended"] == [] and body["no_shows"] == []
    assert [b["outcome"] for b in body["bookings"]] == ["pending"]


def test_attendance_runs_a_fixed_number_of_queries(api_as, practitioner):
    api = api_as(practitioner)

    def measure(session: ServiceSession) -> int:
        session_id = session.id
        with counted_queries() as statements:
            assert attendance(api, session_id).status_code == 200
        return len(statements)

    one = make_user()
    small = book_past_session(practitioner, [one], past(4))
    join(small, one, 0, 60)
    finish(small)
    attendance(api, small.id)  # the token's first use writes last_used_at
    few = measure(small)
    crowd = [make_user() for _ in range(6)]
    big = book_past_session(practitioner, crowd, past(2))
    for index, user in enumerate(crowd):
        join(big, user, index, 30)
        join(big, user, 35, 50)
    join(big, None, 1, 2, kind="unbooked")
    finish(big)
    assert len(attendance(api, big.id).get_json()["participants"]) == 13
    assert measure(big) == few


# --- No-show report ------------------------------------------------------------------


def report_window(days: int = 30) -> dict:
    today = datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return {
        "start": (midnight - timedelta(days=days)).isoformat(),
        "end": (midnight + timedelta(days=1)).isoformat(),
    }


def report(api, **params):
    query = {**report_window(), **params}
    return api.get("/api/v1/reports/no-shows?" + urlencode(query))


def counts(booked, attended, no_shows, rate, late) -> dict:
    return {
        "booked": booked,
        "attended": attended,
        "no_shows": no_shows,
        "no_show_rate": rate,
        "late_cancels": late,
    }


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_staff_gets_the_hand_counted_report(api_as, staff_user, report_world):
    w = report_world
    response = report(api_as(staff_user))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    assert set(body) == {
        "start",
        "end",
        "practitioner_id",
        "service_id",
        "repeat_no_show_threshold",
        "total",
        "by_service",
        "by_client",
        "weekly",
    }
    assert instant(body["start"]) == datetime.fromisoformat(report_window()["start"])
    assert body["practitioner_id"] is None and body["service_id"] is None
    assert body["repeat_no_show_threshold"] == 2
    assert body["total"] == counts(8, 4, 4, 50.0, 1)
    assert body["by_service"] == [
        {
            "service_id": w.workshop_a.id,
            "name": "Workshop A",
            "practitioner_name": "Pia Practitioner",
            **counts(6, 3, 3, 50.0, 1),
        },
        {
            "service_id": w.workshop_b.id,
            "name": "Workshop B",
            "practitioner_name": "Quinn Practitioner",
            **counts(2, 1, 1, 50.0, 0),
        },
    ]
    # Most no-shows first, then by name.
    assert body["by_client"] == [
        {
            "user_id": w.ben.id,
            "name": "Ben",
            "email": w.ben.email,
            "repeat_no_show": True,
            **counts(2, 0, 2, 100.0, 0),
        },
        {
            "user_id": w.ana.id,
            "name": "Ana",
            "email": w.ana.email,
            "repeat_no_show": False,
            **counts(3, 2, 1, 33.3, 0),
        },
        {
            "user_id": w.cleo.id,
            "name": "Cleo",
            "email": w.cleo.email,
            "repeat_no_show": False,
            **counts(2, 1, 1, 50.0, 0),
        },
        {
            "user_id": w.dan.id,
            "name": "Dan",
            "email": w.dan.email,
            "repeat_no_show": False,
            **counts(1, 1, 0, 0.0, 1),
        },
    ]

    # Weekly: A1 (3 booked, 1 attended), A2 (3, 2, + Dan's late cancel), B1 (2, 1).
    expected: dict[date, Counter] = {}
    for name, booked, attended, late in (("A1", 3, 1, 0), ("A2", 3, 2, 1), ("B1", 2, 1, 0)):
        week = monday(w.sessions[name].start_time.date())
        expected.setdefault(week, Counter()).update(
            booked=booked, attended=attended, no_shows=booked - attended, late_cancels=late
        )
    weekly = body["weekly"]
    first = monday(datetime.now(UTC).date() - timedelta(days=30))
    assert [date.fromisoformat(r["week_start"]) for r in weekly] == [
        first + timedelta(weeks=i) for i in range(len(weekly))
    ]
    assert date.fromisoformat(weekly[-1]["week_start"]) == monday(datetime.now(UTC).date())
    for row in weekly:
        c = expected.get(date.fromisoformat(row["week_start"]), Counter())
        rate = round(100 * c["no_shows"] / c["booked"], 1) if c["booked"] else None
        assert row == {
            "week_start": row["week_start"],
            **counts(c["booked"], c["attended"], c["no_shows"], rate, c["late_cancels"]),
        }


def test_staff_filters_by_practitioner_and_service(api_as, staff_user, report_world):
    w = report_world
    api = api_as(staff_user)
    quinn = report(api, practitioner_id=w.quinn.id).get_json()
    assert quinn["practitioner_id"] == w.quinn.id
    assert [r["service_id"] for r in quinn["by_service"]] == [w.workshop_b.id]
    assert [(r["name"], r["booked"], r["no_shows"]) for r in quinn["by_client"]] == [
        ("Ana", 1, 1),
        ("Dan", 1, 0),
    ]
    only_a = report(api, service_id=w.workshop_a.id).get_json()
    assert only_a["service_id"] == w.workshop_a.id
    assert only_a["total"] == counts(6, 3, 3, 50.0, 1)
    # Forty days back takes in B2, Ben's third no-show.
    wider = report(api, **report_window(days=45)).get_json()
    assert wider["total"] == counts(9, 4, 5, 55.6, 1)


def test_practitioner_gets_only_their_own_report(api_as, report_world):
    w = report_world
    api = api_as(w.pia)
    body = report(api).get_json()
    assert body["practitioner_id"] == w.pia.id
    assert [r["service_id"] for r in body["by_service"]] == [w.workshop_a.id]
    rows = {r["name"]: r for r in body["by_client"]}
    assert rows["Ben"] == {
        "user_id": w.ben.id,
        "name": "Ben",
        "email": w.ben.email,
        "repeat_no_show": True,
        **counts(2, 0, 2, 100.0, 0),
    }
    # Dan only late-canceled with Pia: nothing booked, so no rate.
    assert rows["Dan"]["booked"] == 0 and rows["Dan"]["no_show_rate"] is None
    assert rows["Dan"]["late_cancels"] == 1
    assert report(api, practitioner_id=w.pia.id).get_json() == body
    # Quinn's service filtered through Pia's report holds nothing of Quinn's.
    assert report(api, service_id=w.workshop_b.id).get_json()["by_service"] == []

    theirs = report(api, practitioner_id=w.quinn.id)
    assert theirs.status_code == 403 and error_of(theirs)["code"] == "forbidden"


def test_clients_and_anonymous_callers_get_no_report(api_as, report_world):
    refused = report(api_as(report_world.ana))
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert report(api_as(None)).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": None}, "start"),
        ({"end": "2030-01-01T00:00:00"}, "end"),  # no offset
        ({"start": "2030-02-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}, "end"),
        ({"start": "2020-01-01T00:00:00Z", "end": "2023-01-02T00:00:00Z"}, "end"),
        ({"practitioner_id": "pia"}, "practitioner_id"),
        ({"service_id": "0"}, "service_id"),
        ({"sort": "name"}, "sort"),
    ],
)
def test_report_rejects_bad_parameters(api_as, staff_user, params, field):
    query = {**report_window(), **params}
    query = {k: v for k, v in query.items() if v is not None}
    response = api_as(staff_user).get("/api/v1/reports/no-shows?" + urlencode(query))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error" and field in error["fields"]


def test_report_runs_a_fixed_number_of_queries(api_as, staff_user, practitioner):
    api = api_as(staff_user)
    report(api)  # the token's first use writes last_used_at
    with counted_queries() as empty:
        assert report(api).status_code == 200
    crowd = [make_user() for _ in range(5)]
    for days in (3, 10, 17):
        session = book_past_session(practitioner, crowd, past(days))
        join(session, crowd[0], 0, 60)
        finish(session)
    with counted_queries() as full:
        assert report(api).get_json()["total"]["booked"] == 15
    assert len(full) == len(empty)


# --- Course completion ---------------------------------------------------------------


def completion(api, service_id: int):
    return api.get(f"/api/v1/courses/{service_id}/completion")


def test_course_completion_numbers(api_as, practitioner, staff_user):
    world = build_course_world(practitioner)
    for viewer in (practitioner, staff_user):
        response = completion(api_as(viewer), world.course.id)
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {
            "course": {
                "id": world.course.id,
                "name": "Mindful Course",
                "practitioner_id": practitioner.id,
            },
            "sessions": 4,
            "completed_sessions": 3,
            "enrollees": [
                {
                    "user_id": user.id,
                    "name": user.name,
                    "email": user.email,
                    "attended": attended,
                    "completed": 3,
                    "rate": rate,
                }
                for user, attended, rate in (
                    (world.ana, 3, 100.0),
                    (world.ben, 1, 33.3),
                    (world.cleo, 0, 0.0),
                )
            ],
        }


def free_course(practitioner: User, sessions: int = 2, **extra):
    course = make_service(
        practitioner, ServiceType.COURSE, price_cents=0, max_participants=10, **extra
    )
    for week in range(sessions):
        start = future(days=3, hour=8) + timedelta(weeks=week)
        booking.create_session(course, start_time=start, sequence_number=week + 1)
    return course


def test_a_course_not_yet_run_has_no_rate(api_as, practitioner):
    enrolled = make_user()
    course = free_course(practitioner)
    booking.enroll_in_course(enrolled, course)
    body = completion(api_as(practitioner), course.id).get_json()
    assert body["sessions"] == 2 and body["completed_sessions"] == 0
    assert [
        (r["user_id"], r["attended"], r["completed"], r["rate"]) for r in body["enrollees"]
    ] == [(enrolled.id, 0, 0, None)]
    # A paid course awaiting payment: the seat is not confirmed, so nobody is enrolled yet.
    paid = make_course(practitioner, sessions=1)
    booking.enroll_in_course(make_user(), paid)
    assert completion(api_as(practitioner), paid.id).get_json()["enrollees"] == []


def test_course_completion_is_refused_to_others(api_as, practitioner):
    world = build_course_world(practitioner)
    other_practitioner = make_user(Role.PRACTITIONER)
    open_all_week(other_practitioner)
    response = completion(api_as(world.ana), world.course.id)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    # As on the completion page, another practitioner's course does not exist for them.
    response = completion(api_as(other_practitioner), world.course.id)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert completion(api_as(None), world.course.id).status_code == 401

    hidden = free_course(practitioner, sessions=1, is_active=False)
    assert completion(api_as(other_practitioner), hidden.id).status_code == 404
    assert completion(api_as(practitioner), hidden.id).status_code == 200
    workshop = make_workshop(practitioner).service
    for viewer in (practitioner, other_practitioner):
        assert completion(api_as(viewer), workshop.id).status_code == 404
    missing = completion(api_as(practitioner), 999_999)
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_course_completion_runs_a_fixed_number_of_queries(api_as, practitioner):
    api = api_as(practitioner)
    course = free_course(practitioner)
    booking.enroll_in_course(make_user(), course)
    completion(api, course.id)  # the token's first use writes last_used_at
    with counted_queries() as one:
        assert len(completion(api, course.id).get_json()["enrollees"]) == 1
    for _ in range(6):
        booking.enroll_in_course(make_user(), course)
    with counted_queries() as seven:
        assert len(completion(api, course.id).get_json()["enrollees"]) == 7
    assert len(seven) == len(one)
