"""POST /api/v1/orders, /orders/<id>/mark-paid, /bookings/<id>/schedule and /cancel:
the five purchase types end to end, every role, every error code."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update

from portal import audit
from portal.database import utcnow
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, Booking, Order, Role, ServiceType, Visibility
from tests.fixtures.api import error_of
from tests.fixtures.factories import (
    future,
    make_course,
    make_service,
    make_user,
    make_workshop,
    seat_invariant_violations,
)

ORDER_KEYS = {"id", "status", "total_cents", "currency", "hold_expires_at"}
BOOKING_KEYS = {"id", "status", "service_id", "service_session_id", "start_time"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def buy(api, **body):
    return api.post("/api/v1/orders", json=body)


def mark_paid(api, order_id: int, **body):
    return api.post(f"/api/v1/orders/{order_id}/mark-paid", json=body or None)


def schedule(api, booking_id: int, start: datetime):
    return api.post(f"/api/v1/bookings/{booking_id}/schedule", json={"start_time": iso(start)})


def cancel(api, booking_id: int, **body):
    return api.post(f"/api/v1/bookings/{booking_id}/cancel", json=body or None)


def created(response) -> dict:
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"order", "bookings"}
    assert set(body["order"]) >= ORDER_KEYS
    assert all(set(b) >= BOOKING_KEYS for b in body["bookings"])
    return body


def ok(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code
    return error


@pytest.fixture
def apis(api_as, practitioner, client_user, staff_user):
    return {
        "client": api_as(client_user),
        "practitioner": api_as(practitioner),
        "staff": api_as(staff_user),
    }


# The five purchase types, end to end


def test_individual_session_order_pay_cancel(apis, practitioner, client_user):
    service = make_service(practitioner, price_cents=9000, cancellation_cutoff_hours=24)
    start = future(days=5, hour=15)

    body = created(buy(apis["client"], service_id=service.id, start_time=iso(start)))

    order = body["order"]
    assert order["status"] == "pending" and order["total_cents"] == 9000
    assert order["currency"] == "USD"
    hold = datetime.fromisoformat(order["hold_expires_at"])
    assert timedelta(minutes=14) < hold - utcnow() <= timedelta(minutes=15)
    [seat] = body["bookings"]
    assert seat["status"] == "pending_payment" and seat["service_id"] == service.id
    assert datetime.fromisoformat(seat["start_time"]) == start
    assert seat["start_time"].endswith("+00:00")

    paid = ok(mark_paid(apis["practitioner"], order["id"], reference="cash"))
    assert paid["order"]["status"] == "paid" and paid["order"]["hold_expires_at"] is None
    assert [b["status"] for b in paid["bookings"]] == ["confirmed"]

    canceled = ok(cancel(apis["client"], seat["id"], reason="moving house"))
    assert canceled["booking"]["status"] == "canceled" and canceled["credit"] is None
    assert db.session.get(Booking, seat["id"]).cancel_note == "moving house"
    assert seat_invariant_violations() == []


def test_workshop_seat_order_pay_cancel(apis, practitioner, client_user):
    session = make_workshop(practitioner, seats=3)

    body = created(
        buy(apis["client"], service_id=session.service_id, service_session_id=session.id)
    )

    [seat] = body["bookings"]
    assert seat["service_session_id"] == session.id
    paid = ok(mark_paid(apis["staff"], body["order"]["id"]))
    assert paid["bookings"][0]["status"] == "confirmed"
    detail = apis["practitioner"].get(f"/api/v1/sessions/{session.id}").get_json()
    assert detail["current_participants"] == 1
    assert ok(cancel(apis["practitioner"], seat["id"]))["booking"]["status"] == "canceled"
    detail = apis["practitioner"].get(f"/api/v1/sessions/{session.id}").get_json()
    assert detail["current_participants"] == 0 and detail["attendees"] == []


def test_course_enrollment_gives_one_booking_per_session(apis, practitioner):
    course = make_course(practitioner, sessions=4)

    body = created(buy(apis["client"], service_id=course.id))

    assert body["order"]["total_cents"] == 20000
    assert len(body["bookings"]) == 4
    assert len({b["service_session_id"] for b in body["bookings"]}) == 4
    starts = [datetime.fromisoformat(b["start_time"]) for b in body["bookings"]]
    assert starts == sorted(starts)
    paid = ok(mark_paid(apis["practitioner"], body["order"]["id"]))
    assert {b["status"] for b in paid["bookings"]} == {"confirmed"}
    third = body["bookings"][2]["id"]
    assert ok(cancel(apis["client"], third))["booking"]["status"] == "canceled"
    left = apis["client"].get(
        "/api/v1/calendar/?start=2000-01-01T00:00:00Z&end=2000-12-31T00:00:00Z"
    )
    assert left.status_code == 200


@pytest.mark.parametrize("kind", [ServiceType.PACKAGE, ServiceType.BUNDLE])
def test_credits_order_pay_schedule_cancel_returns_the_credit(apis, practitioner, kind):
    yoga = make_service(practitioner, name="Yoga", cancellation_cutoff_hours=24)
    massage = make_service(practitioner, name="Massage")
    components = [(yoga, 2), (massage, 1)] if kind == ServiceType.PACKAGE else [(yoga, 3)]
    credits = make_service(practitioner, kind, price_cents=30000, components=components)

    body = created(buy(apis["client"], service_id=credits.id))

    assert len(body["bookings"]) == 3
    assert {b["status"] for b in body["bookings"]} == {"draft"}
    assert {b["start_time"] for b in body["bookings"]} == {None}
    order_id = body["order"]["id"]
    paid = ok(mark_paid(apis["staff"], order_id))
    assert {b["status"] for b in paid["bookings"]} == {"draft"}

    yoga_credit = next(b for b in body["bookings"] if b["service_id"] == yoga.id)
    start = future(days=6, hour=17)
    scheduled = ok(schedule(apis["client"], yoga_credit["id"], start))["booking"]
    assert scheduled["status"] == "confirmed"
    assert datetime.fromisoformat(scheduled["start_time"]) == start
    assert datetime.fromisoformat(scheduled["end_time"]) == start + timedelta(minutes=60)
    event = apis["practitioner"].get(f"/api/v1/sessions/{scheduled['service_session_id']}")
    assert event.get_json()["session_type"] == f"{kind.value}_session"

    result = ok(cancel(apis["client"], yoga_credit["id"]))
    assert result["booking"]["status"] == "canceled"
    credit = result["credit"]
    assert credit["status"] == "draft" and credit["start_time"] is None
    assert credit["service_id"] == yoga.id and credit["order_id"] == order_id
    rescheduled = ok(schedule(apis["client"], credit["id"], start + timedelta(days=1)))
    assert rescheduled["booking"]["status"] == "confirmed"
    assert seat_invariant_violations() == []


def test_free_service_is_paid_at_once(apis, practitioner):
    service = make_service(practitioner, price_cents=0)
    body = created(buy(apis["client"], service_id=service.id, start_time=iso(future(days=3))))
    assert body["order"]["status"] == "paid" and body["order"]["hold_expires_at"] is None
    assert body["bookings"][0]["status"] == "confirmed"
    refused(mark_paid(apis["practitioner"], body["order"]["id"]), 409, "invalid_transition")


# Roles


def test_only_clients_buy(apis, practitioner):
    service = make_service(practitioner)
    for role in ("practitioner", "staff"):
        refused(buy(apis[role], service_id=service.id, start_time=iso(future())), 403, "forbidden")
    assert db.session.query(Order).count() == 0


def test_mark_paid_access(api_as, apis, practitioner, client_user):
    service = make_service(practitioner)
    order_id = created(buy(apis["client"], service_id=service.id, start_time=iso(future())))[
        "order"
    ]["id"]
    other_practitioner = make_user(Role.PRACTITIONER)

    refused(mark_paid(apis["client"], order_id), 403, "forbidden")
    refused(mark_paid(api_as(make_user()), order_id), 404, "not_found")
    refused(mark_paid(api_as(other_practitioner), order_id), 404, "not_found")
    refused(mark_paid(api_as(None), order_id), 401, "unauthorized")
    refused(mark_paid(apis["staff"], 424242), 404, "not_found")
    assert db.session.get(Order, order_id).status == "pending"
    assert ok(mark_paid(apis["practitioner"], order_id))["order"]["status"] == "paid"


def test_schedule_access(api_as, apis, practitioner):
    yoga = make_service(practitioner)
    bundle = make_service(practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 3)])
    first, second, third = created(buy(apis["client"], service_id=bundle.id))["bookings"]

    refused(schedule(api_as(make_user()), first["id"], future(days=4)), 404, "not_found")
    other_practitioner = make_user(Role.PRACTITIONER)
    refused(schedule(api_as(other_practitioner), first["id"], future(days=4)), 404, "not_found")
    refused(schedule(apis["practitioner"], first["id"], future(days=4)), 403, "forbidden")
    refused(schedule(api_as(None), first["id"], future(days=4)), 401, "unauthorized")
    assert ok(schedule(apis["client"], first["id"], future(days=4)))["booking"]["start_time"]
    assert ok(schedule(apis["staff"], second["id"], future(days=5)))["booking"]["start_time"]
    refused(schedule(apis["client"], 987654, future(days=4)), 404, "not_found")


def test_cancel_access(api_as, apis, practitioner):
    session = make_workshop(practitioner, seats=5)
    seats = [
        created(buy(apis["client"], service_id=session.service_id, service_session_id=session.id))
    ]
    seat_id = seats[0]["bookings"][0]["id"]
    other_practitioner = make_user(Role.PRACTITIONER)

    refused(cancel(api_as(make_user()), seat_id), 404, "not_found")
    refused(cancel(api_as(other_practitioner), seat_id), 404, "not_found")
    refused(cancel(api_as(None), seat_id), 401, "unauthorized")
    assert ok(cancel(apis["staff"], seat_id))["booking"]["status"] == "canceled"
    refused(cancel(apis["client"], seat_id), 409, "invalid_transition")


# Error codes


def test_session_full(api_as, apis, practitioner):
    session = make_workshop(practitioner, seats=1)
    created(buy(apis["client"], service_id=session.service_id, service_session_id=session.id))
    response = buy(
        api_as(make_user()), service_id=session.service_id, service_session_id=session.id
    )
    assert "full" in refused(response, 409, "session_full")["message"]


def test_a_private_session_is_not_for_sale(apis, practitioner):
    # As on the shop's pages: a private session is its practitioner's to fill.
    session = make_workshop(practitioner, seats=5)
    session.visibility = Visibility.PRIVATE
    db.session.commit()
    response = buy(apis["client"], service_id=session.service_id, service_session_id=session.id)
    error = refused(response, 422, "validation_error")
    assert "service_session_id" in error["fields"]
    assert db.session.query(Order).count() == 0


def test_already_booked(apis, practitioner):
    session = make_workshop(practitioner, seats=5)
    body = {"service_id": session.service_id, "service_session_id": session.id}
    created(buy(apis["client"], **body))
    error = refused(buy(apis["client"], **body), 409, "already_booked")
    # The unique index refused the second seat: its order went with it.
    assert error["message"] == f"You already hold a seat in {session.display_title}."
    assert db.session.query(Order).count() == 1
    assert seat_invariant_violations() == []


def test_buying_again_into_a_full_workshop_with_a_lapsed_hold(api_as, apis, practitioner):
    """The purchase releases the lapsed hold before the second seat is refused: a 409,
    and the release stands though the purchase's unit rolled back."""
    session = make_workshop(practitioner, seats=2, price_cents=1000)
    body = {"service_id": session.service_id, "service_session_id": session.id}
    lapsing = created(buy(api_as(make_user()), **body))["order"]["id"]
    created(buy(apis["client"], **body))
    db.session.execute(
        update(Order).where(Order.id == lapsing).values(hold_expires_at=utcnow() - timedelta(1))
    )
    db.session.commit()

    refused(buy(apis["client"], **body), 409, "already_booked")

    db.session.expire_all()
    assert db.session.get(Order, lapsing).status == "expired"
    assert db.session.get(type(session), session.id).current_participants == 1
    assert seat_invariant_violations() == []


