"""The video room of a session: who may join, and what LiveKit's events mean.

Attendance is one RoomParticipant per LiveKit participant sid. LiveKit delivers
webhooks at least once and not always in order, so every rule here is written to
give the same records whatever order the events arrive in:
- the webhook only stores an event (receive_room_event) and a worker, or the next
  reader of attendance, applies each room's pending events in order
  (apply_room_events); an event id is stored once and applied once, marked applied
  in the same transaction as its effects;
- joined_at comes from the participant's own join time, whichever event carries it;
- left_at is the earliest closing time known for the sid: its own left or
  connection-aborted event, or the room's finish, whichever is earlier;
- joined_at is never after left_at: a stay known only by its end (a leave whose join
  has not come), or reported as begun after the room had closed, is a stay of no length
  at its end. Both are minimums over the events, so the order does not matter, and the
  database checks every row keeps joined_at <= left_at;
- an event far outside the session's time (PORTAL_ROOM_EVENT_MARGIN_HOURS) is ignored.

A session's room has lifetimes: LiveKit closes a room once it is empty and opens it again,
under a new sid, when someone comes back (a camera check before the start, a reopening
after everyone dropped). Each lifetime is a Room row, keyed by its sid; its finish closes
only its own participants, and attendance adds up the stays of every lifetime. Only a room
finishing near the session's end (PORTAL_ROOM_FINISH_GRACE_MINUTES) completes the session;
one closing sooner leaves it running, and the attendance job completes it past its end.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast, overload

from flask import current_app
from flask_babel import gettext
from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select
from sqlalchemy.engine import CursorResult, Row
from sqlalchemy.sql import Select

from ..core.errors import InvalidInput, JoinRefused
from ..core.sql import insert_ignoring_duplicates
from ..core.transactions import inside_unit_of_work, unit_of_work
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    ParticipantKind,
    ProcessedRoomEvent,
    Room,
    RoomEventKind,
    RoomEventReceipt,
    RoomParticipant,
    RoomState,
    ServiceSession,
    SessionStatus,
    User,
)
from .attendance import record_session_outcomes
from .lifecycle import complete_session, start_session
from .locks import lock_sessions

log = logging.getLogger(__name__)

# Set on the database session by a unit of work that stored an event, so that its
# commit wakes the worker (portal/worker.py) to apply it.
ROOM_EVENTS_RECEIVED = "portal_room_events_received"
# Events applied per transaction: one commit for many, while a room's lock is held briefly.
APPLY_BATCH = 200

_JOINABLE = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
# The values LiveKit sends that attendance uses, for a membership test of a raw kind.
_KINDS = frozenset(RoomEventKind)

# Column sizes of processed_room_events.event_id, room_participants.participant_sid,
# .identity and .display_name.
_MAX_ID = 64
_MAX_IDENTITY = 128
_MAX_NAME = 200


@dataclass(frozen=True)
class ParticipantSnapshot:
    """A participant as one event reports it."""

    sid: str
    identity: str
    name: str = ""
    # The participant's own join time; None when the event does not carry it.
    joined_at: datetime | None = None


@dataclass(frozen=True)
class RoomEvent:
    """One LiveKit webhook event, free of protobuf."""

    id: str
    # As LiveKit names it: a RoomEventKind, or a kind attendance does not use.
    kind: str
    room_name: str
    occurred_at: datetime
    room_sid: str = ""
    room_created_at: datetime | None = None
    participant: ParticipantSnapshot | None = None


# -- joining -------------------------------------------------------------------------------


def join_window(session: ServiceSession) -> tuple[datetime, datetime] | None:
    """When the session's room lets people in: (opens, closes); None if unscheduled."""
    if session.start_time is None or session.end_time is None:
        return None
    before = timedelta(minutes=current_app.config["PORTAL_JOIN_MINUTES_BEFORE"])
    return session.start_time - before, session.end_time


def join_window_state(session: ServiceSession, *, now: datetime | None = None) -> RoomState:
    """Whether the room is open, not open yet or closed, whoever is asking."""
    window = join_window(session)
    if window is None or session.status not in _JOINABLE:
        return RoomState.CLOSED
    opens, closes = window
    now = now or utcnow()
    if now < opens:
        return RoomState.NOT_YET
    return RoomState.OPEN if now < closes else RoomState.CLOSED


