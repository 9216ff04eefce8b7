"""Attendance outcomes from room time: attended, short visits, rejoins, late cancels,
canceled sessions, overrides and the mark-attendance sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.booking.attendance import booking_rows
from portal.core.errors import InvalidInput, InvalidTransition, NotPermitted
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AttendanceKind,
    AttendanceOutcome,
    AttendanceStatus,
    Booking,
    BookingStatus,
    Role,
    ServiceSession,
    SessionStatus,
)
from tests.fixtures.attendance import attended_seconds, book_past_session, finish, join, past
from tests.fixtures.factories import make_user


def outcomes_by_user(session) -> dict[int, AttendanceOutcome]:
    rows = db.session.scalars(
        select(AttendanceOutcome)
        .join(Booking, AttendanceOutcome.booking_id == Booking.id)
        .where(Booking.service_session_id == session.id)
    ).all()
    return {o.booking.user_id: o for o in rows}


def seat_of(session, user) -> Booking:
    return db.session.scalar(
        select(Booking).where(
            Booking.service_session_id == session.id,
            Booking.user_id == user.id,
            Booking.status == BookingStatus.CONFIRMED,
        )
    )


@pytest.fixture
def app_config():
    # 15 minutes: a short visit is not attendance, three short visits summed are.
    return {"PORTAL_ATTENDANCE_MIN_SECONDS": 15 * 60}


@pytest.fixture
def ran_session(practitioner, clients):
    """Ana stayed, Ben popped in for 2 minutes, Cleo never came, Dan joined three
    times (3 + 3 + 10 minutes, the last sid still open when the room closed),
    Eve canceled too late. The practitioner hosted; a guest came without a seat."""
    ana, ben, cleo, dan, eve = clients
    session = book_past_session(practitioner, clients, past(days=2))
    booking.cancel_booking(
        seat_of(session, eve),
        practitioner,
        client_requested=True,
        now=session.start_time - timedelta(hours=2),
    )
    join(session, practitioner, 0, 60, kind="host")
    join(session, ana, 1, 60)
    join(session, ben, 5, 7)
    join(session, dan, 0, 3)
    join(session, dan, 10, 13)
    join(session, dan, 50, None)
    join(session, None, 20, 30, kind="unbooked", name="Walk-in guest")
    return finish(session)


def test_completed_session_records_one_outcome_per_confirmed_booking(ran_session, clients):
    ana, ben, cleo, dan, eve = clients
    outcomes = outcomes_by_user(ran_session)

    assert set(outcomes) == {ana.id, ben.id, cleo.id, dan.id}
    assert outcomes[ana.id].outcome == AttendanceStatus.ATTENDED
    assert outcomes[ana.id].total_seconds == 59 * 60
    assert outcomes[ana.id].first_joined_at == ran_session.start_time + timedelta(minutes=1)
    assert outcomes[ben.id].outcome == AttendanceStatus.NO_SHOW  # 2 minutes < 15
    assert outcomes[ben.id].total_seconds == 120
    assert outcomes[cleo.id].outcome == AttendanceStatus.NO_SHOW
    assert outcomes[cleo.id].total_seconds == 0 and outcomes[cleo.id].first_joined_at is None
    # Rejoined: 3 + 3 + (open sid counted up to the room's finish) 10 = 16 minutes.
    assert outcomes[dan.id].outcome == AttendanceStatus.ATTENDED
    assert outcomes[dan.id].total_seconds == 16 * 60


def test_late_cancel_is_its_own_category_and_gets_no_outcome(ran_session, clients):
    eve = clients[4]
    canceled = db.session.scalar(select(Booking).where(Booking.user_id == eve.id))
    assert canceled.status == BookingStatus.CANCELED and canceled.late_cancel
    assert eve.id not in outcomes_by_user(ran_session)
    report = booking.session_attendance(ran_session)
    assert eve.id not in report.booked_user_ids | report.no_show_user_ids
    assert [b.user_id for b in report.late_cancels] == [eve.id]


def test_session_attendance_sets_and_participant_rows(ran_session, clients, practitioner):
    ana, ben, cleo, dan, _ = clients
    report = booking.session_attendance(ran_session)

    assert report.booked_user_ids == {ana.id, ben.id, cleo.id, dan.id}
    assert report.attended_user_ids == {ana.id, dan.id}
    assert report.no_show_user_ids == {ben.id, cleo.id}
    assert len(report.participants) == 7
    assert [p.display_name for p in report.unbooked] == ["Walk-in guest"]
    by_user = {c.user.id: c for c in report.clients}
    assert by_user[ben.id].late_join is False  # 5 minutes late is within the slack
    assert by_user[ben.id].early_leave is True
    assert by_user[ana.id].early_leave is False
    assert by_user[dan.id].total_minutes == 16


def test_attended_seconds_agrees_with_session_attendance(ran_session, clients, practitioner):
    ana, ben, cleo, dan, _ = clients
    seconds = attended_seconds(ran_session)
    assert seconds[ana.id] == 59 * 60
    assert seconds[dan.id] == 16 * 60
    assert seconds[practitioner.id] == 60 * 60
    assert cleo.id not in seconds
    by_user = {c.user.id: c for c in booking.session_attendance(ran_session).clients}
    for user_id, client in by_user.items():
        assert client.total_seconds == seconds.get(user_id, 0)


def test_no_show_query_is_the_set_difference(ran_session, clients):
    _, ben, cleo, _, _ = clients
    rows = booking_rows(utcnow(), [ServiceSession.status == SessionStatus.COMPLETED]).subquery()
    ids = db.session.scalars(
        select(rows.c.booking_id).where(rows.c.kind == AttendanceKind.NO_SHOW)
    ).all()
    users = set(db.session.scalars(select(Booking.user_id).where(Booking.id.in_(ids))))
    assert users == {ben.id, cleo.id}


def test_a_session_canceled_by_the_practitioner_records_no_outcome(practitioner, clients):
    session = book_past_session(practitioner, clients[:2], past(days=1))
    booking.cancel_session(session, practitioner)
    assert booking.mark_attendance().recorded == 0
    assert db.session.scalar(select(func.count(AttendanceOutcome.id))) == 0
    assert booking.session_attendance(session).booked_user_ids == set()


def test_override_keeps_who_when_why_and_survives_recomputation(ran_session, clients, practitioner):
    cleo = clients[2]
    seat = seat_of(ran_session, cleo)
    booking.override_outcome(
        seat, AttendanceStatus.ATTENDED, practitioner, reason="Joined by phone"
    )

    booking.record_outcomes([ran_session.id])
    booking.mark_attendance()

    outcome = outcomes_by_user(ran_session)[cleo.id]
    assert outcome.outcome == AttendanceStatus.ATTENDED
    assert outcome.computed_outcome == AttendanceStatus.NO_SHOW
    assert outcome.overridden_by_id == practitioner.id
    assert outcome.override_reason == "Joined by phone"
    assert outcome.overridden_at is not None
    assert cleo.id in booking.session_attendance(ran_session).attended_user_ids


def test_staff_may_override_other_practitioners_and_clients_may_not(ran_session, clients):
    seat = seat_of(ran_session, clients[0])
    other_practitioner = make_user(Role.PRACTITIONER)
    for outsider in (other_practitioner, clients[1]):
        with pytest.raises(NotPermitted):
            booking.override_outcome(seat, AttendanceStatus.NO_SHOW, outsider, reason="x")
    staff = make_user(Role.STAFF)
    booking.override_outcome(seat, AttendanceStatus.NO_SHOW, staff, reason="Camera off, asleep")
    assert outcomes_by_user(ran_session)[clients[0].id].outcome == AttendanceStatus.NO_SHOW


def test_override_needs_a_reason_and_a_completed_session(practitioner, clients, ran_session):
    with pytest.raises(InvalidInput):
        booking.override_outcome(
            seat_of(ran_session, clients[0]), AttendanceStatus.NO_SHOW, practitioner, reason=" "
        )
    upcoming = book_past_session(practitioner, clients[:1], utcnow() + timedelta(days=3))
    with pytest.raises(InvalidTransition):
        booking.override_outcome(
            seat_of(upcoming, clients[0]), AttendanceStatus.NO_SHOW, practitioner, reason="x"
        )
    assert outcomes_by_user(ran_session)[clients[0].id].overridden_by_id is None


def test_mark_attendance_completes_stale_sessions_once(practitioner, clients, runner):
    now = utcnow().replace(microsecond=0)
    stale = book_past_session(practitioner, clients[:2], now - timedelta(hours=3))  # ended 2h ago
    join(stale, clients[0], 0, 45)
    recent = book_past_session(practitioner, clients[2:3], now - timedelta(minutes=90))
    booking.start_session(recent, at=recent.start_time)  # ended 30 min ago: within the grace

    result = runner.invoke(args=["mark-attendance"])
    assert result.exit_code == 0, result.output
    assert "completed 1 session" in result.output

    db.session.expire_all()
    assert stale.status == SessionStatus.COMPLETED
    assert stale.actual_end_time == stale.end_time
    assert recent.status == SessionStatus.IN_PROGRESS
    outcomes = outcomes_by_user(stale)
    assert outcomes[clients[0].id].outcome == AttendanceStatus.ATTENDED
    assert outcomes[clients[1].id].outcome == AttendanceStatus.NO_SHOW

    again = runner.invoke(args=["mark-attendance"])
    assert "completed 0 session" in again.output and "recorded 0" in again.output
    assert db.session.scalar(select(func.count(AttendanceOutcome.id))) == 2


def test_mark_attendance_backfills_completed_sessions_without_outcomes(practitioner, clients):
    session = finish(book_past_session(practitioner, clients[:2], past(days=4)))
    db.session.execute(AttendanceOutcome.__table__.delete())
    db.session.commit()

    assert booking.mark_attendance().recorded == 2
    assert set(outcomes_by_user(session)) == {clients[0].id, clients[1].id}


def test_mark_attendance_refreshes_recent_sessions_but_keeps_overrides(practitioner, clients):
    ana, ben, cleo = clients[:3]
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    session = finish(book_past_session(practitioner, [ana, ben, cleo], now - timedelta(hours=5)))
    booking.override_outcome(
        seat_of(session, cleo), AttendanceStatus.ATTENDED, practitioner, reason="Was in the studio"
    )
    # Room events that arrive after the session was completed.
    join(session, ben, 0, 40)
    join(session, cleo, 0, 1)

    result = booking.mark_attendance()

    assert (result.completed, result.recorded, result.refreshed) == (0, 0, 1)
    db.session.expire_all()
    outcomes = outcomes_by_user(session)
    assert outcomes[ben.id].outcome == AttendanceStatus.ATTENDED
    assert outcomes[ben.id].total_seconds == 40 * 60
    assert outcomes[cleo.id].outcome == AttendanceStatus.ATTENDED  # the override stands
    assert outcomes[cleo.id].computed_outcome == AttendanceStatus.NO_SHOW  # 1 minute < 15
    assert outcomes[cleo.id].total_seconds == 60


class TestDefaultMinimum:
    @pytest.fixture
    def app_config(self):
        return {}

    def test_any_join_counts_by_default(self, practitioner, clients):
        ana, ben = clients[:2]
        session = book_past_session(practitioner, [ana, ben], past(days=2))
        join(session, ana, 10, 10.5)  # 30 seconds
        finish(session)
        outcomes = outcomes_by_user(session)
        assert outcomes[ana.id].outcome == AttendanceStatus.ATTENDED
        assert outcomes[ben.id].outcome == AttendanceStatus.NO_SHOW
