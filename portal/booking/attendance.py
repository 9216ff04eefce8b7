"""Who showed up: attendance derived from RoomParticipant, recorded outcomes, overrides.

A user attended a session when their total room time, summed over every
participant sid they had in its room, reaches PORTAL_ATTENDANCE_MIN_SECONDS. A sid
still open counts up to the room's finish (or the session's actual end, or now
while it runs). A no-show is a confirmed booking of a completed session whose
user did not attend: the database answers that with a left anti-join of bookings
against the per-user room time, never a set difference in Python.

Once a session is completed, each confirmed booking gets an AttendanceOutcome
row. A practitioner (their own sessions) or staff may override it, and
recomputing never replaces an override.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import ColumnElement, String, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.engine import Row
from sqlalchemy.orm import selectinload
from sqlalchemy.sql import Select

from .. import audit
from ..core.errors import InvalidInput, InvalidTransition, NotPermitted
from ..core.sql import seconds_between
from ..core.transactions import unit_of_work
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..models import (
    AttendanceKind,
    AttendanceOutcome,
    AttendanceStatus,
    AuditAction,
    Booking,
    BookingStatus,
    FeeKind,
    ParticipantKind,
    Room,
    RoomParticipant,
    ServiceSession,
    SessionStatus,
    User,
)
from . import events
from .fees import owe_fee
from .locks import lock_sessions


def min_seconds() -> int:
    # Zero would make every booked person "attend" without joining.
    return max(1, int(current_app.config["PORTAL_ATTENDANCE_MIN_SECONDS"]))


def room_time(now: datetime, *session_criteria: ColumnElement, detail: bool = True) -> Select:
    """Per (session, user): total seconds in the room, and with detail first join, last leave.

    session_criteria filter ServiceSession, so a report only reads the room
    data of the sessions it covers.
    """
    end = func.coalesce(
        RoomParticipant.left_at,
        Room.finished_at,
        ServiceSession.actual_end_time,
        literal(now, UTCDateTime()),
    )
    seconds = case(
        (RoomParticipant.duration_seconds.is_not(None), RoomParticipant.duration_seconds),
        (RoomParticipant.joined_at.is_(None), 0),
        else_=seconds_between(end, RoomParticipant.joined_at),
    )
    columns = [
        Room.service_session_id.label("session_id"),
        RoomParticipant.user_id.label("user_id"),
        func.sum(seconds).label("total_seconds"),
    ]
    if detail:
        columns += [
            func.min(RoomParticipant.joined_at).label("first_joined_at"),
            func.max(end).label("last_left_at"),
        ]
    return (
        select(*columns)
        .join(Room, RoomParticipant.room_id == Room.id)
        .join(ServiceSession, Room.service_session_id == ServiceSession.id)
        .where(RoomParticipant.user_id.is_not(None), *session_criteria)
        .group_by(Room.service_session_id, RoomParticipant.user_id)
    )


def booking_rows(
    now: datetime,
    session_criteria: Iterable[ColumnElement] = (),
    booking_criteria: Iterable[ColumnElement] | None = None,
    *,
    detail: bool = True,
) -> Select:
    """One row per booking with its attendance kind, all decided in SQL.

    kind: late_cancel for a late-canceled booking; for a confirmed booking of a
    completed session the recorded outcome if there is one, else attended/no_show
    from the room time (the anti-join: no room time row, or too little, is a
    no-show); for a session not completed yet, attended or pending.
    With detail, also computed (what the room time alone says: what recording
    stores), total_seconds, first_joined_at, last_left_at; aggregates leave them
    out. By default only confirmed bookings are included.
    """
    session_criteria = list(session_criteria)
    if booking_criteria is None:
        booking_criteria = [Booking.status == BookingStatus.CONFIRMED]
    totals = room_time(now, *session_criteria, detail=detail).subquery("room_time")
    total = func.coalesce(totals.c.total_seconds, 0)
    attended = total >= min_seconds()
    computed = case((attended, AttendanceKind.ATTENDED), else_=AttendanceKind.NO_SHOW)
    completed = ServiceSession.status == SessionStatus.COMPLETED
    kind = case(
        (Booking.status == BookingStatus.CANCELED, AttendanceKind.LATE_CANCEL),
        (~completed, case((attended, AttendanceKind.ATTENDED), else_=AttendanceKind.PENDING)),
        (AttendanceOutcome.id.is_not(None), type_coerce(AttendanceOutcome.outcome, String)),
        else_=computed,
    )
    columns: list[ColumnElement[Any]] = [
        Booking.id.label("booking_id"),
        Booking.user_id.label("user_id"),
        Booking.service_id.label("service_id"),
        ServiceSession.id.label("session_id"),
        ServiceSession.practitioner_id.label("practitioner_id"),
        ServiceSession.start_time.label("start_time"),
        ServiceSession.status.label("session_status"),
        kind.label("kind"),
    ]
    if detail:
        columns += [
            computed.label("computed"),
            total.label("total_seconds"),
            totals.c.first_joined_at,
            totals.c.last_left_at,
        ]
    return (
        select(*columns)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .outerjoin(AttendanceOutcome, AttendanceOutcome.booking_id == Booking.id)
        .outerjoin(
            totals,
            and_(
                totals.c.session_id == Booking.service_session_id,
                totals.c.user_id == Booking.user_id,
            ),
        )
        .where(*session_criteria, *booking_criteria)
    )


def reportable_bookings() -> ColumnElement:
    """Bookings a no-show report counts: confirmed seats of completed sessions and late cancels."""
    return or_(
        and_(
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.status == SessionStatus.COMPLETED,
        ),
        and_(Booking.status == BookingStatus.CANCELED, Booking.late_cancel.is_(True)),
    )


# --- One session -------------------------------------------------------------------


@dataclass
class ClientAttendance:
    booking: Booking
    kind: AttendanceKind
    total_seconds: int
    first_joined_at: datetime | None
    last_left_at: datetime | None
    late_join: bool
    early_leave: bool
    outcome: AttendanceOutcome | None

    @property
    def user(self) -> User:
        return self.booking.user

    @property
    def total_minutes(self) -> int:
        return round(self.total_seconds / 60)


@dataclass
class SessionAttendance:
    session: ServiceSession
    clients: list[ClientAttendance]
    participants: list[RoomParticipant]
    late_cancels: list[Booking] = field(default_factory=list)
    booked_user_ids: set[int] = field(default_factory=set)
    attended_user_ids: set[int] = field(default_factory=set)
    no_show_user_ids: set[int] = field(default_factory=set)

    @property
    def unbooked(self) -> list[RoomParticipant]:
        """Room participants who held no confirmed seat (and are not the host)."""
        return [
            p
            for p in self.participants
            if p.participant_kind != ParticipantKind.HOST and p.user_id not in self.booked_user_ids
        ]


def _seats(session: ServiceSession, booking_ids: list[int]) -> Sequence[Booking]:
    """The session's confirmed seats (from the per-booking rows) and its late
    cancels, with their users."""
    return db.session.scalars(
        select(Booking)
        .where(
            or_(
                Booking.id.in_(booking_ids),
                and_(
                    Booking.service_session_id == session.id,
                    Booking.status == BookingStatus.CANCELED,
                    Booking.late_cancel.is_(True),
                ),
            )
        )
        .options(selectinload(Booking.user))
        .order_by(Booking.id)
    ).all()


def _outcomes(booking_ids: list[int]) -> dict[int, AttendanceOutcome]:
    return {
        o.booking_id: o
        for o in db.session.scalars(
            select(AttendanceOutcome)
            .where(AttendanceOutcome.booking_id.in_(booking_ids))
            .options(selectinload(AttendanceOutcome.overridden_by))
        )
    }


def _room_participants(session: ServiceSession) -> list[RoomParticipant]:
    return list(
        db.session.scalars(
            select(RoomParticipant)
            .join(Room, RoomParticipant.room_id == Room.id)
            .where(Room.service_session_id == session.id)
            .options(selectinload(RoomParticipant.user))
            .order_by(RoomParticipant.joined_at, RoomParticipant.id)
        )
    )


@dataclass(frozen=True)
class _Timing:
    """What 'late' and 'early' are measured against in one session."""

    starts: datetime | None
    ends: datetime | None
    slack: timedelta
    completed: bool

    @classmethod
    def of(cls, session: ServiceSession) -> _Timing:
        ends = session.actual_end_time or session.end_time
        # Late after the scheduled start, or after the real one when it began later: a room
        # opened early (the practitioner checking the camera) makes nobody late.
        starts = max(filter(None, (session.start_time, session.actual_start_time)), default=None)
        slack = timedelta(minutes=int(current_app.config["PORTAL_ATTENDANCE_SLACK_MINUTES"]))
        return cls(starts, ends, slack, session.status == SessionStatus.COMPLETED)

    def late_join(self, joined: datetime | None) -> bool:
        return bool(joined and self.starts and joined > self.starts + self.slack)

    def early_leave(self, left: datetime | None) -> bool:
        # Only a finished session has an end someone could leave before.
        return bool(self.completed and left and self.ends and left < self.ends - self.slack)


def session_attendance(
    session: ServiceSession, *, now: datetime | None = None
) -> SessionAttendance:
    """Every confirmed booking of the session with its attendance, plus the room's rows.

    A fixed number of queries whatever the session's size: the per-booking rows,
    the bookings (late cancels too) with their users, the outcomes, the room's
    participants with theirs.
    """
    now = now or utcnow()
    rows = db.session.execute(booking_rows(now, [ServiceSession.id == session.id])).all()
    seats = _seats(session, [r.booking_id for r in rows])
    by_id = {b.id: b for b in seats}
    outcomes = _outcomes(list(by_id))
    timing = _Timing.of(session)
    clients = [
        ClientAttendance(
            booking=by_id[row.booking_id],
            kind=AttendanceKind(row.kind),
            total_seconds=row.total_seconds,
            first_joined_at=row.first_joined_at,
            last_left_at=row.last_left_at,
            late_join=timing.late_join(row.first_joined_at),
            early_leave=timing.early_leave(row.last_left_at),
            outcome=outcomes.get(row.booking_id),
        )
        for row in rows
    ]
    clients.sort(key=lambda c: (c.user.name.lower(), c.booking.id))
    return SessionAttendance(
        session=session,
        clients=clients,
        participants=_room_participants(session),
        late_cancels=[b for b in seats if b.status == BookingStatus.CANCELED],
        booked_user_ids={row.user_id for row in rows},
        attended_user_ids={row.user_id for row in rows if row.kind == AttendanceKind.ATTENDED},
        no_show_user_ids={row.user_id for row in rows if row.kind == AttendanceKind.NO_SHOW},
    )


# --- Recording ---------------------------------------------------------------------


@unit_of_work
def record_outcomes(session_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Record (or refresh) the outcome of every confirmed booking of these completed sessions.

    Idempotent. An overridden outcome keeps its value; only the computed side
    (room time, first join, computed outcome) is refreshed. Returns rows written.
    """
    now = now or utcnow()
    ids = sorted(set(session_ids))
    if not ids:
        return 0
    # Two recorders of one session (webhook and cron) queue here instead of both inserting.
    sessions = lock_sessions(ids)
    rows = db.session.execute(
        booking_rows(
            now,
            [ServiceSession.id.in_(ids), ServiceSession.status == SessionStatus.COMPLETED],
        )
    ).all()
    existing = {
        o.booking_id: o
        for o in db.session.scalars(
            select(AttendanceOutcome)
            .join(Booking, AttendanceOutcome.booking_id == Booking.id)
            .where(Booking.service_session_id.in_(ids))
        )
    }
    news: list[tuple[Row, AttendanceOutcome]] = []
    for row in rows:
        computed = AttendanceStatus(row.computed)
        outcome = existing.get(row.booking_id)
        before = outcome.outcome if outcome is not None else None
        if outcome is None:
            outcome = AttendanceOutcome(booking_id=row.booking_id, outcome=computed)
            db.session.add(outcome)
        elif not outcome.is_overridden:
            outcome.outcome = computed
        # Recording runs again and again (every few minutes): only news is an event.
        if outcome.outcome != before:
            news.append((row, outcome))
        outcome.computed_outcome = computed
        outcome.total_seconds = int(row.total_seconds)
        outcome.first_joined_at = row.first_joined_at
        outcome.computed_at = now
    db.session.flush()
    for row, outcome in news:
        events.attendance_recorded(
            sessions[row.session_id],
            booking_id=row.booking_id,
            client_id=row.user_id,
            outcome=outcome.outcome,
            overridden=outcome.is_overridden,
            total_seconds=outcome.total_seconds,
            now=now,
        )
    return len(rows)


