"""A waitlist offer taken with a class pass credit (#21): the seat held for the offer becomes the
pass's seat, one credit pays for it, the offer's unpaid order is canceled; the same rules as a
seat taken with a pass, and the same race with the offer lapsing as paying for it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import audit, booking
from portal.extensions import db
from portal.models import (
    SEAT_HOLDING,
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    ClassPass,
    ClassPassUse,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    ServiceSession,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.fixtures.client_portal import full_workshop
from tests.fixtures.concurrency import many_connections
from tests.fixtures.factories import future, make_user, seat_invariant_violations
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

app_config = many_connections


def _offered(practitioner, client, **workshop):
    """A full one-seat workshop whose seat is freed and offered to the client."""
    session, (holder,) = full_workshop(practitioner, seats=1, **workshop)
    entry = booking.join_waitlist(client, session)
    seat = db.session.scalars(
        select(Booking).where(Booking.user_id == holder.id, Booking.status.in_(SEAT_HOLDING))
    ).one()
    booking.cancel_booking(seat, holder)
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED
    return session, entry


def _client_seats(user, session) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking).where(
                Booking.user_id == user.id,
                Booking.service_session_id == session.id,
                Booking.status.in_(SEAT_HOLDING),
            )
        )
    )


def test_an_offer_is_taken_with_a_pass_credit(practitioner, client_user):
    session, entry = _offered(practitioner, client_user)
    offer_order_id = entry.order_id
    held = held_pass(client_user, make_class_pass(practitioner, services=[session.service]))
    assert booking.usable_passes(client_user, session.service, entry.offered_at) == [held]

    seat = booking.accept_offer_with_pass(entry, held)

    db.session.expire_all()
    assert seat.status == BookingStatus.CONFIRMED
    assert (seat.order_id, seat.price_charged_cents) == (held.order_id, 0)
    assert _client_seats(client_user, session) == [seat]
    assert db.session.get(ClassPass, held.id).credits_used == 1
    assert db.session.scalars(select(ClassPassUse.booking_id)).all() == [seat.id]
    assert db.session.get(WaitlistEntry, entry.id).status == WaitlistStatus.CLAIMED
    offer_order = db.session.get(Order, offer_order_id)
    assert offer_order.status == OrderStatus.CANCELED and offer_order.amount_paid == 0
    assert db.session.get(ServiceSession, session.id).current_participants == 1
    told = {
        (n.kind, n.user_id)
        for n in db.session.scalars(
            select(Notification).where(
                Notification.kind.in_(
                    (
                        NotificationKind.BOOKING_CONFIRMED,
                        NotificationKind.PRACTITIONER_WAITLIST_TAKEN,
                    )
                )
            )
        )
    }
    assert (NotificationKind.BOOKING_CONFIRMED, client_user.id) in told
    assert (NotificationKind.PRACTITIONER_WAITLIST_TAKEN, practitioner.id) in told
    accepted = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.WAITLIST_OFFER_ACCEPTED)
    ).one()
    assert accepted.after == {"order_id": offer_order_id, "class_pass_id": held.id}
    assert audit.verify().ok
    assert seat_invariant_violations() == []

    # A cancel in time gives the credit back and the seat to the next in line, as any pass seat.
    booking.cancel_booking(seat, client_user)
    db.session.expire_all()
    assert db.session.get(ClassPass, held.id).credits_used == 0
    assert seat_invariant_violations() == []


def test_a_refused_pass_leaves_the_offer_as_it_was(practitioner, client_user):
    session, entry = _offered(practitioner, client_user)
    other_class = make_group_class(practitioner, name="Other class")
    ineligible = held_pass(client_user, make_class_pass(practitioner, services=[other_class]))
    used_up = held_pass(
        client_user, make_class_pass(practitioner, credits=1, services=[session.service])
    )
    booking.book_with_pass(
        client_user, used_up, booking.create_session(session.service, start_time=future(days=20))
    )
    someone_elses = held_pass(
        make_user(), make_class_pass(practitioner, services=[session.service])
    )
    assert booking.usable_passes(client_user, session.service, entry.offered_at) == []

    with pytest.raises(booking.NotBookable, match="cannot be used"):
        booking.accept_offer_with_pass(entry, ineligible)
    with pytest.raises(booking.NotBookable, match="no credits left"):
        booking.accept_offer_with_pass(entry, used_up)
    with pytest.raises(booking.NotPermitted):
        booking.accept_offer_with_pass(entry, someone_elses)

    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == WaitlistStatus.OFFERED
    (held_seat,) = _client_seats(client_user, session)
    assert held_seat.status == BookingStatus.PENDING_PAYMENT
    assert held_seat.order_id == entry.order_id
    assert db.session.get(Order, entry.order_id).status == OrderStatus.PENDING
    assert db.session.scalar(select(func.sum(ClassPass.credits_used))) == 1
    assert seat_invariant_violations() == []


def test_a_lapsed_offer_cannot_be_taken_with_a_pass(practitioner, client_user):
    session, entry = _offered(practitioner, client_user)
    held = held_pass(client_user, make_class_pass(practitioner, services=[session.service]))
    after = entry.offer_expires_at + timedelta(seconds=1)

    with pytest.raises(booking.HoldExpired):
        booking.accept_offer_with_pass(entry, held, now=after)
    booking.release_expired_holds(now=after)
    with pytest.raises(booking.HoldExpired):
        booking.accept_offer_with_pass(entry, held, now=after)

    db.session.expire_all()
    assert db.session.get(ClassPass, held.id).credits_used == 0
    assert _client_seats(client_user, session) == []
    assert seat_invariant_violations() == []


ROUNDS = 6


def _race(app, first, second) -> dict[str, str]:
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
            except Exception as exc:  # noqa: BLE001 - any other error fails the test
                results[name] = f"crash: {exc!r}"
            finally:
                db.session.remove()

    db.session.commit()
    threads = [threading.Thread(target=run, args=item) for item in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    db.session.expire_all()
    return results


def test_the_offer_lapsing_races_accepting_it_with_a_pass(app, practitioner):
    """The worker lapses the offer as the client spends a credit on it: one of them wins whole.
    Either the seat is the pass's (one credit spent, the offer claimed) or it went back to the
    line (no credit spent, the offer expired, the next client offered the seat)."""
    outcomes = []
    for round_ in range(ROUNDS):
        client, next_client = make_user(), make_user()
        session, entry = _offered(practitioner, client, start=future(days=5 + round_))
        booking.join_waitlist(next_client, session)
        held = held_pass(client, make_class_pass(practitioner, services=[session.service]))
        deadline = entry.offer_expires_at
        entry_id, pass_id, session_id = entry.id, held.id, session.id

        def accept(entry_id=entry_id, pass_id=pass_id, deadline=deadline):
            booking.accept_offer_with_pass(
                db.session.get(WaitlistEntry, entry_id),
                db.session.get(ClassPass, pass_id),
                now=deadline - timedelta(seconds=1),
            )

        def lapse(deadline=deadline):
            booking.release_expired_holds(now=deadline + timedelta(seconds=1))

        results = _race(app, ("accept", accept), ("lapse", lapse))

        assert results["lapse"] == "ok", results
        assert results["accept"] in ("ok", "hold_expired"), results
        outcomes.append(results["accept"])
        credits_used = db.session.get(ClassPass, pass_id).credits_used
        status = db.session.get(WaitlistEntry, entry_id).status
        holders = {
            b.user_id: b
            for b in db.session.scalars(
                select(Booking).where(
                    Booking.service_session_id == session_id, Booking.status.in_(SEAT_HOLDING)
                )
            )
        }
        if results["accept"] == "ok":
            assert (credits_used, status) == (1, WaitlistStatus.CLAIMED)
            assert set(holders) == {client.id}
            assert holders[client.id].status == BookingStatus.CONFIRMED
        else:
            assert (credits_used, status) == (0, WaitlistStatus.EXPIRED)
            assert set(holders) == {next_client.id}
        assert db.session.get(ServiceSession, session_id).current_participants == 1
        assert seat_invariant_violations() == []
    print("accept outcomes:", outcomes)
