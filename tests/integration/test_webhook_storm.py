"""A webhook storm through the real HTTP stack: thousands of signed LiveKit events for
several sessions, each resent up to four times, shuffled across sessions and posted
by concurrent clients to the portal served by waitress, end in exactly the attendance
that the same events give when delivered once, in order.

Every session has a twin that receives its script in order through the test client;
the storm goes to the other twin. Times are compared relative to each session's start.
"""

from __future__ import annotations

import http.client
import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    AttendanceOutcome,
    Booking,
    ProcessedRoomEvent,
    Role,
    Room,
    RoomParticipant,
    ServiceSession,
    SessionStatus,
    User,
)
from tests.fixtures.attendance import attended_seconds
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.livekit import (
    CONTENT_TYPE,
    LIVEKIT_CONFIG,
    LiveKitWebhooks,
    confirmed_seat,
    room_storm,
    serialize,
    sign,
)

SESSIONS = 8
CLIENTS_PER_SESSION = 16
# Each storm event is delivered this many times (LiveKit retries, proxies resend).
COPIES = [3, 4, 5, 6]
POSTERS = 8


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


def script(session: ServiceSession, people: list, seed: int) -> list[str]:
    """One room's events, as serialized bodies: rejoins under new sids, aborted
    connections, leaves without the join time, people still inside at the end."""
    rng = random.Random(seed)
    base = session.start_time
    livekit = LiveKitWebhooks(client=None, room_started_at=base - timedelta(minutes=2))

    def at(minutes: float) -> datetime:
        return base + timedelta(minutes=minutes)

    events = room_storm(
        livekit, session, people, at, rng, no_show_rate=0.15, latest_first_join=15, stays_from=85
    )
    return [serialize(event) for event in events]


def relative(moment: datetime | None, base: datetime):
    return None if moment is None else moment - base


def attendance(session_id: int) -> dict:
    """Everything the events decide for one session, with times relative to its start."""
    session = db.session.get(ServiceSession, session_id)
    base = session.start_time
    room = db.session.scalar(select(Room).where(Room.service_session_id == session.id))
    participants = db.session.execute(
        select(RoomParticipant).where(RoomParticipant.room_id == room.id)
    ).scalars()
    outcomes = db.session.execute(
        select(Booking.user_id, AttendanceOutcome)
        .join(AttendanceOutcome, AttendanceOutcome.booking_id == Booking.id)
        .where(Booking.service_session_id == session.id)
    ).all()
    return {
        "status": session.status,
        "actual": (
            relative(session.actual_start_time, base),
            relative(session.actual_end_time, base),
        ),
        "room": (relative(room.started_at, base), relative(room.finished_at, base)),
        "participants": sorted(
            (
                p.participant_sid,
                p.identity,
                p.user_id,
                p.participant_kind,
                p.display_name,
                relative(p.joined_at, base),
                relative(p.left_at, base),
                p.duration_seconds,
            )
            for p in participants
        ),
        "outcomes": sorted(
            (
                user_id,
                o.outcome,
                o.computed_outcome,
                o.total_seconds,
                relative(o.first_joined_at, base),
            )
            for user_id, o in outcomes
        ),
        "seconds": attended_seconds(session),
    }


def deliver_all(url: str, bodies: list[str]) -> list[tuple[int, dict]]:
    """POST every body, signed, from POSTERS threads with a keep-alive connection each."""
    parts = urlsplit(url)
    chunks = [bodies[n::POSTERS] for n in range(POSTERS)]

    def post_chunk(chunk: list[str]) -> list[tuple[int, dict]]:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        answers = []
        try:
            for body in chunk:
                headers = {"Content-Type": CONTENT_TYPE, "Authorization": sign(body)}
                conn.request("POST", "/webhooks/livekit", body=body.encode(), headers=headers)
                response = conn.getresponse()
                answers.append((response.status, json.loads(response.read())))
        finally:
            conn.close()
        return answers

    with ThreadPoolExecutor(POSTERS) as pool:
        return [answer for chunk in pool.map(post_chunk, chunks) for answer in chunk]


def people_in_rooms(count: int) -> list[User]:
    """Clients who never sign in: no password hashing, which would dominate the set-up."""
    users = [
        User(
            email=f"storm{n}@example.com",
            name=f"Storm client {n}",
            role=Role.CLIENT,
            timezone="UTC",
            password_hash="!",
        )
        for n in range(count)
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


def test_a_concurrent_shuffled_storm_with_duplicates_ends_like_the_ordered_run(
    app, client, http_server, practitioner
):
    clients = people_in_rooms(CLIENTS_PER_SESSION + 3)
    seated, walk_ins = clients[:CLIENTS_PER_SESSION], clients[CLIENTS_PER_SESSION:]
    people: list[User | str] = [practitioner, *seated, *walk_ins, "egress-bot"]
    twins = []
    for n in range(SESSIONS):
        pair = []
        for offset in (0, 1):
            start = future(days=2, hour=0) + timedelta(hours=2 * (2 * n + offset))
            pair.append(make_workshop(practitioner, seats=CLIENTS_PER_SESSION, start=start))
        for who in seated:
            for session in pair:
                confirmed_seat(who, session)
        twins.append((pair, n))

    in_order = LiveKitWebhooks(client)
    rng = random.Random(2026)
    storm: list[str] = []
    unique_storm = 0
    for (ordered, stormed), seed in twins:
        for body in script(ordered, people, seed):
            response = in_order.post(body)
            assert response.status_code == 200 and response.json["status"] == "accepted"
        bodies = script(stormed, people, seed)
        unique_storm += len(bodies)
        for body in bodies:
            storm.extend([body] * rng.choice(COPIES))
    rng.shuffle(storm)
    assert len(storm) >= 3000

    answers = deliver_all(http_server.url, storm)

    assert sorted({status for status, _ in answers}) == [200]
    outcomes = [answer["status"] for _, answer in answers]
    assert outcomes.count("accepted") == unique_storm
    assert outcomes.count("duplicate") == len(storm) - unique_storm
    db.session.rollback()  # end this test's snapshot: the server wrote after it began
    booking.apply_room_events()  # what the worker does with them
    assert db.session.scalar(select(func.count()).select_from(ProcessedRoomEvent)) == (
        2 * unique_storm
    )
    for (ordered, stormed), _ in twins:
        expected = attendance(ordered.id)
        assert expected["status"] == SessionStatus.COMPLETED
        assert len(expected["participants"]) > CLIENTS_PER_SESSION
        assert len(expected["outcomes"]) == CLIENTS_PER_SESSION
        assert {o[1] for o in expected["outcomes"]} >= {"attended", "no_show"}
        assert attendance(stormed.id) == expected
