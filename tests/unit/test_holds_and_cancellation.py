"""Unpaid orders hold seats only until their hold expires; cancellations free seats
and return package/bundle credits; course enrollment is all or nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    CancelReason,
    Order,
    OrderStatus,
    ServiceSession,
    ServiceType,
    SessionStatus,
    WaitlistStatus,
)
from tests.fixtures.factories import (
    future,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)


def test_course_with_one_full_session_creates_nothing_and_names_it(practitioner, client_user):
    course = make_service(practitioner, ServiceType.COURSE, max_participants=5)
    for week in range(4):
        booking.create_session(
            course,
            start_time=future(days=3) + timedelta(weeks=week),
            sequence_number=week + 1,
            max_participants=1 if week == 2 else 5,
        )
    booking.enroll_in_course(make_user(), course)
    orders_before = db.session.scalar(select(func.count(Order.id)))

    with pytest.raises(booking.SessionFull) as refused:
        booking.enroll_in_course(client_user, course)

    assert "session 3" in refused.value.message
    assert db.session.scalar(select(func.count(Order.id))) == orders_before
    mine = select(func.count(Booking.id)).where(Booking.user_id == client_user.id)
    assert db.session.scalar(mine) == 0
    assert seat_invariant_violations() == []


def test_an_expired_hold_releases_its_seat_to_the_next_buyer(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    now = future(0)
    unpaid = booking.book_workshop_seat(client_user, session, now=now)
    later_buyer = make_user()

    with pytest.raises(booking.SessionFull):
        booking.book_workshop_seat(later_buyer, session, now=now + timedelta(minutes=14))

    after_hold = now + timedelta(minutes=16)
    order = booking.book_workshop_seat(later_buyer, session, now=after_hold)

    assert order.bookings[0].status == BookingStatus.PENDING_PAYMENT
    db.session.refresh(unpaid)
    # The released order is over: expired (was: left pending).
    assert unpaid.status == OrderStatus.EXPIRED
    assert unpaid.bookings[0].status == BookingStatus.CANCELED
    assert unpaid.bookings[0].cancel_reason == CancelReason.HOLD_EXPIRED
    assert seat_invariant_violations() == []


def test_expire_holds_frees_expired_seats_and_leaves_live_ones(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    now = future(0)
    expired = booking.book_workshop_seat(client_user, session, now=now - timedelta(minutes=30))
    live = booking.book_workshop_seat(make_user(), session, now=now)

    assert booking.release_expired_holds(now=now) == 1

    db.session.refresh(session)
    assert session.current_participants == 1
    assert expired.bookings[0].status == BookingStatus.CANCELED
    assert live.bookings[0].status == BookingStatus.PENDING_PAYMENT
    assert booking.release_expired_holds(now=now) == 0


def test_payment_after_expiry_retakes_a_seat_that_is_still_free(practitioner, client_user):
    session = make_workshop(practitioner, seats=2)
    now = future(0)
    order = booking.book_workshop_seat(client_user, session, now=now)
    booking.release_expired_holds(now=now + timedelta(hours=1))

    booking.confirm_payment(order, now=now + timedelta(hours=2))

    db.session.refresh(order)
    assert order.status == OrderStatus.PAID
    statuses = sorted(b.status.value for b in order.bookings)
    assert statuses == ["canceled", "confirmed"]
    db.session.refresh(session)
    assert session.current_participants == 1


def test_payment_after_expiry_fails_clearly_when_the_seat_is_gone(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    now = future(0)
    order = booking.book_workshop_seat(client_user, session, now=now)
    taken = booking.book_workshop_seat(make_user(), session, now=now + timedelta(hours=1))
    booking.confirm_payment(taken, now=now + timedelta(hours=1))

    with pytest.raises(booking.HoldExpired) as refused:
        booking.confirm_payment(order, now=now + timedelta(hours=2))

    assert "full" in refused.value.message
    db.session.refresh(order)
    # Expired when its seat was released; the refused late payment leaves it so.
    assert order.status == OrderStatus.EXPIRED
    assert [b.status for b in order.bookings] == [BookingStatus.CANCELED]
    assert seat_invariant_violations() == []


def test_an_expired_one_on_one_hold_frees_the_practitioners_time(practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = future(days=4, hour=10)
    now = future(0)
    booking.book_individual_session(client_user, service, start, now=now)
    with pytest.raises(booking.SlotUnavailable):
        booking.book_individual_session(make_user(), service, start, now=now)

    order = booking.book_individual_session(
        make_user(), service, start, now=now + timedelta(minutes=20)
    )

    assert order.bookings[0].get_start_time() == start
    canceled = db.session.scalar(
        select(func.count(ServiceSession.id)).where(ServiceSession.status == SessionStatus.CANCELED)
    )
    assert canceled == 1


def test_canceling_a_one_on_one_frees_the_slot(practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, price_cents=0)
    start = future(days=4, hour=10)
    order = booking.book_individual_session(client_user, service, start)

    booking.cancel_booking(order.bookings[0], client_user)

    db.session.refresh(order.bookings[0])
    assert order.bookings[0].service_session.status == SessionStatus.CANCELED
    assert booking.book_individual_session(make_user(), service, start).bookings


def _scheduled_credit(practitioner, client_user, *, cutoff_hours=24):
    yoga = make_service(practitioner, cancellation_cutoff_hours=cutoff_hours)
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 3)])
    order = booking.buy_credits(client_user, bundle)
    credit = order.bookings[0]
    booking.schedule_credit(credit, future(days=5, hour=10))
    return order, credit


def test_canceling_a_credit_before_the_cutoff_returns_the_credit(practitioner, client_user):
    order, credit = _scheduled_credit(practitioner, client_user)

    returned = booking.cancel_booking(credit, client_user)

    db.session.refresh(order)
    assert returned is not None and returned.status == BookingStatus.DRAFT
    assert returned.order_id == order.id
    drafts = [b for b in order.bookings if b.status == BookingStatus.DRAFT]
    assert len(drafts) == 3
    assert credit.late_cancel is False


def test_client_cannot_cancel_past_the_cutoff(practitioner, client_user):
    order, credit = _scheduled_credit(practitioner, client_user)
    near_start = credit.get_start_time() - timedelta(hours=2)

    with pytest.raises(booking.CancellationWindowClosed):
        booking.cancel_booking(credit, client_user, now=near_start)

    db.session.refresh(credit)
    assert credit.status == BookingStatus.CONFIRMED


def test_client_asking_for_a_cancel_does_not_open_the_window_to_them(practitioner, client_user):
    order, credit = _scheduled_credit(practitioner, client_user)
    near_start = credit.get_start_time() - timedelta(hours=2)

    with pytest.raises(booking.CancellationWindowClosed):
        booking.cancel_booking(credit, client_user, client_requested=True, now=near_start)

    db.session.refresh(credit)
    assert credit.status == BookingStatus.CONFIRMED and credit.late_cancel is False


def test_a_cancel_the_client_asked_for_past_the_cutoff_is_late_and_forfeits_the_credit(
    practitioner, client_user
):
    order, credit = _scheduled_credit(practitioner, client_user)
    near_start = credit.get_start_time() - timedelta(hours=2)

    returned = booking.cancel_booking(
        credit, practitioner, note="called in", client_requested=True, now=near_start
    )

    assert returned is None
    db.session.refresh(credit)
    assert credit.status == BookingStatus.CANCELED and credit.late_cancel is True
    assert credit.canceled_by_id == practitioner.id
    db.session.refresh(order)
    assert sum(b.status == BookingStatus.DRAFT for b in order.bookings) == 2


@pytest.mark.parametrize("remover", ["practitioner", "staff_user"])
def test_removing_a_client_past_the_cutoff_is_no_late_cancel_and_returns_the_credit(
    request, remover, practitioner, client_user
):
    order, credit = _scheduled_credit(practitioner, client_user)
    near_start = credit.get_start_time() - timedelta(hours=2)
    actor = request.getfixturevalue(remover)

    returned = booking.cancel_booking(
        credit, actor, reason=CancelReason.REMOVED_BY_PRACTITIONER, now=near_start
    )

    db.session.refresh(credit)
    assert credit.status == BookingStatus.CANCELED and credit.late_cancel is False
    assert returned is not None and returned.status == BookingStatus.DRAFT
    assert returned.order_id == order.id and returned.user_id == client_user.id
    db.session.refresh(order)
    assert sum(b.status == BookingStatus.DRAFT for b in order.bookings) == 3


def test_asking_before_the_cutoff_is_no_late_cancel(practitioner, client_user):
    order, credit = _scheduled_credit(practitioner, client_user)

    returned = booking.cancel_booking(credit, practitioner, client_requested=True)

    db.session.refresh(credit)
    assert credit.late_cancel is False and returned is not None


def test_removing_a_workshop_client_past_the_cutoff_is_no_late_cancel(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    order = booking.book_workshop_seat(client_user, session)
    booking.confirm_payment(order)
    seat = order.bookings[0]

    assert (
        booking.cancel_booking(seat, practitioner, now=session.start_time - timedelta(minutes=5))
        is None
    )

    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED and seat.late_cancel is False


def test_canceling_a_session_returns_credits_to_their_owners(practitioner, client_user):
    order, credit = _scheduled_credit(practitioner, client_user)

    assert booking.cancel_session(credit.service_session, practitioner) == 1

    db.session.refresh(order)
    assert sum(b.status == BookingStatus.DRAFT for b in order.bookings) == 3


def test_giving_up_an_unscheduled_credit_does_not_mint_a_new_one(practitioner, client_user):
    yoga = make_service(practitioner)
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 2)])
    order = booking.buy_credits(client_user, bundle)

    assert booking.cancel_booking(order.bookings[0], client_user) is None

    db.session.refresh(order)
    assert [b.status for b in order.bookings] == [BookingStatus.CANCELED, BookingStatus.DRAFT]
    assert order.bookings[0].service_session.status == SessionStatus.CANCELED


def test_canceling_a_session_closes_unpaid_orders_left_without_a_seat(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    unpaid = booking.book_workshop_seat(client_user, session)
    paid = booking.book_workshop_seat(make_user(), session)
    booking.confirm_payment(paid)

    booking.cancel_session(session, practitioner)

    db.session.refresh(unpaid)
    db.session.refresh(paid)
    assert unpaid.status == OrderStatus.CANCELED
    assert paid.status == OrderStatus.PAID
    with pytest.raises(booking.InvalidTransition):
        booking.confirm_payment(unpaid)


def test_transition_timestamps_follow_the_operations_clock(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    booked_at = future(0) - timedelta(days=2)
    order = booking.book_workshop_seat(client_user, session, now=booked_at)
    paid_at = booked_at + timedelta(minutes=5)
    booking.confirm_payment(order, now=paid_at)
    canceled_at = paid_at + timedelta(hours=1)

    booking.cancel_booking(order.bookings[0], practitioner, now=canceled_at)

    db.session.refresh(order)
    seat = order.bookings[0]
    assert (order.paid_at, seat.confirmed_at, seat.canceled_at) == (paid_at, paid_at, canceled_at)


def test_a_refused_purchase_still_hands_the_expired_seat_to_the_waitlist(practitioner):
    """The purchase releases the expired hold, the freed seat goes to the first in
    line, and the buyer is refused: the release and the offer stand regardless."""
    session = make_workshop(practitioner, seats=1, price_cents=1000)
    now = future(0)
    holder, waiting, buyer = make_user(), make_user(), make_user()
    booking.book_workshop_seat(holder, session, now=now)
    entry = booking.join_waitlist(waiting, session, now=now + timedelta(minutes=1))

    with pytest.raises(booking.SessionFull):
        booking.book_workshop_seat(buyer, session, now=now + timedelta(minutes=16))

    db.session.rollback()
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
    assert [b.user_id for b in entry.order.bookings] == [waiting.id]
    assert seat_invariant_violations() == []


def test_a_late_payment_on_an_expired_order_retakes_its_free_seat(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    now = future(0)
    order = booking.book_workshop_seat(client_user, session, now=now)
    assert booking.release_expired_holds(now=now + timedelta(hours=1)) == 1
    db.session.refresh(order)
    assert order.status == OrderStatus.EXPIRED

    booking.confirm_payment(order, reference="late", now=now + timedelta(hours=2))

    db.session.refresh(order)
    assert order.status == OrderStatus.PAID
    assert BookingStatus.CONFIRMED in {b.status for b in order.bookings}
    assert seat_invariant_violations() == []


@pytest.mark.parametrize("own_seat_paid", [True, False])
def test_buying_again_into_a_full_workshop_with_a_lapsed_hold_is_already_booked(
    practitioner, own_seat_paid
):
    """The buyer's second seat is refused as already booked, and the lapsed hold the
    refused purchase released stays released (its unit is rolled back, the release
    is done again on its own)."""
    session = make_workshop(practitioner, seats=2, price_cents=1000)
    now = future(0)
    buyer, holder = make_user(), make_user()
    lapsing = booking.book_workshop_seat(holder, session, now=now)
    own = booking.book_workshop_seat(buyer, session, now=now + timedelta(minutes=10))
    if own_seat_paid:
        booking.confirm_payment(own, now=now + timedelta(minutes=11))
    lapsing_id = lapsing.id

    with pytest.raises(booking.AlreadyBooked):
        booking.book_workshop_seat(buyer, session, now=now + timedelta(minutes=16))

    db.session.rollback()
    released = db.session.get(Order, lapsing_id)
    assert released.status == OrderStatus.EXPIRED
    assert released.bookings[0].cancel_reason == CancelReason.HOLD_EXPIRED
    db.session.refresh(session)
    assert session.current_participants == 1
    assert seat_invariant_violations() == []


def test_a_cancel_records_a_reason_member_and_keeps_typed_words_apart(practitioner, client_user):
    session = make_workshop(practitioner)
    seat = booking.purchase(client_user, session.service, session=session).bookings[0]
    assert seat.cancel_reason is None and seat.cancel_note == ""

    booking.cancel_booking(seat, practitioner, note="moving house")
    db.session.refresh(seat)
    assert seat.cancel_reason == CancelReason.CANCELED
    assert seat.cancel_note == "moving house"

    # The column admits nothing but a member: typed words cannot land there again.
    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE bookings SET cancel_reason = 'moving house' WHERE id = :id"),
            {"id": seat.id},
        )
    db.session.rollback()
