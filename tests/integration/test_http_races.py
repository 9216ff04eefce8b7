"""Races through the real HTTP stack: the portal behind waitress on 127.0.0.1,
hundreds of clients on their own sockets and database connections. Where
Cal.com duplicates concurrent bookings, exactly the capacity gets through here."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from portal import api_tokens, audit, booking
from portal.extensions import db
from portal.models import (
    SEAT_HOLDING,
    AuditAction,
    AuditEntry,
    Booking,
    Notification,
    Order,
    ServiceType,
)
from tests.fixtures.factories import (
    future,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)
from tests.fixtures.http_load import Call, fire_together


def tokens_for(count: int) -> list[str]:
    return [api_tokens.issue_token(make_user(), "race")[1] for _ in range(count)]


def settle() -> None:
    """End this thread's read transaction so it sees what the server wrote."""
    db.session.commit()


def test_200_buyers_for_a_25_seat_workshop_get_25_seats_and_175_clear_refusals(
    http_server, practitioner
):
    session = make_workshop(practitioner, seats=25)
    body = {"service_id": session.service_id, "service_session_id": session.id}
    calls = [Call("POST", "/api/v1/orders", token, body) for token in tokens_for(200)]
    settle()

    outcomes = fire_together(http_server.url, calls)

    assert outcomes == Counter({"201": 25, "409 session_full": 175})
    settle()
    held = select(func.count(Booking.id)).where(
        Booking.service_session_id == session.id, Booking.status.in_(SEAT_HOLDING)
    )
    assert db.session.scalar(held) == 25
    # A buyer who read a free seat and lost it at the booking's lock (booking/express.py)
    # leaves no order and no message behind: 25 orders, two outbox rows each.
    assert db.session.scalar(select(func.count(Order.id))) == 25
    assert db.session.scalar(select(func.count(Notification.id))) == 50
    # One audit entry per seat, each naming a booking that exists, in a whole chain.
    booked = select(func.count(AuditEntry.id)).where(
        AuditEntry.action == AuditAction.BOOKING_CREATED,
        AuditEntry.object_id.in_(select(Booking.id)),
    )
    assert db.session.scalar(booked) == 25
    assert audit.verify().ok
    assert seat_invariant_violations() == []


def test_overlapping_one_on_one_requests_book_exactly_one(http_server, practitioner):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, duration_minutes=60)
    start = future(days=5, hour=13)
    calls = [
        Call(
            "POST",
            "/api/v1/orders",
            token,
            {"service_id": service.id, "start_time": start.replace(minute=5 * i).isoformat()},
        )
        for i, token in enumerate(tokens_for(12))
    ]
    settle()

    outcomes = fire_together(http_server.url, calls)

    assert outcomes == Counter({"201": 1, "409 slot_unavailable": 11})
    settle()
    assert seat_invariant_violations() == []


def test_two_credits_scheduled_into_the_last_slot_one_wins(http_server, practitioner):
    yoga = make_service(practitioner, name="Yoga")
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 1)])
    calls = []
    start = future(days=4, hour=9)
    for _ in range(2):
        owner = make_user()
        credit = booking.buy_credits(owner, bundle).bookings[0]
        token = api_tokens.issue_token(owner, "race")[1]
        calls.append(
            Call(
                "POST",
                f"/api/v1/bookings/{credit.id}/schedule",
                token,
                {"start_time": start.isoformat()},
            )
        )
    settle()

    outcomes = fire_together(http_server.url, calls)

    assert outcomes == Counter({"200": 1, "409 slot_unavailable": 1})
    settle()
    assert seat_invariant_violations() == []
