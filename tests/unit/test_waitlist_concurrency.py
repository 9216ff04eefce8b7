"""A freed seat offered to the waitlist and a fresh purchase racing for it: one seat holder.

Each thread runs in its own app context, hence its own database connection and
transaction, as two web requests would.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import SEAT_HOLDING, Booking, ServiceSession, User
from tests.fixtures.factories import future, make_user, make_workshop, seat_invariant_violations

ROUNDS = 4


def _race(app, first, second) -> dict:
    """Run two callables at the same moment, each in its own app context."""
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def run(name, fn):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                fn()
                results[name] = "ok"
            except booking.DomainError as exc:
                results[name] = exc.code
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=("first", first)),
        threading.Thread(target=run, args=("second", second)),
    ]
    db.session.commit()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    db.session.expire_all()
    return results


def _holders(session_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(Booking.user_id).where(
                Booking.service_session_id == session_id, Booking.status.in_(SEAT_HOLDING)
            )
        )
    )


def _buy(session_id: int, user_id: int):
    def buy():
        booking.book_workshop_seat(
            db.session.get(User, user_id), db.session.get(ServiceSession, session_id)
        )

    return buy


def _cancel(booking_id: int, user_id: int):
    def cancel():
        booking.cancel_booking(db.session.get(Booking, booking_id), db.session.get(User, user_id))

    return cancel


def test_a_canceled_seat_goes_to_the_waitlist_not_to_a_racing_buyer(app, practitioner):
    for round_ in range(ROUNDS):
        session = make_workshop(practitioner, seats=1, start=future(days=5 + round_))
        holder, waiter, buyer = make_user(), make_user(), make_user()
        seat = booking.book_workshop_seat(holder, session).bookings[0]
        booking.join_waitlist(waiter, session)
        session_id = session.id

        results = _race(app, _cancel(seat.id, holder.id), _buy(session_id, buyer.id))

        assert results == {"first": "ok", "second": "session_full"}
        assert _holders(session_id) == [waiter.id]
    assert seat_invariant_violations() == []


def test_an_expired_hold_released_by_cron_and_a_racing_buyer_give_one_seat(app, practitioner):
    for round_ in range(ROUNDS):
        session = make_workshop(practitioner, seats=1, start=future(days=5 + round_))
        unpaid, waiter, buyer = make_user(), make_user(), make_user()
        booking.book_workshop_seat(unpaid, session, now=utcnow() - timedelta(hours=1))
        booking.join_waitlist(waiter, session, now=utcnow() - timedelta(minutes=50))

        results = _race(app, booking.release_expired_holds, _buy(session.id, buyer.id))

        assert results["second"] == "session_full"
        assert _holders(session.id) == [waiter.id]
    assert seat_invariant_violations() == []
