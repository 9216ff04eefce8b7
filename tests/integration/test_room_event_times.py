"""Room events with impossible times (#15 defect 7): stored stays stay in order, and events
far outside the session's time neither move the session nor count as attendance."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Room, RoomParticipant, ServiceSession, SessionStatus
from tests.fixtures.attendance import attended_seconds
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.livekit import LIVEKIT_CONFIG, LiveKitWebhooks, confirmed_seat

START = future(days=3, hour=10)


def at(minutes: float):
    return START + timedelta(minutes=minutes)


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


@pytest.fixture
def livekit(livekit):
    livekit.room_started_at = at(-2)
    return livekit


@pytest.fixture
def workshop(practitioner):
    return make_workshop(practitioner, seats=5, start=START)


def stays(session: ServiceSession) -> dict[str, tuple]:
    db.session.expire_all()
    return {
        r.participant_sid: (r.joined_at, r.left_at, r.duration_seconds)
        for r in db.session.scalars(
            select(RoomParticipant)
            .join(Room, RoomParticipant.room_id == Room.id)
            .where(Room.service_session_id == session.id)
        )
    }


def minutes_from(start, moment) -> int:
    return int((moment - start).total_seconds() // 60)


def status(session: ServiceSession) -> SessionStatus:
    db.session.expire_all()
    return db.session.get(ServiceSession, session.id).status


def test_a_join_delivered_after_the_room_finished_is_a_stay_of_no_length(livekit, workshop, booked):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.room_finished(workshop, at=at(60)))
    livekit.post(livekit.joined(workshop, "PA_late", booked, at=at(75)))

    assert stays(workshop)["PA_late"] == (at(60), at(60), 0)
    assert attended_seconds(workshop).get(booked.id, 0) == 0


def test_a_leave_without_a_join_is_a_stay_of_no_length_until_the_join_comes(
    livekit, workshop, booked
):
    livekit.post(livekit.room_started(workshop))
    livekit.post(livekit.aborted(workshop, "PA_1", booked, at=at(30)))
    assert stays(workshop)["PA_1"] == (at(30), at(30), 0)

    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(5)))
    assert stays(workshop)["PA_1"] == (at(5), at(30), 25 * 60)
    assert attended_seconds(workshop).get(booked.id, 0) == 25 * 60


# Minutes from the session's start. PA_1 joins after the room finished, but its leave
# knows the real join time; PA_2's connection drops before its join is delivered.
EVENTS = {
    "finish": lambda lk, s, t, u: lk.room_finished(s, at=t(60)),
    "late_join": lambda lk, s, t, u: lk.joined(s, "PA_1", u, at=t(65)),
    "leave": lambda lk, s, t, u: lk.left(s, "PA_1", u, at=t(70), joined_at=t(2)),
    "abort": lambda lk, s, t, u: lk.aborted(s, "PA_2", u, at=t(40)),
    "join": lambda lk, s, t, u: lk.joined(s, "PA_2", u, at=t(10)),
}


def test_every_order_of_impossible_times_stores_the_same_ordered_stays(
    client, practitioner, client_user
):
    results = set()
    # Every seventh of the 120 orders: each event still comes first, last and between.
    for number, order in enumerate(list(itertools.permutations(EVENTS))[::7]):
        start = START + timedelta(days=number)

        def t(minutes, start=start):
            return start + timedelta(minutes=minutes)

        session = make_workshop(practitioner, seats=5, start=start)
        confirmed_seat(client_user, session)
        livekit = LiveKitWebhooks(client, room_started_at=t(-2))
        for name in order:
            assert livekit.post(EVENTS[name](livekit, session, t, client_user)).status_code == 200
        found = stays(session)
        for joined, left, seconds in found.values():
            assert joined <= left and seconds == (left - joined).total_seconds()
        results.add(
            tuple(
                (sid, (minutes_from(start, joined), minutes_from(start, left), seconds))
                for sid, (joined, left, seconds) in sorted(found.items())
            )
        )
    assert results == {
        (
            ("PA_1", (2, 60, 58 * 60)),
            ("PA_2", (10, 40, 30 * 60)),
        )
    }


def test_the_database_refuses_a_stay_that_ends_before_it_begins(livekit, workshop, booked):
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(0)))
    livekit.post(livekit.left(workshop, "PA_1", booked, at=at(30), joined_at=at(0)))
    for values in ({"left_at": at(-5)}, {"joined_at": None}):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(update(RoomParticipant).values(**values))
    db.session.rollback()


@pytest.mark.parametrize("days", [-2, 2])
def test_a_room_event_days_away_from_the_session_changes_nothing(livekit, workshop, booked, days):
    far = timedelta(days=days)
    for event in (
        livekit.room_started(workshop, at=at(-2) + far),
        livekit.joined(workshop, "PA_far", booked, at=at(0) + far),
        livekit.left(workshop, "PA_far", booked, at=at(50) + far, joined_at=at(0) + far),
        livekit.room_finished(workshop, at=at(60) + far),
    ):
        response = livekit.post(event)
        assert response.status_code == 200 and response.get_json()["status"] == "ignored"

    assert status(workshop) == SessionStatus.SCHEDULED
    assert stays(workshop) == {}
    assert attended_seconds(workshop).get(booked.id, 0) == 0
    assert db.session.scalar(select(func.count()).select_from(Room)) == 0


def test_events_within_the_margin_still_count(livekit, workshop, booked):
    livekit.post(livekit.joined(workshop, "PA_1", booked, at=at(-60)))
    livekit.post(livekit.room_finished(workshop, at=at(11 * 60)))
    assert status(workshop) == SessionStatus.COMPLETED
    assert attended_seconds(workshop).get(booked.id, 0) == (11 * 60 + 60) * 60
