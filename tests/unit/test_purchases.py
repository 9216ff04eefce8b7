"""booking.purchase(): one entry point, the seed's five patterns behind it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.booking import AlreadyBooked, NotBookable, SessionFull, express
from portal.extensions import db
from portal.models import (
    BookingStatus,
    Notification,
    NotificationKind,
    Order,
    OrderStatus,
    ServiceSession,
    ServiceType,
    SessionType,
)
from tests.fixtures.factories import (
    future,
    make_course,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)


def test_individual_needs_a_start_time_and_no_session(practitioner, client_user):
    service = make_service(practitioner)
    with pytest.raises(booking.InvalidInput) as missing:
        booking.purchase(client_user, service)
    assert missing.value.field == "start_time"
    workshop = make_workshop(practitioner)
    with pytest.raises(booking.InvalidInput) as extra:
        booking.purchase(client_user, service, start_time=future(), session=workshop)
    assert extra.value.field == "service_session_id"

    order = booking.purchase(client_user, service, start_time=future(days=4))
    assert order.bookings[0].service_session.session_type == SessionType.INDIVIDUAL


def test_workshop_needs_one_of_its_own_sessions(practitioner, client_user):
    session = make_workshop(practitioner)
    other = make_workshop(practitioner, start=future(days=9))
    with pytest.raises(booking.InvalidInput) as missing:
        booking.purchase(client_user, session.service)
    assert missing.value.field == "service_session_id"
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, session.service, session=other)
    with pytest.raises(booking.InvalidInput) as extra:
        booking.purchase(client_user, session.service, session=session, start_time=future())
    assert extra.value.field == "start_time"

    order = booking.purchase(client_user, session.service, session=session)
    assert order.bookings[0].service_session_id == session.id


def test_course_package_bundle_take_the_service_alone(practitioner, client_user):
    course = make_course(practitioner, sessions=2)
    yoga = make_service(practitioner)
    package = make_service(practitioner, ServiceType.PACKAGE, components=[(yoga, 2)])
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 3)])
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, course, start_time=future())
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, package, session=make_workshop(practitioner))

    assert len(booking.purchase(client_user, course).bookings) == 2
    assert len(booking.purchase(client_user, package).bookings) == 2
    credits = booking.purchase(client_user, bundle).bookings
    assert len(credits) == 3 and {b.status for b in credits} == {BookingStatus.DRAFT}


# A seat bought by ids (the API's path) takes the express path when it can
# (booking/express.py); these hold it to the general path's guarantees.


def _notices_of(order_id: int) -> list[Notification]:
    return [
        n
        for n in db.session.scalars(select(Notification)).all()
        if n.payload.get("order_id") == order_id
    ]


def test_a_seat_by_ids_writes_its_order_booking_and_outbox_rows_together(practitioner, client_user):
    session = make_workshop(practitioner, seats=2, price_cents=1500)
    session_id = session.id
    order = booking.purchase_by_ids(client_user, session.service_id, service_session_id=session_id)
    order_id = order.id
    db.session.expunge_all()
    stored = db.session.get(Order, order_id)
    assert stored.status == OrderStatus.PENDING and stored.hold_expires_at is not None
    assert [(b.status, b.service_session_id) for b in stored.bookings] == [
        (BookingStatus.PENDING_PAYMENT, session_id)
    ]
    assert sorted(n.kind for n in _notices_of(order_id)) == sorted(
        [NotificationKind.BOOKING_PENDING_PAYMENT, NotificationKind.PRACTITIONER_NEW_BOOKING]
    )
    assert db.session.get(ServiceSession, session_id).current_participants == 1
    assert seat_invariant_violations() == []


def test_a_second_seat_by_ids_is_refused_and_leaves_nothing(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    title = session.display_title
    booking.purchase_by_ids(client_user, session.service_id, service_session_id=session.id)
    with pytest.raises(AlreadyBooked, match=f"You already hold a seat in {title}."):
        booking.purchase_by_ids(client_user, session.service_id, service_session_id=session.id)
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 2
    assert seat_invariant_violations() == []


def test_a_full_session_by_ids_first_frees_its_lapsed_holds(practitioner, client_user):
    session = make_workshop(practitioner, seats=1, price_cents=1500)
    lapsed = booking.purchase_by_ids(make_user(), session.service_id, service_session_id=session.id)
    later = lapsed.hold_expires_at + timedelta(minutes=1)
    lapsed_id = lapsed.id
    order_id = booking.purchase_by_ids(
        client_user, session.service_id, service_session_id=session.id, now=later
    ).id
    db.session.expunge_all()
    assert db.session.get(Order, lapsed_id).status == OrderStatus.EXPIRED
    assert db.session.get(Order, order_id).bookings[0].status == BookingStatus.PENDING_PAYMENT
    assert seat_invariant_violations() == []


def test_a_seat_in_a_session_that_is_not_scheduled_is_refused_by_ids(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    booking.cancel_session(session, practitioner)
    with pytest.raises(NotBookable):
        booking.purchase_by_ids(client_user, session.service_id, service_session_id=session.id)
    assert db.session.scalar(select(func.count(Order.id))) == 0


def test_a_seat_read_free_but_taken_before_its_lock_is_refused_and_leaves_nothing(
    practitioner, client_user, monkeypatch
):
    """The express path reads the session unlocked and locks it with the booking's INSERT
    (booking/express.py). Here the read is stale, as when another buyer takes the last
    seat in between: the INSERT takes nothing, the order and messages written before it
    are rolled back, and the general path refuses with its usual message."""
    session = make_workshop(practitioner, seats=1)
    booking.purchase_by_ids(make_user(), session.service_id, service_session_id=session.id)
    read = express.read_seat

    def stale_read(session_id, unless=None):
        row = read(session_id, unless)
        return SimpleNamespace(**{**row._mapping, "current_participants": 0})

    monkeypatch.setattr(express, "read_seat", stale_read)
    with pytest.raises(SessionFull):
        booking.purchase_by_ids(client_user, session.service_id, service_session_id=session.id)
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == 2
    assert seat_invariant_violations() == []


def test_a_seat_whose_session_moved_after_the_read_is_sold_at_its_new_time(
    practitioner, client_user, monkeypatch
):
    """A read that names an earlier time than the session now has never sells the seat
    at that time: the INSERT takes nothing, and the seat is sold again with the row
    locked, at the time the session has."""
    session = make_workshop(practitioner, seats=3)
    starts = session.start_time
    read = express.read_seat

    def stale_read(session_id, unless=None):
        row = read(session_id, unless)
        return SimpleNamespace(
            **{**row._mapping, "start_time": row.start_time - timedelta(hours=1)}
        )

    monkeypatch.setattr(express, "read_seat", stale_read)
    order = booking.purchase_by_ids(client_user, session.service_id, service_session_id=session.id)
    assert order.bookings[0].start_time == starts
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert db.session.get(ServiceSession, session.id).current_participants == 1
    assert seat_invariant_violations() == []


def test_the_one_statement_sale_is_compiled_once(app):
    """PostgreSQL's sale (booking/express.py) is one statement with the order and its
    messages in its WITH. SQLAlchemy caches a statement's compiled form only when it can
    key it: a multi-row VALUES cannot be, and compiling on every purchase cost more than
    the round trips it saved (#19)."""
    statement = express._sale_statement(("id", "user_id"), ("kind", "payload"), 2)
    assert statement._generate_cache_key() is not None
