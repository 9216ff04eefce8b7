"""Races on class passes (#21): a seat taken with a credit is as safe as one bought with
money. Many threads, each with its own connection, at the same instant; the database decides."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import SEAT_HOLDING, Booking, ClassPass, ClassPassUse, ServiceSession, User
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import future, make_user, seat_invariant_violations
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

app_config = many_connections

HOLDERS = 200
SEATS = 25


def _attempt(user_id: int, pass_id: int, session_id: int):
    def attempt():
        booking.book_with_pass(
            db.session.get(User, user_id),
            db.session.get(ClassPass, pass_id),
            db.session.get(ServiceSession, session_id),
        )

    return attempt


def test_200_pass_holders_race_for_25_seats(app, practitioner):
    breathwork = make_group_class(practitioner, name="Breathwork", max_participants=SEATS)
    pass_service = make_class_pass(practitioner, credits=5, services=[breathwork], price_cents=0)
    session_id = booking.create_session(breathwork, start_time=future(days=3)).id
    holders = [make_user() for _ in range(HOLDERS)]
    passes = [(h.id, held_pass(h, pass_service).id) for h in holders]

    outcomes = race(app, [_attempt(uid, pid, session_id) for uid, pid in passes])

    assert outcomes == Counter({"ok": SEATS, "SessionFull": HOLDERS - SEATS})
    seats = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.service_session_id == session_id, Booking.status.in_(SEAT_HOLDING)
        )
    )
    assert seats == SEATS
    assert db.session.get(ServiceSession, session_id).current_participants == SEATS
    # Exactly one credit per seat: none spent for a refused seat, none lost.
    assert db.session.scalar(select(func.sum(ClassPass.credits_used))) == SEATS
    assert db.session.scalar(select(func.count(ClassPassUse.id))) == SEATS
    assert (
        db.session.scalar(select(func.count(ClassPass.id)).where(ClassPass.credits_used == 1))
        == SEATS
    )
    assert seat_invariant_violations() == []


def test_one_holder_spending_the_last_credit_twice_at_once_gets_one_seat(app, practitioner):
    yoga = make_group_class(practitioner, tags=["group"])
    pass_service = make_class_pass(practitioner, credits=1, tag="group", price_cents=0)
    holder = make_user()
    held = held_pass(holder, pass_service)
    sessions = [booking.create_session(yoga, start_time=future(days=4 + n)).id for n in range(10)]

    outcomes = race(app, [_attempt(holder.id, held.id, sid) for sid in sessions])

    # The nine refused are told the pass is used up (a NotBookable of its own).
    assert outcomes == Counter({"ok": 1, "PassUsedUp": 9})
    db.session.expire_all()
    assert db.session.get(ClassPass, held.id).credits_used == 1
    assert db.session.scalar(select(func.count(ClassPassUse.id))) == 1
    assert seat_invariant_violations() == []
