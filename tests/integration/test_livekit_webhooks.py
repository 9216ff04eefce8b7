"""POST /webhooks/livekit with webhooks signed the way the LiveKit server signs them."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from portal import booking
from portal.extensions import db
from portal.models import (
    AttendanceOutcome,
    ProcessedRoomEvent,
    Role,
    Room,
    RoomParticipant,
    ServiceSession,
    SessionStatus,
)
from tests.fixtures.attendance import attended_seconds
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.livekit import LIVEKIT_CONFIG, confirmed_seat, room_storm, serialize, sign

START = future(days=3, hour=10)
OPENED = START - timedelta(minutes=2)
# The workshop's end (90 minutes): a room finishing there completes it.
END = START + timedelta(minutes=90)


def at(minutes: float):
    return START + timedelta(minutes=minutes)


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


@pytest.fixture
def livekit(livekit):
    livekit.room_started_at = OPENED
    return livekit


@pytest.fixture
def workshop(practitioner):
    return make_workshop(practitioner, seats=25, start=START)


@pytest.fixture
def booked(workshop, client_user):
    confirmed_seat(client_user, workshop)
    return client_user


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def rows(session: ServiceSession) -> dict[str, RoomParticipant]:
    db.session.expire_all()
    return {
        row.participant_sid: row
        for row in db.session.scalars(
            select(RoomParticipant)
            .join(Room, RoomParticipant.room_id == Room.id)
            .where(Room.service_session_id == session.id)
        )
    }


def records(session: ServiceSession) -> dict:
    """Everything the events decide, free of ids and of the session's own start time,
    which differ between two sessions."""
    db.session.expire_all()
    session = db.session.get(ServiceSession, session.id)
    room = db.session.scalar(select(Room).where(Room.service_session_id == session.id))

    def since(moment):
        return None if moment is None else moment - session.start_time

    return {
        "status": session.status,
        "actual": (since(session.actual_start_time), since(session.actual_end_time)),
        "room": room and (room.livekit_sid, since(room.started_at), since(room.finished_at)),
        "participants": sorted(
            (
                r.participant_sid,
                r.identity,
                r.user_id,
                r.participant_kind,
                r.display_name,
                since(r.joined_at),
                since(r.left_at),
                r.duration_seconds,
            )
            for r in rows(session).values()
        ),
    }


def test_room_started_puts_the_session_in_progress(livekit, workshop):
    response = livekit.post(livekit.room_started(workshop, room_sid="RM_abc", at=OPENED))

    assert response.status_code == 200
    assert response.json["status"] == "accepted"
    db.session.expire_all()
    assert workshop.status == SessionStatus.IN_PROGRESS
    assert workshop.actual_start_time == OPENED
    room = db.session.scalar(select(Room).where(Room.service_session_id == workshop.id))
    assert (room.name, room.livekit_sid, room.started_at) == (
        workshop.livekit_room_name,
        "RM_abc",
        OPENED,
    )


def test_participants_are_recorded_per_sid_and_flagged(livekit, workshop, practitioner, booked):
    guest = make_user(name="Walk-in")
    livekit.post(livekit.room_started(workshop))
    for sid, who in (("PA_host", practitioner), ("PA_client", booked), ("PA_guest", guest)):
        assert livekit.post(livekit.joined(workshop, sid, who, at=at(0))).status_code == 200
    livekit.post(livekit.joined(workshop, "PA_anon", "recorder-bot", at=at(1)))

    found = rows(workshop)
    assert {sid: (r.participant_kind, r.user_id) for sid, r in found.items()} == {
        "PA_host": ("host", practitioner.id),
        "PA_client": ("booked", booked.id),
        "PA_guest": ("unbooked", guest.id),
        "PA_anon": ("unbooked", None),
    }
    assert found["PA_client"].identity == booked.livekit_identity
    assert found["PA_client"].display_name == booked.name
    assert found["PA_client"].joined_at == at(0)
    assert found["PA_client"].left_at is None and found["PA_client"].duration_seconds is None


def test_participant_left_closes_that_sid(livekit, workshop, booked):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(0)))
    response = livekit.post(livekit.left(workshop, "PA_1", booked, at=at(45), joined_at=at(0)))

    assert response.status_code == 200
    row = rows(workshop)["PA_1"]
    assert (row.joined_at, row.left_at, row.duration_seconds) == (at(0), at(45), 45 * 60)
    assert attended_seconds(workshop) == {booked.id: 45 * 60}


def test_room_finished_completes_the_session_and_closes_who_is_still_inside(
    livekit, workshop, practitioner, booked
):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.joined(workshop, "PA_host", practitioner, at=at(0)))
    livekit.post(livekit.joined(workshop, "PA_client", booked, at=at(5)))
    livekit.post(livekit.left(workshop, "PA_client", booked, at=at(20), joined_at=at(5)))

    response = livekit.post(livekit.room_finished(workshop, at=END))

    assert response.status_code == 200
    db.session.expire_all()
    assert workshop.status == SessionStatus.COMPLETED
    assert (workshop.actual_start_time, workshop.actual_end_time) == (OPENED, END)
    found = rows(workshop)
    assert (found["PA_host"].left_at, found["PA_host"].duration_seconds) == (END, 5400)
    assert (found["PA_client"].left_at, found["PA_client"].duration_seconds) == (at(20), 900)
    assert attended_seconds(workshop) == {practitioner.id: 5400, booked.id: 900}


def test_room_finished_without_room_started_still_runs_the_session(livekit, workshop):
    livekit.post(livekit.room_finished(workshop, at=END))

    db.session.expire_all()
    assert workshop.status == SessionStatus.COMPLETED
    assert (workshop.actual_start_time, workshop.actual_end_time) == (OPENED, END)


def test_a_join_starts_the_session_when_room_started_was_dropped(livekit, workshop, booked):
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(0)))

    db.session.expire_all()
    assert workshop.status == SessionStatus.IN_PROGRESS
    assert workshop.actual_start_time == OPENED


def test_connection_aborted_without_a_join_is_recorded_with_no_time_inside(
    livekit, workshop, booked
):
    response = livekit.post(livekit.aborted(workshop, "PA_1", booked, at=at(3)))

    assert response.status_code == 200
    row = rows(workshop)["PA_1"]
    # Nothing ends that did not begin (#15 defect 7): a stay of no length at its end.
    assert (row.joined_at, row.left_at, row.duration_seconds) == (at(3), at(3), 0)
    assert row.participant_kind == "booked"
    assert attended_seconds(workshop) == {booked.id: 0}


def test_connection_aborted_after_a_join_closes_that_sid(livekit, workshop, booked):
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(0)))
    livekit.post(livekit.aborted(workshop, "PA_1", booked, at=at(2), joined_at=at(0)))

    row = rows(workshop)["PA_1"]
    assert (row.left_at, row.duration_seconds) == (at(2), 120)


def test_left_before_joined_ends_like_joined_then_left(livekit, workshop, booked):
    # The leave carries no join time: a stay of no length until the join moves it back.
    livekit.post(livekit.left(workshop, "PA_1", booked, at=at(30)))
    row = rows(workshop)["PA_1"]
    assert (row.joined_at, row.left_at, row.duration_seconds) == (at(30), at(30), 0)

    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(10)))

    row = rows(workshop)["PA_1"]
    assert (row.joined_at, row.left_at, row.duration_seconds) == (at(10), at(30), 1200)
    assert len(rows(workshop)) == 1


def test_rejoin_with_a_new_sid_whose_old_left_arrives_late(livekit, workshop, booked):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.joined(workshop, "PA_old", booked, at=at(0)))
    # Full reconnect: the new sid joins before LiveKit reports the old one gone.
    livekit.post(livekit.joined(workshop, "PA_new", booked, at=at(10)))
    livekit.post(livekit.left(workshop, "PA_old", booked, at=at(9), joined_at=at(0)))
    livekit.post(livekit.left(workshop, "PA_new", booked, at=at(50), joined_at=at(10)))

    found = rows(workshop)
    assert (found["PA_old"].left_at, found["PA_old"].duration_seconds) == (at(9), 540)
    assert found["PA_new"].left_at == at(50) and found["PA_new"].duration_seconds == 2400
    assert attended_seconds(workshop) == {booked.id: 540 + 2400}


def test_join_delivered_after_room_finished_is_closed_at_the_finish(livekit, workshop, booked):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.room_finished(workshop, at=END))
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(15)))

    row = rows(workshop)["PA_1"]
    assert (row.joined_at, row.left_at, row.duration_seconds) == (at(15), END, 4500)
    db.session.expire_all()
    assert workshop.status == SessionStatus.COMPLETED


def test_leave_delivered_after_room_finished_keeps_the_real_leaving_time(livekit, workshop, booked):
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(0)))
    livekit.post(livekit.room_finished(workshop, at=at(60)))
    livekit.post(livekit.left(workshop, "PA_1", booked, at=at(40), joined_at=at(0)))

    row = rows(workshop)["PA_1"]
    assert (row.left_at, row.duration_seconds) == (at(40), 2400)


def test_a_redelivered_event_id_changes_nothing(livekit, workshop, booked):
    joined = livekit.joined(workshop, "PA_1", booked, at=at(0))
    left = livekit.left(workshop, "PA_1", booked, at=at(30), joined_at=at(0))
    livekit.post(joined)
    livekit.post(left)
    before = records(workshop)

    again = [livekit.post(joined), livekit.post(left)]

    assert [r.status_code for r in again] == [200, 200]
    assert [r.json["status"] for r in again] == ["duplicate", "duplicate"]
    assert records(workshop) == before
    assert count(ProcessedRoomEvent) == 2


def test_a_retry_with_the_same_id_is_not_applied_again_even_if_it_differs(
    livekit, workshop, booked
):
    livekit.post(livekit.left(workshop, "PA_1", booked, at=at(30), event_id="EV_retry"))

    # Not what LiveKit does, but proves the id alone decides: a second body is ignored.
    response = livekit.post(livekit.left(workshop, "PA_1", booked, at=at(5), event_id="EV_retry"))

    assert response.json["status"] == "duplicate"
    assert rows(workshop)["PA_1"].left_at == at(30)


def test_events_of_unknown_rooms_are_acknowledged_and_not_stored(livekit, workshop):
    event = livekit.room_started(workshop)
    event.room.name = "ses_not_ours"

    response = livekit.post(event)

    assert response.status_code == 200
    assert response.json["status"] == "unknown_room"
    assert count(Room) == 0 and count(ProcessedRoomEvent) == 0


def test_event_kinds_attendance_does_not_use_are_acknowledged(livekit, workshop):
    response = livekit.post(livekit.event("track_published", workshop))

    assert response.status_code == 200
    assert response.json["status"] == "ignored"
    assert count(ProcessedRoomEvent) == 0


def nothing_written(session: ServiceSession) -> bool:
    db.session.expire_all()
    return (
        count(Room) == 0
        and count(RoomParticipant) == 0
        and count(ProcessedRoomEvent) == 0
        and session.status == SessionStatus.SCHEDULED
    )


SIGNATURE_FAULTS = {
    "wrong secret": lambda body: sign(body, secret="another-secret-long-enough-for-hs256-xyz"),
    "wrong key": lambda body: sign(body, key="APIsomeoneelse"),
    "expired": lambda body: sign(body, ttl=timedelta(minutes=-10)),
    "no sha256": lambda body: sign(body, with_sha256=False),
    "body hash mismatch": lambda body: sign(body + " "),
    "missing header": lambda body: "",
    "not a jwt": lambda body: "garbage",
    "bearer prefix": lambda body: "Bearer " + sign(body),
}


@pytest.mark.parametrize("fault", SIGNATURE_FAULTS)
def test_bad_signatures_are_refused_and_change_nothing(livekit, workshop, fault):
    body = serialize(livekit.room_started(workshop))

    response = livekit.post(body, authorization=SIGNATURE_FAULTS[fault](body))

    assert response.status_code == 401
    assert "error" in response.json
    assert nothing_written(workshop)


def test_a_body_altered_after_signing_is_refused(livekit, workshop):
    body = serialize(livekit.room_started(workshop))
    tampered = body.replace(workshop.livekit_room_name, "ses_" + "0" * 20)

    response = livekit.post(tampered, authorization=sign(body))

    assert response.status_code == 401
    assert nothing_written(workshop)


def test_without_livekit_credentials_webhooks_are_refused(app, livekit, workshop):
    app.config["LIVEKIT_API_SECRET"] = ""

    response = livekit.post(livekit.room_started(workshop))

    assert response.status_code == 401
    assert nothing_written(workshop)


@pytest.mark.parametrize(
    "body",
    ["this is not json", '{"event": "room_started", "createdAt": "soon"}', "[]"],
    ids=["not json", "bad field type", "not an object"],
)
def test_correctly_signed_garbage_is_a_bad_request(livekit, workshop, body):
    response = livekit.post(body)

    assert response.status_code == 400
    assert nothing_written(workshop)


def test_events_missing_what_attendance_needs_are_bad_requests(livekit, workshop, booked):
    no_id = livekit.room_started(workshop)
    no_id.id = ""
    no_participant = livekit.event("participant_joined", workshop)
    no_sid = livekit.joined(workshop, "", booked, at=at(0))

    responses = [livekit.post(e) for e in (no_id, no_participant, no_sid)]

    assert [r.status_code for r in responses] == [400, 400, 400]
    assert nothing_written(workshop)


def test_a_database_failure_asks_livekit_to_retry(livekit, workshop, monkeypatch):
    def locked(*_args):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(booking.rooms, "insert_ignoring_duplicates", locked)
    event = livekit.room_started(workshop)

    response = livekit.post(event)

    assert response.status_code == 503
    assert nothing_written(workshop)
    monkeypatch.undo()
    assert livekit.post(event).json["status"] == "accepted"


class TestWithCsrfEnabled:
    @pytest.fixture
    def app_config(self):
        return {**LIVEKIT_CONFIG, "WTF_CSRF_ENABLED": True}

    def test_the_webhook_needs_no_csrf_token(self, livekit, workshop):
        response = livekit.post(livekit.room_started(workshop))

        assert response.status_code == 200
        assert response.json["status"] == "accepted"


def storm_script(livekit, session, people) -> list:
    """room_storm's events of one session, its times relative to the session's start."""
    livekit.room_started_at = session.start_time - timedelta(minutes=2)
    return room_storm(
        livekit,
        session,
        people,
        lambda minutes: session.start_time + timedelta(minutes=minutes),
        random.Random(5),
    )


def test_a_shuffled_storm_with_duplicates_ends_like_the_ordered_run(
    livekit, practitioner, client_user
):
    in_order = make_workshop(practitioner, seats=30, start=START)
    shuffled = make_workshop(practitioner, seats=30, start=START + timedelta(hours=3))
    clients = [client_user] + [make_user(Role.CLIENT) for _ in range(24)]
    for who in clients:
        confirmed_seat(who, in_order)
        confirmed_seat(who, shuffled)
    people = [practitioner, *clients, *(make_user(Role.CLIENT) for _ in range(5)), "egress-bot"]

    ordered_events = storm_script(livekit, in_order, people)
    rng = random.Random(55)
    storm = []
    for event in storm_script(livekit, shuffled, people):
        storm.extend([event] * rng.choice([1, 2, 2, 3]))
    rng.shuffle(storm)
    assert len(storm) >= 200

    for event in ordered_events:
        assert livekit.post(event).status_code == 200
    statuses = [livekit.post(event).json["status"] for event in storm]

    assert statuses.count("accepted") == len(ordered_events)
    assert statuses.count("duplicate") == len(storm) - len(ordered_events)
    expected = records(in_order)
    assert expected["status"] == SessionStatus.COMPLETED
    assert len(expected["participants"]) > 40
    assert records(shuffled) == expected
    assert attended_seconds(shuffled) == attended_seconds(in_order)


def test_a_stay_reported_after_the_room_closed_updates_the_outcome(livekit, workshop, booked):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.room_finished(workshop, at=END))
    outcome = select(AttendanceOutcome.outcome)
    assert db.session.scalar(outcome) == "no_show"

    livekit.post(livekit.joined(workshop, "PA_late", booked, at=at(5)))
    livekit.post(livekit.left(workshop, "PA_late", booked, at=at(50), joined_at=at(5)))

    db.session.expire_all()
    assert db.session.scalar(outcome) == "attended"


def test_the_webhook_runs_no_request_hooks_and_still_stores_and_refuses(
    app, client, livekit, workshop
):
    """Verify, store, answer: the per-request hooks (rate limits, sign-in bookkeeping,
    page headers, request logs) are work for nothing on LiveKit's bursts."""
    hooks = []
    app.before_request_funcs.setdefault(None, []).append(lambda: hooks.append("before"))
    app.after_request_funcs.setdefault(None, []).append(
        lambda response: hooks.append("after") or response
    )

    stored = livekit.post(livekit.room_started(workshop), apply=False)
    refused = livekit.post(livekit.room_started(workshop), authorization="Bearer forged")

    assert stored.status_code == 200 and stored.json["status"] == "accepted"
    assert refused.status_code == 401 and refused.json == {"error": "invalid webhook signature"}
    assert count(ProcessedRoomEvent) == 1
    assert hooks == []
    # Every other request still runs them.
    client.get("/")
    assert hooks == ["before", "after"]