def may_enter(session: ServiceSession, user: User) -> bool:
    """The session's practitioner, or someone holding a confirmed booking in it."""
    if user.id == session.practitioner_id:
        return True
    return (
        db.session.scalar(
            select(Booking.id)
            .where(
                Booking.service_session_id == session.id,
                Booking.user_id == user.id,
                Booking.status == BookingStatus.CONFIRMED,
            )
            .limit(1)
        )
        is not None
    )


def check_can_join(session: ServiceSession, user: User, *, now: datetime | None = None) -> None:
    """Raise JoinRefused unless `user` may enter the session's room right now."""
    if not may_enter(session, user):
        raise JoinRefused(
            gettext(
                "Only the session's practitioner and clients with a confirmed booking "
                "can join this video room."
            )
        )
    if session.status == SessionStatus.CANCELED:
        raise JoinRefused(gettext("This session was canceled."))
    if session.status == SessionStatus.COMPLETED:
        raise JoinRefused(gettext("This session has ended."))
    state = join_window_state(session, now=now)
    window = join_window(session)
    if state == RoomState.NOT_YET and window is not None:
        raise JoinRefused(gettext("The video room is not open yet."), opens_at=window[0])
    if state == RoomState.CLOSED:
        if session.start_time is None or session.status == SessionStatus.DRAFT:
            raise JoinRefused(gettext("This session is not scheduled yet."))
        raise JoinRefused(gettext("This session has ended."))


# -- LiveKit events ------------------------------------------------------------------------


def _validate(event: RoomEvent) -> None:
    if not event.id:
        raise InvalidInput(gettext("The event has no id."))
    if not event.room_name:
        raise InvalidInput(gettext("The event names no room."))
    if event.occurred_at.tzinfo is None:
        raise InvalidInput(gettext("The event time has no time zone."))
    if RoomEventKind(event.kind).is_participant_event and (
        event.participant is None or not event.participant.sid or not event.participant.identity
    ):
        raise InvalidInput(gettext("The participant event names no participant sid and identity."))
    # Longer values than LiveKit ever sends would fail in the database, and a database
    # failure makes LiveKit retry: refuse them here instead.
    if (
        len(event.id) > _MAX_ID
        or len(event.room_sid) > _MAX_ID
        or (
            event.participant is not None
            and (
                len(event.participant.sid) > _MAX_ID
                or len(event.participant.identity) > _MAX_IDENTITY
            )
        )
    ):
        raise InvalidInput(
            gettext("The event carries an id, sid or identity longer than LiveKit's.")
        )
    texts = [event.id, event.room_sid]
    if event.participant is not None:
        texts += [event.participant.sid, event.participant.identity, event.participant.name]
    if any("\x00" in text for text in texts):  # PostgreSQL text cannot hold NUL
        raise InvalidInput(gettext("The event carries a NUL character."))


_SESSION_OF_ROOM = select(
    ServiceSession.id, ServiceSession.start_time, ServiceSession.end_time
).where(ServiceSession.livekit_room_name == bindparam("room_name"))

# What receive_room_event stores, apart from the session it finds by the room's name.
_STORED = (
    "event_id",
    "event",
    "room_name",
    "processed_at",
    "occurred_at",
    "room_sid",
    "room_created_at",
    "participant_sid",
    "participant_identity",
    "participant_name",
    "participant_joined_at",
)


def _could_belong_to_session() -> ColumnElement[bool]:
    """_within_session_time in SQL, for the bounds passed as latest_start, earliest_end."""
    return or_(
        ServiceSession.start_time.is_(None),
        ServiceSession.end_time.is_(None),
        and_(
            ServiceSession.start_time <= bindparam("latest_start", type_=UTCDateTime()),
            ServiceSession.end_time >= bindparam("earliest_end", type_=UTCDateTime()),
        ),
    )


# The event as a row of the session whose room it names, when it could belong to it.
_EVENT_OF_OUR_ROOM = select(
    *(bindparam(name, type_=ProcessedRoomEvent.__table__.c[name].type) for name in _STORED),
    ServiceSession.id,
).where(ServiceSession.livekit_room_name == bindparam("room_name"), _could_belong_to_session())


