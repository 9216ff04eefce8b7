"""Writes an operator cares about leave one log line each, with the ids to find them."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from portal import booking
from tests.fixtures.factories import future, make_user, make_workshop


def _lines(caplog, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def test_marking_a_payment_logs_the_order_and_its_bookings(practitioner, client_user, caplog):
    session = make_workshop(practitioner, seats=3, price_cents=2500)
    order = booking.book_workshop_seat(client_user, session)
    seat = order.bookings[0]

    with caplog.at_level(logging.INFO, logger="portal.booking"):
        booking.confirm_payment(order, reference="bank 42")

    assert _lines(caplog, "portal.booking.payments") == [
        f"payment marked: order {order.id}, user {client_user.id}, 2500 {order.currency}, "
        f"reference 'bank 42', bookings [{seat.id}]"
    ]


def test_a_refused_payment_logs_nothing(practitioner, client_user, caplog):
    order = booking.book_workshop_seat(client_user, make_workshop(practitioner, price_cents=900))
    booking.confirm_payment(order)

    with (
        caplog.at_level(logging.INFO, logger="portal.booking"),
        pytest.raises(booking.InvalidTransition),
    ):
        booking.confirm_payment(order)

    assert _lines(caplog, "portal.booking.payments") == []


def test_canceling_logs_who_canceled_what(practitioner, client_user, caplog):
    session = make_workshop(practitioner, seats=3)
    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    other = booking.book_workshop_seat(make_user(), session).bookings[0]

    with caplog.at_level(logging.INFO, logger="portal.booking"):
        booking.cancel_booking(seat, client_user)
        booking.cancel_session(session, practitioner)

    assert _lines(caplog, "portal.booking.cancellation") == [
        f"booking canceled: booking {seat.id}, order {seat.order_id}, session {session.id}, "
        f"by user {client_user.id}, late False, credit None, fee None",
        f"session canceled: session {session.id}, by user {practitioner.id}, bookings [{other.id}]",
    ]


def test_releasing_an_expired_hold_logs_the_booking(practitioner, client_user, caplog):
    session = make_workshop(practitioner, seats=2, price_cents=1000)
    now = future(0)
    seat = booking.book_workshop_seat(client_user, session, now=now).bookings[0]

    with caplog.at_level(logging.INFO, logger="portal.booking"):
        booking.release_expired_holds(now=now + timedelta(hours=1))

    assert _lines(caplog, "portal.booking.holds") == [
        f"hold released: booking {seat.id}, order {seat.order_id}, session {session.id}, "
        f"user {client_user.id}",
        # The order had no live booking left, so it ends expired (the #14 terminal state).
        f"order expired: order {seat.order_id}, its hold expired unpaid",
    ]