def test_a_workshop_seat_purchase_takes_seven_statements_three_on_postgresql(apis, practitioner):
    """Token, the session with its service (and, in the same statement, whether a
    required intake form is still unanswered: #23's EXISTS, booking.Unless), the order,
    the outbox rows telling the client and the practitioner (one INSERT for both), the
    booking, which locks the session and whose trigger also counts the seat and bumps the
    session's feed revision. On PostgreSQL the read also draws the order's id and the
    order and its outbox rows are written in the booking's statement (booking/express.py).
    The response is built from what was written, not read back. The token's last use is
    written apart, later (api_tokens.LastUses).

    Plus the audit log's entry (#23), appended last: on SQLite the chain's head read and
    the INSERT, just before COMMIT; on PostgreSQL the booking's statement calls
    audit_append (migration 0045) in its RETURNING, after the seat's lock."""
    session = make_workshop(practitioner, seats=5)
    body = {"service_id": session.service_id, "service_session_id": session.id}
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            statements.append(statement)

    commits: list[bool] = []

    def record_commit(conn):
        commits.append(True)

    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.engine, "commit", record_commit)
    try:
        order = created(buy(apis["client"], **body))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        event.remove(db.engine, "commit", record_commit)

    sqlite = db.engine.dialect.name == "sqlite"
    assert len(statements) == (7 if sqlite else 3), statements
    if sqlite:
        assert "FROM audit_entries" in statements[-2]
        assert statements[-1].startswith("INSERT INTO audit_entries")
    else:
        assert "audit_append(" in statements[-1] and "RETURNING" in statements[-1]
    assert "intake_forms" in statements[1] and "FROM service_sessions" in statements[1]
    assert sum("INSERT INTO notifications" in s for s in statements) == 1
    assert sum("INSERT INTO orders" in s for s in statements) == 1
    if not sqlite:
        assert "INSERT INTO bookings" in statements[2] and "FOR UPDATE" in statements[2]
    assert not any(s.startswith("UPDATE api_tokens") for s in statements)
    # PostgreSQL carries the token lookup's transaction on into the purchase; SQLite
    # ends it to begin afresh with the write lock (BEGIN IMMEDIATE).
    assert len(commits) == (2 if db.engine.dialect.name == "sqlite" else 1)
    assert order["bookings"][0]["start_time"] == session.start_time.isoformat()
    assert order["order"]["hold_expires_at"] is not None
    # The entry names the booking and order it wrote (PostgreSQL: ids drawn by the read),
    # and the chain verifies.
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.BOOKING_CREATED)
    ).one()
    assert entry.object_id == order["bookings"][0]["id"]
    assert entry.after["order_id"] == order["order"]["id"]
    assert entry.actor_id == entry.client_id
    assert audit.verify().ok


