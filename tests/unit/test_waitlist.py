"""Waitlist offers hold a real seat, pass down the line, and never give a seat twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    BookingStatus,
    Order,
    OrderStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.fixtures.client_portal import full_workshop
from tests.fixtures.factories import make_user, make_workshop, seat_invariant_violations


def seat_of(user, session):
    for b in db.session.scalars(select(Order).where(Order.user_id == user.id)).all():
        for seat in b.bookings:
            if seat.service_session_id == session.id and seat.status != BookingStatus.CANCELED:
                return seat
    return None


def test_only_a_full_workshop_takes_a_waitlist(practitioner, client_user):
    session = make_workshop(practitioner, seats=2)
    with pytest.raises(booking.NotBookable, match="seats left"):
        booking.join_waitlist(client_user, session)
    assert db.session.scalars(select(WaitlistEntry)).all() == []


def test_joining_twice_or_with_a_seat_is_refused(practitioner, client_user):
    session, holders = full_workshop(practitioner, seats=1)
    booking.join_waitlist(client_user, session)
    with pytest.raises(booking.AlreadyWaiting):
        booking.join_waitlist(client_user, session)
    with pytest.raises(booking.AlreadyBooked):
        booking.join_waitlist(holders[0], session)
    assert len(db.session.scalars(select(WaitlistEntry)).all()) == 1


def test_a_canceled_seat_is_held_for_the_first_in_line(app, practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    first = booking.join_waitlist(client_user, session)
    second_user = make_user()
    second = booking.join_waitlist(second_user, session)

    booking.cancel_booking(seat_of(holder, session), holder)

    db.session.refresh(first)
    db.session.refresh(second)
    db.session.refresh(session)
    assert first.status == WaitlistStatus.OFFERED
    assert second.status == WaitlistStatus.WAITING
    held = seat_of(client_user, session)
    assert held.status == BookingStatus.PENDING_PAYMENT
    assert held.order_id == first.order_id
    minutes = app.config["PORTAL_WAITLIST_OFFER_MINUTES"]
    assert first.order.hold_expires_at == first.offer_expires_at
    assert first.offer_expires_at - first.offered_at == timedelta(minutes=minutes)
    assert session.current_participants == 1 and session.is_full
    assert seat_invariant_violations() == []


def test_paying_the_offer_claims_the_seat(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(entry)

    booking.confirm_payment(entry.order, reference="cash")

    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.CLAIMED
    assert seat_of(client_user, session).status == BookingStatus.CONFIRMED


def test_an_unclaimed_offer_lapses_and_passes_to_the_next(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    first = booking.join_waitlist(client_user, session)
    next_user = make_user()
    second = booking.join_waitlist(next_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(first)
    after = first.offer_expires_at + timedelta(minutes=1)

    released = booking.release_expired_holds(now=after)

    assert released == 1
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == WaitlistStatus.EXPIRED
    assert second.status == WaitlistStatus.OFFERED
    assert seat_of(client_user, session) is None
    assert seat_of(next_user, session).status == BookingStatus.PENDING_PAYMENT
    db.session.refresh(session)
    assert session.current_participants == 1
    assert seat_invariant_violations() == []


def test_the_expire_holds_command_passes_expired_offers_on(app, runner, practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    first = booking.join_waitlist(client_user, session)
    second = booking.join_waitlist(make_user(), session)
    app.config["PORTAL_WAITLIST_OFFER_MINUTES"] = 1
    # The offer is made an hour ago, so its one-minute hold has expired by now.
    booking.cancel_booking(seat_of(holder, session), holder, now=utcnow() - timedelta(hours=1))

    result = runner.invoke(args=["expire-holds"])

    assert "released 1 booking" in result.output
    db.session.refresh(first)
    db.session.refresh(second)
    assert (first.status, second.status) == (WaitlistStatus.EXPIRED, WaitlistStatus.OFFERED)


def test_a_fresh_buyer_cannot_take_a_seat_held_for_the_waitlist(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)

    with pytest.raises(booking.SessionFull):
        booking.book_workshop_seat(make_user(), session)
    assert seat_of(client_user, session) is not None


def test_an_expired_hold_found_by_a_buyer_goes_to_the_waitlist_first(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    unpaid = make_user()
    booking.book_workshop_seat(unpaid, session, now=utcnow() - timedelta(hours=1))
    entry = booking.join_waitlist(client_user, session, now=utcnow() - timedelta(minutes=59))

    buyer = make_user()
    with pytest.raises(booking.SessionFull):
        booking.book_workshop_seat(buyer, session)
    # The refused purchase rolled back; releasing the expired hold on its own (as the
    # shop does after a refusal, and the expire-holds command) hands it down the line.
    booking.release_expired_holds(session_id=session.id)

    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
    assert seat_of(unpaid, session) is None
    assert seat_of(buyer, session) is None


def test_declining_an_offer_passes_it_on(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    first = booking.join_waitlist(client_user, session)
    other = make_user()
    second = booking.join_waitlist(other, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(first)

    booking.leave_waitlist(first)

    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == WaitlistStatus.DECLINED
    assert first.order.status == OrderStatus.CANCELED
    assert second.status == WaitlistStatus.OFFERED
    assert seat_of(client_user, session) is None
    assert seat_invariant_violations() == []


def test_accepting_a_free_offer_confirms_it(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(entry)

    booking.accept_offer(entry)

    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.CLAIMED
    assert seat_of(client_user, session).status == BookingStatus.CONFIRMED


def test_accepting_after_the_offer_lapsed_changes_nothing(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(entry)
    late = entry.offer_expires_at + timedelta(seconds=1)

    with pytest.raises(booking.HoldExpired):
        booking.accept_offer(entry, now=late)

    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
    assert seat_of(client_user, session).status == BookingStatus.PENDING_PAYMENT


def test_a_paid_offer_cannot_be_accepted_without_paying(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(entry)
    with pytest.raises(booking.InvalidInput):
        booking.accept_offer(entry)
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED


def test_raising_capacity_offers_the_new_seats_in_order(practitioner, client_user):
    session, _ = full_workshop(practitioner, seats=1)
    users = [client_user, make_user(), make_user()]
    entries = [booking.join_waitlist(u, session) for u in users]
    before = session.revision

    booking.resize_session(session, 3)

    for entry in entries:
        db.session.refresh(entry)
    assert [e.status for e in entries] == [
        WaitlistStatus.OFFERED,
        WaitlistStatus.OFFERED,
        WaitlistStatus.WAITING,
    ]
    db.session.refresh(session)
    # One for the resize, one for each seat held for an offer (feed subscribers see both).
    assert session.current_participants == 3 and session.revision == before + 3


def test_capacity_cannot_drop_below_seats_taken(practitioner):
    session, _ = full_workshop(practitioner, seats=2)
    with pytest.raises(booking.InvalidInput):
        booking.resize_session(session, 1)
    db.session.refresh(session)
    assert session.max_participants == 2


def test_canceling_the_session_closes_its_waitlist(practitioner, client_user):
    session, _ = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_session(session, practitioner)
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.CANCELED


def test_late_payment_of_a_lapsed_offer_takes_a_still_free_seat(practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    booking.cancel_booking(seat_of(holder, session), holder)
    db.session.refresh(entry)
    booking.release_expired_holds(now=entry.offer_expires_at + timedelta(minutes=1))
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.EXPIRED

    booking.confirm_payment(entry.order, reference="late transfer")

    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.CLAIMED
    assert seat_of(client_user, session).status == BookingStatus.CONFIRMED