@unit_of_work
def receive_room_event(event: RoomEvent) -> RoomEventReceipt:
    """Take in one LiveKit event: store it for apply_room_events, and nothing more.

    One INSERT ... SELECT, which finds the session by its room and stores the event
    only if it is new and could belong to it, so the webhook answers at once (LiveKit
    retries a slow answer). Says what it did (RoomEventReceipt); only an accepted event
    is stored. Raises InvalidInput for an unusable event.
    """
    if not event.kind:
        raise InvalidInput(gettext("The event names no event."))
    if event.kind not in _KINDS:
        return RoomEventReceipt.IGNORED
    _validate(event)
    participant = event.participant
    latest_start, earliest_end = _session_time_bounds(event.occurred_at)
    stored = db.session.connection().execute(
        insert_ignoring_duplicates(
            ProcessedRoomEvent.__table__,
            ("event_id",),
            (*_STORED, "service_session_id"),
            _EVENT_OF_OUR_ROOM,
        ),
        {
            "event_id": event.id,
            "event": event.kind,
            "room_name": event.room_name,
            "processed_at": utcnow(),
            "occurred_at": event.occurred_at,
            "room_sid": event.room_sid,
            "room_created_at": event.room_created_at,
            "participant_sid": participant.sid if participant else None,
            "participant_identity": participant.identity if participant else None,
            "participant_name": participant.name[:_MAX_NAME] if participant else "",
            "participant_joined_at": participant.joined_at if participant else None,
            "latest_start": latest_start,
            "earliest_end": earliest_end,
        },
    )
    if stored.first() is not None:
        db.session.info[ROOM_EVENTS_RECEIVED] = True
        return RoomEventReceipt.ACCEPTED
    # Nothing stored: say why.
    session = db.session.execute(_SESSION_OF_ROOM, {"room_name": event.room_name}).one_or_none()
    if session is None:
        log.warning(
            "LiveKit event %s (%s) for unknown room %s", event.id, event.kind, event.room_name
        )
        return RoomEventReceipt.UNKNOWN_ROOM
    if not _within_session_time(session, event.occurred_at):
        _log_far_outside(event, session.id)
        return RoomEventReceipt.IGNORED
    return RoomEventReceipt.DUPLICATE


def apply_room_events(session_ids: Iterable[int] | None = None) -> int:
    """Apply the pending events of these sessions' rooms (of every room by default).

    Each room's events go in the order they happened (then as they arrived), in
    batches, each batch in one transaction holding the session's row lock: appliers
    running at once (worker threads, processes, a reader) queue per room, and each
    finds only what the one before it left pending, so every event applies once.
    Returns how many were applied.
    """
    query = (
        select(ProcessedRoomEvent.service_session_id)
        .where(ProcessedRoomEvent.applied_at.is_(None))
        .distinct()
    )
    if session_ids is not None:
        query = query.where(ProcessedRoomEvent.service_session_id.in_(list(session_ids)))
    applied = 0
    for session_id in _listed(query):
        while True:
            count = _apply_batch(session_id)
            applied += count
            if count < APPLY_BATCH:
                break
    return applied


def _listed(query: Select) -> list[int]:
    if inside_unit_of_work():
        # The unit's own transaction, which sees the events the unit itself stored.
        return sorted(db.session.scalars(query))
    # Outside one, a connection of its own: the caller's open transaction (on SQLite,
    # a snapshot) could hide events stored since it began.
    with db.engine.connect() as connection:
        return sorted(connection.scalars(query))