def record_session_outcomes(session: ServiceSession, *, now: datetime | None = None) -> int:
    return record_outcomes([session.id], now=now)


def can_override(actor: User, session: ServiceSession) -> bool:
    return actor.is_staff or (actor.is_practitioner and actor.id == session.practitioner_id)


@unit_of_work
def override_outcome(
    booking: Booking,
    outcome: AttendanceStatus,
    actor: User,
    *,
    reason: str,
    now: datetime | None = None,
) -> AttendanceOutcome:
    """The practitioner of the session, or staff, sets a booking's outcome by hand."""
    now = now or utcnow()
    session = lock_sessions([booking.service_session_id])[booking.service_session_id]
    if not can_override(actor, session):
        raise NotPermitted(
            gettext("Only the session's practitioner or staff may change attendance.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("Say why the outcome is changed."), field="reason")
    if len(reason) > 500:
        raise InvalidInput(gettext("Keep the reason under 500 characters."), field="reason")
    if session.status != SessionStatus.COMPLETED:
        raise InvalidTransition(gettext("Attendance can be changed once the session is completed."))
    db.session.refresh(booking)
    if booking.status != BookingStatus.CONFIRMED:
        raise InvalidTransition(gettext("Only a confirmed booking has an attendance outcome."))
    recorded = db.session.scalar(
        select(AttendanceOutcome).where(AttendanceOutcome.booking_id == booking.id)
    )
    if recorded is None:
        record_outcomes([session.id], now=now)
        recorded = db.session.scalar(
            select(AttendanceOutcome).where(AttendanceOutcome.booking_id == booking.id)
        )
        # record_outcomes writes one for every confirmed seat of a completed session.
        assert recorded is not None
    previous = recorded.outcome
    recorded.outcome = AttendanceStatus(outcome)
    recorded.overridden_by_id = actor.id
    recorded.overridden_at = now
    recorded.override_reason = reason
    db.session.flush()
    # A person marking the client absent is the no-show the policy charges for; a computed
    # outcome (from room time) never is: an in-person session has no room time at all.
    if recorded.outcome == AttendanceStatus.NO_SHOW:
        owe_fee(booking, FeeKind.NO_SHOW, now)
    events.attendance_recorded(
        session,
        booking_id=booking.id,
        client_id=booking.user_id,
        outcome=recorded.outcome,
        overridden=True,
        total_seconds=recorded.total_seconds,
        now=now,
    )
    # The reason is the actor's own words, possibly about the client: it stays on the
    # outcome row (which an erasure clears), not in the append-only log.
    audit.record(
        AuditAction.ATTENDANCE_OVERRIDDEN,
        "booking",
        booking.id,
        practitioner_id=session.practitioner_id,
        client_id=booking.user_id,
        actor_id=actor.id,
        before={"outcome": previous},
        after={"outcome": recorded.outcome},
    )
    return recorded
