"""Hypothesis over correctly signed LiveKit webhook bodies with hostile contents: any
event kind, NUL and huge strings in ids, names and identities, timestamps from
negative to far past year 9999.

Property: never a 5xx (LiveKit retries a 5xx for ever, so only a database outage may
answer one), and an event the portal refuses or does not apply changes no row.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.models import Role, RoomEventKind
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.fuzz import FUZZ_SETTINGS, HOSTILE, changed_tables, fingerprint
from tests.fixtures.livekit import (
    LIVEKIT_CONFIG,
    confirmed_seat,
    participant_info,
    serialize,
    webhook_event,
)

START = future(days=3, hour=10)


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80))
seconds = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, -1, 253402300800, 2**40, int(START.timestamp())]),
)
kinds = st.sampled_from(
    [
        RoomEventKind.ROOM_STARTED,
        RoomEventKind.ROOM_FINISHED,
        RoomEventKind.PARTICIPANT_JOINED,
        RoomEventKind.PARTICIPANT_LEFT,
        RoomEventKind.PARTICIPANT_CONNECTION_ABORTED,
        "track_published",
        "",
    ]
)


def events(room_name: str, identity: str):
    @st.composite
    def build(draw):
        event = webhook_event(
            draw(kinds),
            draw(st.one_of(st.just(room_name), st.just(room_name), texts)),
            at=START,
            room_sid=draw(st.one_of(st.just("RM_1"), texts)),
            event_id=draw(st.one_of(st.none(), texts)) or None,
        )
        event.created_at = draw(seconds)
        event.room.creation_time = draw(seconds)
        if draw(st.booleans()):
            event.room.creation_time_ms = draw(seconds)
        if draw(st.booleans()):
            info = participant_info(
                draw(st.one_of(st.just("PA_1"), texts)),
                draw(st.one_of(st.just(identity), texts)),
                name=draw(texts) or "x",
            )
            info.joined_at = draw(seconds)
            if draw(st.booleans()):
                info.joined_at_ms = draw(seconds)
            event.participant.CopyFrom(info)
        return serialize(event)

    return build()


def test_hostile_signed_events_never_fail_and_unapplied_ones_change_nothing(
    livekit, practitioner, client_user
):
    session = make_workshop(practitioner, start=START)
    confirmed_seat(client_user, session)
    livekit.post(livekit.room_started(session, at=START - timedelta(minutes=1)))

    @given(body=events(session.livekit_room_name, client_user.livekit_identity))
    @FUZZ_SETTINGS
    def check(body):
        before = fingerprint()
        response = livekit.post(body)
        assert response.status_code < 500, (response.status_code, response.get_json(), body)
        if response.status_code >= 400 or response.json["status"] != "accepted":
            assert changed_tables(before, fingerprint()) == []

    check()


@pytest.mark.parametrize(
    "change",
    [
        {"created_at": 2**62},
        {"created_at": -(2**62)},
        {"room_creation_time_ms": 2**62},
        {"joined_at": 253402300800},
        {"name": "Walk\x00in"},
        {"identity": "id\x00"},
        {"room_sid": "RM_" + "s" * 100},
    ],
)
def test_events_no_database_can_store_are_bad_requests(livekit, practitioner, change):
    """Before the fix: timestamps beyond year 9999 were a 500, and on PostgreSQL a long
    room sid or a NUL was a 503, which LiveKit retries for ever."""
    session = make_workshop(practitioner, start=START)
    walk_in = make_user(Role.CLIENT)
    event = livekit.joined(session, "PA_x", walk_in, at=START)
    event.created_at = change.get("created_at", event.created_at)
    event.room.creation_time_ms = change.get("room_creation_time_ms", event.room.creation_time_ms)
    event.room.sid = change.get("room_sid", event.room.sid)
    event.participant.joined_at = change.get("joined_at", event.participant.joined_at)
    if "joined_at" in change:
        event.participant.joined_at_ms = 0
    event.participant.name = change.get("name", event.participant.name)
    event.participant.identity = change.get("identity", event.participant.identity)
    before = fingerprint()

    response = livekit.post(event)

    assert response.status_code == 400, response.get_json()
    assert changed_tables(before, fingerprint()) == []