@unit_of_work
def _apply_batch(session_id: int) -> int:
    # Every event of one room queues on the session row, so two appliers of the room
    # apply one after the other.
    session = lock_sessions([session_id])[session_id]
    pending = db.session.scalars(
        select(ProcessedRoomEvent)
        .where(
            ProcessedRoomEvent.service_session_id == session_id,
            ProcessedRoomEvent.applied_at.is_(None),
        )
        .order_by(ProcessedRoomEvent.occurred_at, ProcessedRoomEvent.id)
        .limit(APPLY_BATCH)
    ).all()
    now = utcnow()
    stay_after_completion = False
    for row in pending:
        event = _stored_event(row)
        row.applied_at = now
        if not _within_session_time(session, event.occurred_at):
            # The session moved since the event came: it no longer belongs to it.
            _log_far_outside(event, session.id)
            continue
        room = _room_of(session, event)
        if event.kind == RoomEventKind.ROOM_STARTED:
            _start(session, room, event.occurred_at)
        elif event.kind == RoomEventKind.ROOM_FINISHED:
            _finish(session, room, event.occurred_at)
        else:
            _record_participant(session, room, event)
            stay_after_completion |= session.status == SessionStatus.COMPLETED
    db.session.flush()
    if stay_after_completion:
        # A stay reported after the room closed still changes who attended.
        record_session_outcomes(session)
    return len(pending)


def _stored_event(row: ProcessedRoomEvent) -> RoomEvent:
    # Only rows from before 0017 lack the time, and they were applied on arrival.
    assert row.occurred_at is not None, f"pending room event {row.id} has no time"
    participant = None
    if row.participant_sid is not None:
        participant = ParticipantSnapshot(
            sid=row.participant_sid,
            identity=row.participant_identity or "",
            name=row.participant_name,
            joined_at=row.participant_joined_at,
        )
    return RoomEvent(
        id=row.event_id,
        kind=RoomEventKind(row.event),
        room_name=row.room_name,
        occurred_at=row.occurred_at,
        room_sid=row.room_sid,
        room_created_at=row.room_created_at,
        participant=participant,
    )


def _log_far_outside(event: RoomEvent, session_id: int) -> None:
    log.warning(
        "LiveKit event %s (%s) at %s is far outside session %s; ignored",
        event.id,
        event.kind,
        event.occurred_at.isoformat(),
        session_id,
    )


@unit_of_work
def prune_processed_room_events(*, now: datetime | None = None) -> int:
    """Forget applied event ids older than PORTAL_ROOM_EVENT_RETENTION_DAYS; returns how many.

    An id only has to outlive LiveKit's redeliveries of its event; one pruned too early
    would let a late redelivery count twice, so a retention under a day is refused.
    A pending event is never pruned: it has yet to count.
    """
    days = current_app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"]
    if days < 1:
        raise InvalidInput(
            gettext(
                "PORTAL_ROOM_EVENT_RETENTION_DAYS must be at least 1 (it is %(days)s).", days=days
            )
        )
    cutoff = (now or utcnow()) - timedelta(days=days)
    pruned = db.session.execute(
        delete(ProcessedRoomEvent).where(
            ProcessedRoomEvent.processed_at < cutoff, ProcessedRoomEvent.applied_at.is_not(None)
        )
    )
    return cast(CursorResult, pruned).rowcount


