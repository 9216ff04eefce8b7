"""Client portal pages query the database a bounded number of times, whatever the data size."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from portal import booking
from portal.extensions import db
from portal.models import Role, User
from tests.fixtures.client_portal import day_at, make_bundle
from tests.fixtures.factories import make_course, make_user, make_workshop


@contextmanager
def counted():
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _buy_some(client_id: int, practitioner_id: int, n: int, offset: int) -> None:
    client_user, practitioner = (
        db.session.get(User, client_id),
        db.session.get(User, practitioner_id),
    )
    for i in range(n):
        session = make_workshop(practitioner, seats=3, start=day_at(3 + offset + i, 8))
        booking.confirm_payment(booking.book_workshop_seat(client_user, session))
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=n + 1))
    # Only a paid order's credits can be scheduled (#20).
    order = booking.confirm_payment(order)
    booking.schedule_credit(order.bookings[0], day_at(30 + offset, 9))


def _page_queries(client, url: str) -> int:
    # The test client shares this app context's session: start the request with an empty one.
    db.session.expunge_all()
    with counted() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_my_bookings_does_not_grow_with_the_data(signed_in, practitioner, client_user):
    ids = client_user.id, practitioner.id
    _buy_some(*ids, 1, offset=0)
    client = signed_in(client_user)
    small = _page_queries(client, "/bookings/")
    _buy_some(*ids, 8, offset=10)
    large = _page_queries(client, "/bookings/")
    assert large == small


def test_course_page_does_not_grow_with_its_sessions(signed_in, practitioner, client_user):
    short = make_course(practitioner, sessions=2)
    long = make_course(make_user(Role.PRACTITIONER), sessions=2)
    for week in range(8):
        booking.create_session(long, start_time=day_at(40 + week, 7), sequence_number=3 + week)
    client = signed_in(client_user)
    long_url, short_url = f"/book/services/{long.id}", f"/book/services/{short.id}"
    assert _page_queries(client, long_url) == _page_queries(client, short_url)
