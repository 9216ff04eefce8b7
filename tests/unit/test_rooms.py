"""The attendance domain without HTTP: join window edges, event validation, attendance sums."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal import booking
from portal.booking.rooms import ParticipantSnapshot, RoomEvent
from portal.database import utcnow
from portal.extensions import db
from portal.models import ProcessedRoomEvent, Role, Room, RoomParticipant
from tests.fixtures.attendance import attended_seconds
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.livekit import confirmed_seat

START = future(days=2, hour=9)


@pytest.fixture
def workshop(practitioner):
    return make_workshop(practitioner, start=START)


def record(event: RoomEvent) -> str:
    """Take the event in, then apply it as the worker does."""
    outcome = booking.receive_room_event(event)
    booking.apply_room_events()
    return outcome


@pytest.mark.parametrize(
    ("offset", "allowed"),
    [
        (timedelta(minutes=-10, seconds=-1), False),
        (timedelta(minutes=-10), True),
        (timedelta(minutes=89, seconds=59), True),
        (timedelta(minutes=90), False),
    ],
    ids=["just before opening", "opening", "last second", "end"],
)
def test_the_join_window_runs_from_ten_minutes_before_start_to_the_end(
    workshop, client_user, offset, allowed
):
    confirmed_seat(client_user, workshop)
    now = START + offset

    if allowed:
        booking.check_can_join(workshop, client_user, now=now)
    else:
        with pytest.raises(booking.JoinRefused):
            booking.check_can_join(workshop, client_user, now=now)


def test_a_refusal_before_opening_says_when_it_opens(workshop, practitioner):
    with pytest.raises(booking.JoinRefused) as refusal:
        booking.check_can_join(workshop, practitioner, now=START - timedelta(hours=1))

    assert refusal.value.opens_at == START - timedelta(minutes=10)
    assert refusal.value.http_status == 403


def test_strangers_are_refused_even_inside_the_window(workshop):
    stranger = make_user(Role.PRACTITIONER)

    with pytest.raises(booking.JoinRefused, match="confirmed booking"):
        booking.check_can_join(workshop, stranger, now=START)


def event(kind: str, room: str, minutes: int, sid: str = "", identity: str = "", **extra):
    participant = ParticipantSnapshot(sid=sid, identity=identity) if sid or identity else None
    participant = extra.pop("participant", participant)
    return RoomEvent(
        id=extra.pop("id", f"EV_{kind}_{sid}_{minutes}"),
        kind=kind,
        room_name=room,
        occurred_at=START + timedelta(minutes=minutes),
        participant=participant,
        **extra,
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"id": ""},
        {"kind": ""},
        {"room_name": ""},
        {"participant": None},
        {"participant": ParticipantSnapshot(sid="", identity="u_1")},
        {"id": "EV_" + "x" * 62},
        {"participant": ParticipantSnapshot(sid="PA_1", identity="u" * 129)},
    ],
    ids=["no id", "no kind", "no room", "no participant", "no sid", "long id", "long identity"],
)
def test_unusable_events_are_refused_before_anything_is_written(workshop, bad):
    good = event("participant_left", workshop.livekit_room_name, 5, "PA_1", "u_1")
    fields = {**good.__dict__, **bad}

    with pytest.raises(booking.InvalidInput):
        record(RoomEvent(**fields))

    assert attended_seconds(workshop) == {}


def test_a_very_long_display_name_is_cut_to_fit(workshop, client_user):
    long_name = ParticipantSnapshot(
        sid="PA_1", identity=client_user.livekit_identity, name="n" * 500
    )
    joined = event("participant_joined", workshop.livekit_room_name, 0, participant=long_name)

    assert record(joined) == "accepted"

    (row,) = workshop_rows(workshop)
    assert row.display_name == "n" * 200


def workshop_rows(session):
    return db.session.scalars(
        select(RoomParticipant).join(Room).where(Room.service_session_id == session.id)
    ).all()


def test_attended_seconds_sums_each_users_sids_and_leaves_out_anonymous_ones(
    workshop, practitioner, client_user
):
    room = workshop.livekit_room_name
    other = make_user()
    me, host = client_user.livekit_identity, practitioner.livekit_identity
    for e in [
        event("participant_joined", room, 0, "PA_a", me),
        event("participant_left", room, 10, "PA_a", me),
        event("participant_joined", room, 12, "PA_b", me),
        event("participant_left", room, 40, "PA_b", me),
        event("participant_joined", room, 0, "PA_h", host),
        event("participant_left", room, 60, "PA_h", host),
        event("participant_joined", room, 5, "PA_o", other.livekit_identity),
        event("participant_joined", room, 5, "PA_x", "guest-without-account"),
        event("participant_left", room, 25, "PA_x", "guest-without-account"),
    ]:
        assert record(e) == "accepted"

    seconds = attended_seconds(workshop, now=START + timedelta(minutes=65))
    # A sid still inside counts up to now; guests without an account are not users.
    assert seconds == {
        client_user.id: (10 + 28) * 60,
        practitioner.id: 60 * 60,
        other.id: 60 * 60,
    }


def processed_ids() -> set[str]:
    return set(db.session.scalars(select(ProcessedRoomEvent.event_id)))


def age_event(event_id: str, days: float) -> None:
    db.session.execute(
        update(ProcessedRoomEvent)
        .where(ProcessedRoomEvent.event_id == event_id)
        .values(processed_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_pruning_forgets_ids_past_the_retention_and_keeps_recent_ones(app, workshop):
    room = workshop.livekit_room_name
    old, edge, recent = (
        event("participant_joined", room, minute, f"PA_{minute}", f"guest_{minute}")
        for minute in (1, 2, 3)
    )
    for applied in (old, edge, recent):
        assert record(applied) == "accepted"
    assert app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"] == 30
    age_event(old.id, 31)
    age_event(edge.id, 29.9)

    assert booking.prune_processed_room_events() == 1

    assert processed_ids() == {edge.id, recent.id}
    assert record(recent) == "duplicate"
    assert record(edge) == "duplicate"
    assert booking.prune_processed_room_events() == 0


def test_pruning_follows_the_configured_retention(app, workshop):
    applied = event("room_started", workshop.livekit_room_name, 0)
    record(applied)
    age_event(applied.id, 3)
    app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"] = 2

    assert booking.prune_processed_room_events() == 1
    assert processed_ids() == set()


@pytest.mark.parametrize("days", [0, -5])
def test_a_retention_under_a_day_is_refused_and_prunes_nothing(app, workshop, days):
    applied = event("room_started", workshop.livekit_room_name, 0)
    record(applied)
    app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"] = days

    with pytest.raises(booking.InvalidInput, match="at least 1"):
        booking.prune_processed_room_events(now=utcnow() + timedelta(days=365))

    assert processed_ids() == {applied.id}
