"""Class passes in the API (#21): GET /api/v1/passes, POST /api/v1/passes (buy, idempotent as
every API purchase) and POST /api/v1/passes/<id>/book (a seat paid with a credit); each
refusal a JSON 4xx with a code a program can act on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import ClassPass, ClassPassUse, Order, OrderStatus, Visibility
from tests.fixtures.api import error_of
from tests.fixtures.factories import future, make_user, seat_invariant_violations
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class

PASSES = "/api/v1/passes"


def book(api, pass_id: int, session_id: int):
    return api.post(f"{PASSES}/{pass_id}/book", json={"service_session_id": session_id})


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["code"] == code, error
    return error


@pytest.fixture
def breathwork(practitioner):
    return make_group_class(practitioner, name="Breathwork")


def test_a_client_lists_buys_and_spends_a_pass(api_as, practitioner, client_user, breathwork):
    yoga = make_group_class(practitioner, name="Yoga", tags=["group"])
    pass_service = make_class_pass(
        practitioner,
        credits=5,
        services=[breathwork],
        tag="group",
        per_week=3,
        price_cents=0,
        validity_days=60,
        name="Studio pass",
    )
    session = booking.create_session(yoga, start_time=future(days=3))
    api = api_as(client_user)
    assert api.get(PASSES).get_json() == {"passes": []}

    bought = api.post(PASSES, json={"service_id": pass_service.id})

    assert bought.status_code == 201, bought.get_json()
    body = bought.get_json()
    assert body["order"]["status"] == OrderStatus.PAID
    sold = body["class_pass"]
    assert (sold["name"], sold["credits"], sold["credits_left"], sold["usable"]) == (
        "Studio pass",
        5,
        5,
        True,
    )
    assert [s["name"] for s in sold["eligible_services"]] == ["Breathwork"]
    assert (sold["eligible_tag"], sold["per_day"], sold["per_week"]) == ("group", None, 3)
    assert sold["expires_at"] is not None

    seat = book(api, sold["id"], session.id)

    assert seat.status_code == 201, seat.get_json()
    assert seat.get_json()["booking"]["service_session_id"] == session.id
    assert seat.get_json()["booking"]["order_id"] == body["order"]["id"]
    (listed,) = api.get(PASSES).get_json()["passes"]
    assert (listed["id"], listed["credits_used"], listed["credits_left"]) == (sold["id"], 1, 4)
    assert seat_invariant_violations() == []


def test_buying_a_pass_with_an_idempotency_key_buys_once(api_as, practitioner, client_user):
    pass_service = make_class_pass(practitioner, tag="group", price_cents=9000)
    api = api_as(client_user)
    key = {"Idempotency-Key": "pass-retry-1"}

    first = api.post(PASSES, json={"service_id": pass_service.id}, headers=key)
    again = api.post(PASSES, json={"service_id": pass_service.id}, headers=key)

    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.get_json()["class_pass"]["usable"] is False  # pending until paid
    assert db.session.scalar(select(func.count(ClassPass.id))) == 1
    assert db.session.scalar(select(func.count(Order.id))) == 1
    other = make_class_pass(practitioner, tag="group", name="Other pass")
    reused = api.post(PASSES, json={"service_id": other.id}, headers=key)
    refused(reused, 422, "idempotency_key_reused")


def test_buying_refuses_what_is_not_a_pass_and_who_is_not_a_client(
    api_as, practitioner, client_user, breathwork
):
    refused(api_as(client_user).post(PASSES, json={"service_id": breathwork.id}), 404, "not_found")
    inactive = make_class_pass(practitioner, tag="group", name="Old pass")
    inactive.is_active = False
    db.session.commit()
    refused(api_as(client_user).post(PASSES, json={"service_id": inactive.id}), 404, "not_found")
    active = make_class_pass(practitioner, tag="group")
    refused(api_as(practitioner).post(PASSES, json={"service_id": active.id}), 403, "forbidden")
    refused(api_as(practitioner).get(PASSES), 403, "forbidden")
    refused(api_as(client_user).post(PASSES, json={}), 422, "validation_error")
    assert db.session.scalar(select(func.count(ClassPass.id))) == 0


def test_each_refusal_of_a_seat_has_its_code(api_as, practitioner, client_user, breathwork):
    api = api_as(client_user)
    other = make_group_class(practitioner, name="Other class")
    monday = future(days=14)
    monday -= timedelta(days=monday.weekday())
    first = booking.create_session(breathwork, start_time=monday.replace(hour=9))
    same_day = booking.create_session(breathwork, start_time=monday.replace(hour=15))
    next_week = booking.create_session(breathwork, start_time=monday.replace(hour=9) + timedelta(7))
    elsewhere = booking.create_session(other, start_time=monday.replace(hour=12))
    held = held_pass(
        client_user, make_class_pass(practitioner, credits=2, services=[breathwork], per_day=1)
    )
    assert book(api, held.id, first.id).status_code == 201

    refused(book(api, held.id, elsewhere.id), 409, "pass_not_eligible")
    refused(book(api, held.id, same_day.id), 409, "pass_limit_reached")
    assert book(api, held.id, next_week.id).status_code == 201
    used_up = refused(book(api, held.id, same_day.id), 409, "pass_used_up")
    assert used_up["message"] == "This pass has no credits left."

    assert db.session.scalar(select(func.count(ClassPassUse.id))) == 2
    assert seat_invariant_violations() == []


def test_an_expired_pass_is_a_409_credit_expired(api_as, practitioner, client_user, breathwork):
    held = held_pass(
        client_user, make_class_pass(practitioner, services=[breathwork], validity_days=30)
    )
    session = booking.create_session(breathwork, start_time=future(days=10))
    # Bought 31 days ago: its 30 days are over.
    held.created_at -= timedelta(days=31)
    held.expires_at -= timedelta(days=31)
    db.session.commit()
    api = api_as(client_user)

    refused(book(api, held.id, session.id), 409, "credit_expired")
    (listed,) = api.get(PASSES).get_json()["passes"]
    assert (listed["usable"], listed["credits_left"]) == (False, 10)
    assert db.session.scalar(select(func.count(ClassPassUse.id))) == 0


def test_another_clients_pass_and_a_private_session_do_not_exist(
    api_as, practitioner, client_user, breathwork
):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    session = booking.create_session(breathwork, start_time=future(days=3))
    private = booking.create_session(
        breathwork, start_time=future(days=4), visibility=Visibility.PRIVATE
    )
    stranger = make_user()

    refused(book(api_as(stranger), held.id, session.id), 404, "not_found")
    refused(book(api_as(client_user), held.id, private.id), 404, "not_found")
    refused(book(api_as(client_user), held.id, 2_000_000), 404, "not_found")
    assert api_as(stranger).get(PASSES).get_json() == {"passes": []}
    assert db.session.scalar(select(func.count(ClassPassUse.id))) == 0