def test_slot_unavailable_names_the_field(api_as, apis, practitioner):
    service = make_service(practitioner)
    start = future(days=3, hour=15)
    created(buy(apis["client"], service_id=service.id, start_time=iso(start)))
    taken = buy(api_as(make_user()), service_id=service.id, start_time=iso(start))
    error = refused(taken, 409, "slot_unavailable")
    assert "start_time" in error["fields"]
    too_soon = buy(apis["client"], service_id=service.id, start_time=iso(utcnow()))
    refused(too_soon, 409, "slot_unavailable")


def test_a_start_off_the_slot_grid_is_refused(apis, practitioner):
    """Starts are offered every 30 minutes: 11:29:59 would take the slots either side."""
    service = make_service(practitioner, duration_minutes=60)
    off_grid = future(days=3, hour=11) + timedelta(minutes=29, seconds=59)
    error = refused(
        buy(apis["client"], service_id=service.id, start_time=iso(off_grid)),
        409,
        "slot_unavailable",
    )
    assert "start_time" in error["fields"]
    assert db.session.query(Order).count() == 0
    created(
        buy(apis["client"], service_id=service.id, start_time=iso(off_grid + timedelta(seconds=1)))
    )


def test_hold_expired(api_as, apis, practitioner):
    service = make_service(practitioner)
    start = future(days=3, hour=15)
    order_id = created(buy(apis["client"], service_id=service.id, start_time=iso(start)))["order"][
        "id"
    ]
    db.session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(hold_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    created(buy(api_as(make_user()), service_id=service.id, start_time=iso(start)))

    refused(mark_paid(apis["practitioner"], order_id), 409, "hold_expired")


def test_credit_expired(apis, practitioner):
    yoga = make_service(practitioner)
    bundle = make_service(
        practitioner, ServiceType.BUNDLE, price_cents=0, components=[(yoga, 1)], validity_days=30
    )
    body = created(buy(apis["client"], service_id=bundle.id))
    db.session.execute(
        update(Order)
        .where(Order.id == body["order"]["id"])
        .values(created_at=utcnow() - timedelta(days=31))
    )
    db.session.commit()
    refused(
        schedule(apis["client"], body["bookings"][0]["id"], future(days=2)), 409, "credit_expired"
    )


def test_not_bookable(apis, practitioner):
    retired = make_service(practitioner, is_active=False)
    refused(
        buy(apis["client"], service_id=retired.id, start_time=iso(future())), 409, "not_bookable"
    )
    started = make_workshop(practitioner, start=utcnow() - timedelta(minutes=10))
    refused(
        buy(apis["client"], service_id=started.service_id, service_session_id=started.id),
        409,
        "not_bookable",
    )
    service = make_service(practitioner, price_cents=0)
    seat = created(buy(apis["client"], service_id=service.id, start_time=iso(future())))[
        "bookings"
    ][0]
    refused(schedule(apis["client"], seat["id"], future(days=9)), 409, "not_bookable")


@pytest.mark.parametrize("client_requested", [False, True])
def test_cancellation_window_closed_for_the_client_not_the_practitioner(
    apis, practitioner, client_requested
):
    service = make_service(practitioner, price_cents=0, cancellation_cutoff_hours=24 * 30)
    seat = created(buy(apis["client"], service_id=service.id, start_time=iso(future(days=3))))[
        "bookings"
    ][0]
    refused(cancel(apis["client"], seat["id"]), 409, "cancellation_window_closed")
    canceled = ok(cancel(apis["practitioner"], seat["id"], client_requested=client_requested))
    assert canceled["booking"]["status"] == "canceled"
    assert db.session.get(Booking, seat["id"]).late_cancel is client_requested


@pytest.mark.parametrize(
    ("make_body", "field"),
    [
        (lambda s, w: {"service_id": s.id}, "start_time"),
        (lambda s, w: {"service_id": s.id, "start_time": "2030-01-01T10:00:00"}, "start_time"),
        (lambda s, w: {"service_id": s.id, "start_time": "soon"}, "start_time"),
        (lambda s, w: {"service_id": s.id, "start_time": 1893456000}, "start_time"),
        (lambda s, w: {"service_id": str(s.id), "start_time": iso(future())}, "service_id"),
        (lambda s, w: {"service_id": s.id, "start_time": iso(future()), "x": 1}, "x"),
        (lambda s, w: {"start_time": iso(future())}, "service_id"),
        (lambda s, w: {"service_id": 99999, "start_time": iso(future())}, "service_id"),
        (lambda s, w: {"service_id": w.service_id}, "service_session_id"),
        (
            lambda s, w: {"service_id": w.service_id, "service_session_id": 99999},
            "service_session_id",
        ),
        (
            lambda s, w: {
                "service_id": s.id,
                "service_session_id": w.id,
                "start_time": iso(future()),
            },
            "service_session_id",
        ),
        (
            lambda s, w: {
                "service_id": w.service_id,
                "service_session_id": w.id,
                "start_time": iso(future()),
            },
            "start_time",
        ),
    ],
)
def test_invalid_order_bodies_are_422_and_change_nothing(apis, practitioner, make_body, field):
    service = make_service(practitioner)
    workshop = make_workshop(practitioner, start=future(days=9))
    other_workshop = make_workshop(practitioner, start=future(days=10))
    body = make_body(service, workshop)
    if body.get("service_session_id") == workshop.id and body.get("service_id") == service.id:
        body["service_session_id"] = other_workshop.id

    error = refused(buy(apis["client"], **body), 422, "validation_error")

    assert field in error["fields"], error
    assert db.session.query(Order).count() == 0


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"service_id": 1,}', b"\xff\xfe"])
def test_malformed_json_is_400(apis, raw):
    response = apis["client"].post(
        "/api/v1/orders", data=raw, headers={"Content-Type": "application/json"}
    )
    refused(response, 400, "malformed_json")


