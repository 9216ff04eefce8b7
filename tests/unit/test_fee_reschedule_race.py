"""A late cancel's fee against a reschedule of the same booking (#20), on SQLite and
PostgreSQL: both take the session's row lock, so exactly one story holds for each booking.
Either the cancel came first (late: the fee is owed, and the reschedule of a canceled
booking is refused), or the reschedule did (the session moved into the free window, so the
cancel that follows costs nothing). Never a fee for a booking whose session moved."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Booking, BookingStatus, Fee, PaymentPolicy, ServiceSession
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import future, make_service, make_user, open_all_week

app_config = many_connections

PAIRS = 12


def _cancel(booking_id: int, client_id: int, at: datetime):
    def cancel():
        seat = db.session.get(Booking, booking_id)
        booking.cancel_booking(seat, db.session.get(type(seat.user), client_id), now=at)

    return cancel


def _reschedule(booking_id: int, practitioner_id: int, to: datetime, at: datetime):
    def reschedule():
        seat = db.session.get(Booking, booking_id)
        booking.reschedule_booking(
            seat, db.session.get(type(seat.user), practitioner_id), to, now=at
        )

    return reschedule


def test_a_late_cancel_and_a_reschedule_settle_into_one_story(app, practitioner):
    open_all_week(practitioner)
    service = make_service(
        practitioner,
        price_cents=4000,
        payment_policy=PaymentPolicy.PAY_LATER,
        cancellation_cutoff_hours=24,
        late_cancel_fee_percent=50,
    )
    # A morning (the test's "now"), so every start and every new time fall on one day.
    now = future(2, hour=6)
    booked_at = now - timedelta(days=3)
    seats, originals, attempts = [], {}, []
    for n in range(PAIRS):
        client = make_user()
        start = now + timedelta(hours=2 + n)
        order = booking.book_individual_session(client, service, start, now=booked_at)
        seat = order.bookings[0]
        seats.append(seat.id)
        originals[seat.id] = start
        later = now + timedelta(days=5, hours=n)
        attempts += [
            _cancel(seat.id, client.id, now),
            _reschedule(seat.id, practitioner.id, later, now),
        ]

    outcomes = race(app, attempts)
    db.session.expire_all()

    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    fees = {f.booking_id: f for f in db.session.scalars(select(Fee))}
    stories = {"late cancel, fee owed": 0, "rescheduled, canceled free": 0}
    for seat_id in seats:
        seat = db.session.get(Booking, seat_id)
        start = db.session.get(ServiceSession, seat.service_session_id).start_time
        # Both attempts ran; the cancel always succeeds, first or second.
        assert seat.status == BookingStatus.CANCELED
        if start == originals[seat_id]:
            assert seat.late_cancel and fees[seat_id].amount_cents == 2000
            stories["late cancel, fee owed"] += 1
        else:
            assert not seat.late_cancel and seat_id not in fees
            stories["rescheduled, canceled free"] += 1
    print(f"stories: {stories}; outcomes {dict(outcomes)}")
    # One fee per late cancel, never one for a moved session.
    assert len(fees) == stories["late cancel, fee owed"]
    assert outcomes["ok"] == PAIRS + stories["rescheduled, canceled free"]
