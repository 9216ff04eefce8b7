"""The audit log: an entry for every instrumented operation, written with it or not at all;
append-only in the database; a hash chain that `audit verify` checks."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from portal import accounts, audit, booking
from portal.core.transactions import unit_of_work
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, Role, ServiceSession, ServiceType, User
from tests.fixtures.concurrency import race
from tests.fixtures.factories import future, make_service, make_user, make_workshop

A = AuditAction


def entries(*actions: AuditAction) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(db.session.scalars(query))


def test_booking_paying_and_canceling_each_leave_an_entry(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=2500)
    order = booking.book_workshop_seat(client_user, session)
    seat = order.bookings[0]
    booking.confirm_payment(order, reference="bank 42")
    booking.cancel_booking(seat, practitioner)

    created, paid, canceled = entries(A.BOOKING_CREATED, A.ORDER_PAID, A.BOOKING_CANCELED)
    assert (created.object_type, created.object_id) == ("booking", seat.id)
    assert created.practitioner_id == practitioner.id and created.client_id == client_user.id
    assert created.after["status"] == "pending_payment"
    assert created.actor_id is None  # no request: the system (here, the test) acted
    assert (paid.object_id, paid.before, paid.after["status"]) == (
        order.id,
        {"status": "pending"},
        "paid",
    )
    assert paid.after["total_cents"] == 2500
    assert canceled.actor_id == practitioner.id
    assert canceled.before == {"status": "confirmed"}
    assert canceled.after["status"] == "canceled"
    assert [e.seq for e in entries()] == list(range(1, len(entries()) + 1))


def test_sessions_and_services_leave_entries_with_values_before_and_after(practitioner):
    service = booking.save_service(
        practitioner,
        name="Yoga",
        service_type=ServiceType.WORKSHOP,
        price_cents=1000,
        currency="EUR",
        duration_minutes=60,
        max_participants=8,
    )
    booking.save_service(
        practitioner,
        service,
        name="Yin yoga",
        service_type=ServiceType.WORKSHOP,
        price_cents=1200,
        duration_minutes=60,
        max_participants=8,
    )
    session = booking.schedule_session(
        service, start_time=future(3), duration_minutes=60, max_participants=8
    )
    booking.update_session(
        session, start_time=future(4), duration_minutes=60, max_participants=6, title="Evening"
    )
    booking.cancel_session(session, practitioner)

    made, changed = entries(A.SERVICE_CREATED, A.SERVICE_UPDATED)
    assert made.before is None and made.after["name"] == "Yoga"
    assert (changed.before["name"], changed.after["name"]) == ("Yoga", "Yin yoga")
    assert (changed.before["price_cents"], changed.after["price_cents"]) == (1000, 1200)
    created, updated, canceled = entries(A.SESSION_CREATED, A.SESSION_UPDATED, A.SESSION_CANCELED)
    assert {e.object_id for e in (created, updated, canceled)} == {session.id}
    assert {e.practitioner_id for e in (created, updated, canceled)} == {practitioner.id}
    assert updated.before["max_participants"] == 8 and updated.after["max_participants"] == 6
    assert updated.after["start_time"] == future(4).isoformat()
    assert (canceled.before, canceled.after["status"]) == ({"status": "scheduled"}, "canceled")


def test_an_unchanged_service_leaves_no_entry(practitioner):
    fields = dict(
        name="Massage", service_type=ServiceType.INDIVIDUAL, price_cents=5000, duration_minutes=60
    )
    service = booking.save_service(practitioner, **fields)
    booking.save_service(practitioner, service, **fields)
    assert len(entries(A.SERVICE_CREATED, A.SERVICE_UPDATED)) == 1


def test_account_changes_leave_entries_without_personal_values(app, staff_user):
    user = accounts.create_user("new@example.com", "Nia New", Role.CLIENT, "a long pass phrase 9")
    accounts.change_password(user, "another long pass phrase 7")
    accounts.deactivate_user(user, by=staff_user)
    accounts.reactivate_user(user, by=staff_user)

    found = entries(
        A.ACCOUNT_CREATED,
        A.ACCOUNT_PASSWORD_CHANGED,
        A.ACCOUNT_DEACTIVATED,
        A.ACCOUNT_REACTIVATED,
    )
    assert [e.action for e in found] == [
        A.ACCOUNT_CREATED,
        A.ACCOUNT_PASSWORD_CHANGED,
        A.ACCOUNT_DEACTIVATED,
        A.ACCOUNT_REACTIVATED,
    ]
    assert {e.object_id for e in found} == {user.id}
    assert found[2].actor_id == staff_user.id
    stored = " ".join(str((e.before, e.after)) for e in found)
    assert "new@example.com" not in stored and "Nia" not in stored


def test_a_rolled_back_operation_writes_no_entry(practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    before = len(entries())

    @unit_of_work
    def book_then_fail():
        booking.book_workshop_seat(client_user, session)
        raise RuntimeError("the outer operation fails after the booking")

    with pytest.raises(RuntimeError):
        book_then_fail()

    assert len(entries()) == before
    # And the next operation continues the chain where it was.
    booking.book_workshop_seat(client_user, session)
    assert [e.seq for e in entries()] == list(range(1, before + 2))
    assert audit.verify().ok


def test_a_refused_operation_writes_no_entry(practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    booking.book_workshop_seat(client_user, session)
    before = len(entries())
    with pytest.raises(booking.SessionFull):
        booking.book_workshop_seat(make_user(), session)
    assert len(entries()) == before


def test_recording_outside_a_unit_of_work_is_refused(app):
    with pytest.raises(audit.AuditOutsideUnit):
        audit.record(A.NOTE_READ, "session_note", 1)


def test_the_chain_verifies_and_names_an_edited_entry(practitioner, client_user, runner):
    session = make_workshop(practitioner, seats=3)
    for _ in range(2):
        booking.book_workshop_seat(make_user(), session)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"intact: {len(entries())} entries" in result.output

    target = entries(A.BOOKING_CREATED)[0]
    with bypassing_the_trigger() as conn:
        conn.execute(
            text("UPDATE audit_entries SET practitioner_id = :p WHERE id = :id"),
            {"p": client_user.id, "id": target.id},
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {target.seq} (id {target.id}) does not match its hash" in result.output


def test_entries_of_every_shape_appended_in_one_commit_verify(practitioner):
    """Several entries in one unit of work, with text beyond ASCII, an empty before, nested
    values and numbers: on PostgreSQL the function hashes what Python verifies."""
    values = {
        "name": "Zoë's café — 瞑想 🧘",
        "quote": 'say "hi"\\ and \\u0041',
        "nested": {"list": [1, 2.5, None, True], "empty": {}},
        "price_cents": 1250,
    }

    @unit_of_work
    def record_three():
        audit.record(A.SERVICE_CREATED, "service", 1, practitioner_id=practitioner.id, after=values)
        audit.record(A.SERVICE_UPDATED, "service", 1, before=values, after={"name": "Ünï"})
        audit.record(A.NOTE_READ, "session_note", None)

    before = len(entries())
    record_three()
    found = entries()[before:]
    assert [e.action for e in found] == [A.SERVICE_CREATED, A.SERVICE_UPDATED, A.NOTE_READ]
    assert found[0].after == values and found[1].before == values
    assert found[2].before is None and found[2].object_id is None
    assert [e.seq for e in found] == list(range(before + 1, before + 4))
    assert audit.verify().ok


def test_the_text_sent_for_hashing_is_the_canonical_json_up_to_the_place():
    entry = {"action": "note_read", "object_id": 7, "after": {"é": 1.5}, "at": "2026-12-08"}
    assert audit.canonical_before_seq(entry) + "42}" == audit.canonical({**entry, "seq": 42})
    # A key after "seq" would no longer be last: refused rather than hashed wrongly.
    with pytest.raises(ValueError, match="sorts after"):
        audit.canonical_before_seq({**entry, "tags": []})


def test_the_chain_names_a_missing_entry(practitioner, runner):
    session = make_workshop(practitioner, seats=3)
    for _ in range(2):
        booking.book_workshop_seat(make_user(), session)
    middle = entries()[1]
    middle_id, middle_seq = middle.id, middle.seq
    with bypassing_the_trigger() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": middle_id})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {middle_seq} is missing" in result.output


def test_a_recomputed_hash_alone_does_not_hide_an_edit(practitioner, runner):
    """Rewriting one entry and its own hash breaks the link to the next entry."""
    session = make_workshop(practitioner, seats=3)
    booking.book_workshop_seat(make_user(), session)
    booking.book_workshop_seat(make_user(), session)
    first, second = entries()[:2]
    forged = {**audit._hashed_fields(first), "object_id": 999}
    with bypassing_the_trigger() as conn:
        conn.execute(
            text("UPDATE audit_entries SET object_id = 999, hash = :h WHERE id = :id"),
            {"h": audit.chain_hash(audit.GENESIS, forged), "id": first.id},
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"entry {second.seq} (id {second.id}) does not match" in result.output


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entries SET object_id = 7", "DELETE FROM audit_entries"],
)
def test_the_database_refuses_to_change_or_remove_an_entry(practitioner, statement):
    make_workshop(practitioner)
    count = len(entries())
    assert count > 0
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert len(entries()) == count


def test_truncate_is_refused_on_postgresql(app, practitioner):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    make_workshop(practitioner)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_entries"))


class bypassing_the_trigger:  # noqa: N801 - used as a context manager, like a function
    """What an attacker with the database's owner rights could do: lift the trigger, edit,
    and put it back. The chain is what catches it."""

    def __enter__(self):
        db.session.commit()
        self.conn = db.engine.connect()
        self.transaction = self.conn.begin()
        if self.conn.dialect.name == "sqlite":
            self.triggers = list(
                self.conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name = 'audit_entries'"
                    )
                )
            )
            for name, _sql in self.triggers:
                self.conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            self.conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        return self.conn

    def __exit__(self, *exc):
        if self.conn.dialect.name == "sqlite":
            for _name, sql in self.triggers:
                self.conn.execute(text(sql))
        else:
            self.conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
        self.transaction.commit()
        self.conn.close()
        # Ends the session's read transaction too: its snapshot predates the edit.
        db.session.commit()


@pytest.fixture
def app_config():
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 12, "max_overflow": 0}}


def test_concurrent_appends_keep_the_chain_whole(app, practitioner):
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=50)
    session = booking.create_session(service, start_time=future())
    session_id, client_ids = session.id, [make_user().id for _ in range(10)]
    before = len(entries())

    def buy(client_id: int) -> None:
        # Loaded in the racing thread's own session: the test's objects stay in its own.
        booking.book_workshop_seat(
            db.session.get(User, client_id), db.session.get(ServiceSession, session_id)
        )

    outcomes = race(app, [lambda c=c: buy(c) for c in client_ids])

    assert outcomes == {"ok": 10}
    found = entries()
    assert len(found) == before + 10
    assert [e.seq for e in found] == list(range(1, len(found) + 1))
    assert audit.verify().ok


def test_appends_from_two_connections_wait_for_each_other(app, practitioner):
    """The second writer reads the head only after the first one committed: held open
    between its INSERT and COMMIT, the first blocks the second's append."""
    session_id = make_workshop(practitioner, seats=5).id
    other_id = make_workshop(practitioner, seats=5, start=future(8)).id
    first_appended, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer():
        with app.app_context():
            try:

                @unit_of_work
                def book_and_wait():
                    booking.book_workshop_seat(
                        make_user(), db.session.get(ServiceSession, session_id)
                    )
                    db.session.flush()
                    audit._append_pending(db.session())
                    first_appended.set()
                    release.wait(10)

                book_and_wait()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    db.session.commit()
    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert first_appended.wait(10)
    second = threading.Thread(
        # Another session: on PostgreSQL only the chain's lock can make it wait.
        target=lambda: _book_in_thread(app, other_id, errors),
    )
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second append did not wait for the first"
    release.set()
    thread.join(10)
    second.join(10)
    assert not errors
    assert audit.verify().ok
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == len(entries())


def _book_in_thread(app, session_id, errors):
    with app.app_context():
        try:
            booking.book_workshop_seat(make_user(), db.session.get(ServiceSession, session_id))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.session.remove()
