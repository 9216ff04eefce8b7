"""An API token's last use is recorded on every kind of request, never inside a
booking's transaction: the uses a process sees are written together, at most once a
minute (api_tokens.LastUses)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from portal import api_tokens
from portal.extensions import db
from portal.models import ApiToken, Booking
from tests.fixtures.factories import make_user, make_workshop


@contextmanager
def transactions():
    """Counts the transactions that wrote: commits after at least one write statement."""
    seen = {"commits": 0, "wrote": False}

    def statement(conn, cursor, sql, *args):
        # A WITH may hold the INSERTs (the purchase on PostgreSQL: booking/express.py).
        first = sql.lstrip().split(" ", 1)[0].upper()
        if first in {"INSERT", "UPDATE", "DELETE"} or "INSERT INTO" in sql:
            seen["wrote"] = True

    def commit(conn):
        if seen["wrote"]:
            seen["commits"] += 1
        seen["wrote"] = False

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def last_used(api) -> object:
    """The stored last use, once the process has written what it holds (as it does a
    minute after its last write)."""
    api_tokens.write_last_uses(due_only=False)
    db.session.commit()
    prefix = api.token.split("_")[1]
    return db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.prefix == prefix))


def test_a_booking_writes_its_tokens_use_outside_its_transaction(api_as, practitioner):
    session = make_workshop(practitioner, seats=3)
    buyer = make_user()
    api = api_as(buyer)
    body = {"service_id": session.service_id, "service_session_id": session.id}
    buyer_id = buyer.id
    db.session.expunge_all()

    with transactions() as seen:
        response = api.post("/api/v1/orders", json=body)

    assert response.status_code == 201
    # The booking's transaction alone wrote; the token's use waits for the batch.
    assert seen["commits"] == 1
    prefix = api.token.split("_")[1]
    assert db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.prefix == prefix)) is None
    assert last_used(api) is not None
    assert db.session.scalar(select(Booking.id).where(Booking.user_id == buyer_id))


def test_a_refused_booking_and_a_read_still_record_the_tokens_use(api_as, practitioner):
    full = make_workshop(practitioner, seats=1)
    api_as(make_user()).post(
        "/api/v1/orders", json={"service_id": full.service_id, "service_session_id": full.id}
    )
    refused = api_as(make_user())
    response = refused.post(
        "/api/v1/orders", json={"service_id": full.service_id, "service_session_id": full.id}
    )
    assert response.status_code == 409
    assert last_used(refused) is not None

    reader = api_as(make_user())
    assert reader.get("/api/v1/services/").status_code == 200
    assert last_used(reader) is not None


def test_uses_are_written_together_once_the_minute_is_up(app, api_as):
    readers = [api_as(make_user()) for _ in range(3)]
    with transactions() as seen:
        for reader in readers:
            assert reader.get("/api/v1/services/").status_code == 200
    assert seen["commits"] == 0

    # A minute on since the process last wrote.
    app.extensions[api_tokens.LAST_USES].written_at -= 60
    with transactions() as seen:
        assert readers[0].get("/api/v1/services/").status_code == 200
    # One transaction wrote all three.
    assert seen["commits"] == 1
    db.session.commit()
    prefixes = [reader.token.split("_")[1] for reader in readers]
    stamps = db.session.scalars(
        select(ApiToken.last_used_at).where(ApiToken.prefix.in_(prefixes))
    ).all()
    assert len(stamps) == 3 and None not in stamps
