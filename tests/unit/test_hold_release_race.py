"""Payments made just as their holds expire, racing the hold release (issue #15, defect 1).

Hold release and payment must agree on one rule: whoever takes the order's lock
first decides. A payment that wins keeps its seats; a release that wins frees
them, and the payment then takes them again (nobody else wanted them here). So
every payer succeeds, and no paid order is left without its seat.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import SEAT_HOLDING, Booking, Order, OrderStatus, WaitlistEntry, WaitlistStatus
from tests.fixtures.concurrency import many_connections, race
from tests.fixtures.factories import future, make_user, make_workshop, seat_invariant_violations

app_config = many_connections

PAYERS = 36
RELEASERS = 12


def _pay(order_id: int, at):
    def pay():
        booking.confirm_payment(db.session.get(Order, order_id), reference="late", now=at)

    return pay


def _release(at):
    def release():
        booking.release_expired_holds(now=at)

    return release


def _paid_orders_without_their_seat(order_ids: list[int]) -> list[int]:
    """Paid orders not holding exactly their one seat, or whose seat was canceled
    after it was confirmed (an expired hold released over a payment)."""
    seats = dict(
        db.session.execute(
            select(Booking.order_id, func.count(Booking.id))
            .where(Booking.order_id.in_(order_ids), Booking.status.in_(SEAT_HOLDING))
            .group_by(Booking.order_id)
        ).all()
    )
    paid = db.session.scalars(
        select(Order.id).where(Order.id.in_(order_ids), Order.status == OrderStatus.PAID)
    ).all()
    confirmed_then_canceled = db.session.scalars(
        select(Booking.order_id).where(
            Booking.order_id.in_(order_ids),
            Booking.confirmed_at.is_not(None),
            Booking.status.not_in(SEAT_HOLDING),
        )
    ).all()
    return sorted({o for o in paid if seats.get(o) != 1} | set(confirmed_then_canceled))


def test_a_payment_as_its_hold_expires_never_loses_its_seat(app, practitioner):
    session = make_workshop(practitioner, seats=PAYERS + 4, price_cents=3000)
    booked_at = future(0) - timedelta(days=1)
    orders = [
        booking.book_workshop_seat(make_user(), session, now=booked_at).id for _ in range(PAYERS)
    ]
    deadline = db.session.get(Order, orders[0]).hold_expires_at
    at = deadline + timedelta(seconds=1)
    attempts = [_pay(order_id, at) for order_id in orders]
    # Releasers spread among the payers, so some run before, some after, most during.
    for n in range(RELEASERS):
        attempts.insert(n * (len(attempts) // RELEASERS), _release(at))

    outcomes = race(app, attempts)
    db.session.expire_all()

    lost = _paid_orders_without_their_seat(orders)
    print(f"paid orders that lost their seat: {len(lost)} of {PAYERS}; outcomes {dict(outcomes)}")
    assert lost == []
    # Nobody else wanted the seats: a payer whose hold was released takes its seat again.
    assert outcomes == {"ok": PAYERS + RELEASERS}
    paid = db.session.scalars(select(Order).where(Order.id.in_(orders))).all()
    assert {o.status for o in paid} == {OrderStatus.PAID}
    db.session.refresh(session)
    assert session.current_participants == PAYERS <= session.max_participants
    assert seat_invariant_violations() == []


def _accept(entry_id: int, at):
    def accept():
        booking.accept_offer(db.session.get(WaitlistEntry, entry_id), now=at)

    return accept


def test_accepting_an_offer_as_it_lapses_keeps_the_seat_or_refuses_cleanly(app, practitioner):
    """The same meeting for a free workshop's waitlist offers: accept_offer pays the
    offer's order, so it takes the order's lock before the release can."""
    seats = PAYERS // 2
    session = make_workshop(practitioner, seats=seats, price_cents=0)
    start = future(0) - timedelta(days=1)
    holders = [booking.book_workshop_seat(make_user(), session, now=start) for _ in range(seats)]
    entries = [
        booking.join_waitlist(make_user(), session, now=start + timedelta(minutes=1)).id
        for _ in range(seats)
    ]
    freed_at = start + timedelta(minutes=2)
    for order in holders:
        booking.cancel_booking(order.bookings[0], practitioner, now=freed_at)
    offers = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.id.in_(entries))).all()
    assert {e.status for e in offers} == {WaitlistStatus.OFFERED}
    deadline = offers[0].offer_expires_at
    attempts = [_accept(entry_id, deadline - timedelta(seconds=1)) for entry_id in entries]
    for n in range(RELEASERS):
        attempts.insert(n * (len(attempts) // RELEASERS), _release(deadline + timedelta(seconds=1)))

    outcomes = race(app, attempts)
    db.session.expire_all()

    assert set(outcomes) <= {"ok", "HoldExpired"}
    assert outcomes["ok"] + outcomes["HoldExpired"] == seats + RELEASERS
    offers = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.id.in_(entries))).all()
    claimed = [e for e in offers if e.status == WaitlistStatus.CLAIMED]
    assert len(claimed) == outcomes["ok"] - RELEASERS
    assert {e.status for e in offers} <= {WaitlistStatus.CLAIMED, WaitlistStatus.EXPIRED}
    orders = [e.order_id for e in offers]
    assert _paid_orders_without_their_seat(orders) == []
    for entry in offers:
        held = [b for b in entry.order.bookings if b.status in SEAT_HOLDING]
        assert len(held) == (1 if entry.status == WaitlistStatus.CLAIMED else 0)
    print(f"offers claimed {len(claimed)}, lapsed {seats - len(claimed)}; {dict(outcomes)}")
    assert seat_invariant_violations() == []