def _session_time_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The latest start and the earliest end a session may have for a room event at
    `moment` to belong to it: PORTAL_ROOM_EVENT_MARGIN_HOURS either side of its time."""
    margin = timedelta(hours=current_app.config["PORTAL_ROOM_EVENT_MARGIN_HOURS"])
    return moment + margin, moment - margin


def _within_session_time(session: ServiceSession | Row, moment: datetime) -> bool:
    """Whether a room event at `moment` can belong to the session (or a row of its
    times). A session with no time yet accepts any: there is nothing to compare with.
    _could_belong_to_session says the same in SQL."""
    if session.start_time is None or session.end_time is None:
        return True
    latest_start, earliest_end = _session_time_bounds(moment)
    return session.start_time <= latest_start and session.end_time >= earliest_end


@overload
def _earliest(first: datetime, /, *moments: datetime | None) -> datetime: ...
@overload
def _earliest(*moments: datetime | None) -> datetime | None: ...
def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def _room_of(session: ServiceSession, event: RoomEvent) -> Room:
    """The lifetime of the session's room the event belongs to, by the room's sid."""
    room = db.session.scalar(
        select(Room).where(
            Room.service_session_id == session.id, Room.livekit_sid == event.room_sid
        )
    )
    if room is None:
        # The session's row lock, held by the applier, keeps a second one from racing in.
        room = Room(
            name=session.livekit_room_name,
            service_session_id=session.id,
            livekit_sid=event.room_sid,
        )
        db.session.add(room)
        db.session.flush()
    started = event.room_created_at
    if started is None and event.kind == RoomEventKind.ROOM_STARTED:
        started = event.occurred_at
    room.started_at = _earliest(room.started_at, started)
    return room


def _start(session: ServiceSession, room: Room, fallback: datetime) -> None:
    if room.finished_at is not None:
        return
    if session.status == SessionStatus.SCHEDULED:
        start_session(session, at=room.started_at or fallback)
    else:
        log.info("room of session %s started while it is %s", session.id, session.status)


def _finish(session: ServiceSession, room: Room, at: datetime) -> None:
    finished = room.finished_at = _earliest(at, room.finished_at)
    for row in db.session.scalars(
        select(RoomParticipant).where(RoomParticipant.room_id == room.id)
    ):
        _close(row, finished)
    if session.status == SessionStatus.SCHEDULED:
        # room_started was dropped or is still on its way: the room did open.
        start_session(session, at=room.started_at or at)
    if session.status != SessionStatus.IN_PROGRESS:
        log.info("room of session %s finished while it is %s", session.id, session.status)
    elif _ends_session(session, finished):
        complete_session(session, at=finished)
    else:
        log.info(
            "room %s of session %s closed at %s, before the session's end: it stays in progress",
            room.livekit_sid,
            session.id,
            finished.isoformat(),
        )


def _ends_session(session: ServiceSession, finished_at: datetime) -> bool:
    """Whether a room closing at `finished_at` ends the session: it closed after the start,
    and no sooner than PORTAL_ROOM_FINISH_GRACE_MINUTES before the end. A room closing
    sooner (a camera check, everyone dropping at once) may open again; should it not, the
    attendance job completes the session past its end (jobs.mark_attendance)."""
    if session.start_time is None or session.end_time is None:
        return True
    grace = timedelta(minutes=current_app.config["PORTAL_ROOM_FINISH_GRACE_MINUTES"])
    return finished_at >= max(session.start_time, session.end_time - grace)


def _record_participant(session: ServiceSession, room: Room, event: RoomEvent) -> None:
    snapshot = event.participant
    # The webhook stores participant events only with their participant.
    assert snapshot is not None, f"room event {event.id} ({event.kind}) has no participant"
    row = db.session.scalar(
        select(RoomParticipant).where(
            RoomParticipant.room_id == room.id, RoomParticipant.participant_sid == snapshot.sid
        )
    )
    if row is None:
        user, kind = _classify(session, snapshot.identity)
        row = RoomParticipant(
            room=room,
            participant_sid=snapshot.sid,
            identity=snapshot.identity,
            user_id=user.id if user else None,
            participant_kind=kind,
            display_name=snapshot.name[:_MAX_NAME],
        )
        db.session.add(row)
    if snapshot.name:
        row.display_name = snapshot.name[:_MAX_NAME]
    if event.kind == RoomEventKind.PARTICIPANT_JOINED:
        joined = _earliest(snapshot.joined_at or event.occurred_at, row.joined_at)
        row.joined_at = joined
        # Someone is inside, so the session runs even if room_started was dropped.
        _start(session, room, joined)
    else:
        # A leave delivered before its join: the join moves joined_at back when it comes.
        row.joined_at = _earliest(row.joined_at, snapshot.joined_at)
        row.left_at = _earliest(row.left_at, event.occurred_at)
    _close(row, room.finished_at)


def _close(row: RoomParticipant, at: datetime | None) -> None:
    left = row.left_at = _earliest(row.left_at, at)
    if left is None:
        row.duration_seconds = None
        return
    joined = row.joined_at = _earliest(left, row.joined_at)
    row.duration_seconds = int((left - joined).total_seconds())


def _classify(session: ServiceSession, identity: str) -> tuple[User | None, ParticipantKind]:
    user = db.session.scalar(select(User).where(User.livekit_identity == identity))
    if user is None:
        return None, ParticipantKind.UNBOOKED
    if user.id == session.practitioner_id:
        return user, ParticipantKind.HOST
    if may_enter(session, user):
        return user, ParticipantKind.BOOKED
    return user, ParticipantKind.UNBOOKED