@pytest.mark.parametrize("raw", [b"[]", b"3", b'"x"', b"null"])
def test_json_that_is_not_an_object_is_422(apis, raw):
    response = apis["client"].post(
        "/api/v1/orders", data=raw, headers={"Content-Type": "application/json"}
    )
    refused(response, 422, "validation_error")


def test_schedule_body_is_validated(apis):
    for body in ({}, {"start_time": "2030-01-01T10:00:00"}, {"start_time": None}):
        response = apis["client"].post("/api/v1/bookings/1/schedule", json=body)
        assert "start_time" in refused(response, 422, "validation_error")["fields"]
    empty = apis["client"].post("/api/v1/bookings/1/schedule")
    refused(empty, 422, "validation_error")


def test_cancel_and_mark_paid_take_an_optional_body(apis, practitioner):
    service = make_service(practitioner)
    body = created(buy(apis["client"], service_id=service.id, start_time=iso(future())))
    too_long = mark_paid(apis["practitioner"], body["order"]["id"], reference="x" * 121)
    assert "reference" in refused(too_long, 422, "validation_error")["fields"]
    empty = apis["practitioner"].post(f"/api/v1/orders/{body['order']['id']}/mark-paid")
    assert ok(empty)["order"]["status"] == "paid"
    wrong = cancel(apis["client"], body["bookings"][0]["id"], reason=5)
    refused(wrong, 422, "validation_error")
