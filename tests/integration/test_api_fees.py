"""GET /api/v1/fees and POST /api/v1/fees/<id>/waive (#20): a client sees what they owe on
their own orders, a practitioner lists their services' fees and waives one; every refusal
is a JSON error."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Fee, FeeStatus, Role
from tests.fixtures.api import error_of
from tests.fixtures.factories import make_user
from tests.fixtures.fees import NO_SHOW_FEE, owe_due_fees

FEE_KEYS = {
    "id",
    "order_id",
    "booking_id",
    "service_id",
    "kind",
    "status",
    "amount_cents",
    "currency",
    "failure",
    "waive_reason",
    "created_at",
    "settled_at",
}


def test_a_client_sees_the_fees_they_owe_on_their_own_orders_only(
    api_as, practitioner, client_user
):
    other = make_user()
    mine, theirs = owe_due_fees(practitioner, [client_user, other])

    answer = api_as(client_user).get("/api/v1/fees/")

    assert answer.status_code == 200
    body = answer.get_json()
    [fee] = body["fees"]
    assert set(fee) == FEE_KEYS
    assert (fee["id"], fee["order_id"], fee["kind"], fee["status"]) == (
        mine.id,
        mine.order_id,
        "no_show",
        "due",
    )
    assert (fee["amount_cents"], fee["currency"], fee["failure"]) == (
        NO_SHOW_FEE,
        "USD",
        "no card on file",
    )
    assert body["due_cents"] == {"USD": NO_SHOW_FEE}
    # Another client's order names nothing of theirs.
    assert api_as(client_user).get(f"/api/v1/fees/?order_id={theirs.order_id}").get_json() == {
        "fees": [],
        "due_cents": {},
    }


def test_a_practitioner_lists_their_services_fees_and_filters_them(
    api_as, practitioner, client_user
):
    fees = owe_due_fees(practitioner, [client_user, make_user()])
    other_practitioner = make_user(role=Role.PRACTITIONER)
    api = api_as(practitioner)

    listed = api.get("/api/v1/fees/?status=due").get_json()

    assert sorted(f["id"] for f in listed["fees"]) == sorted(f.id for f in fees)
    assert listed["due_cents"] == {"USD": 2 * NO_SHOW_FEE}
    assert api.get("/api/v1/fees/?status=waived").get_json()["fees"] == []
    assert api_as(other_practitioner).get("/api/v1/fees/").get_json()["fees"] == []
    refused = api_as(other_practitioner).get(f"/api/v1/fees/?practitioner_id={practitioner.id}")
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    bad = api.get("/api/v1/fees/?status=owed")
    assert bad.status_code == 422 and "status" in error_of(bad)["fields"]


def test_the_practitioner_waives_a_fee_and_only_once(api_as, practitioner, client_user):
    [fee] = owe_due_fees(practitioner, [client_user])
    api = api_as(practitioner)

    answer = api.post(f"/api/v1/fees/{fee.id}/waive", json={"reason": "first time"})

    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["id"], body["status"], body["waive_reason"]) == (fee.id, "waived", "first time")
    db.session.expire_all()
    assert db.session.get_one(Fee, fee.id).status == FeeStatus.WAIVED
    again = api.post(f"/api/v1/fees/{fee.id}/waive")
    assert again.status_code == 409 and error_of(again)["code"] == "invalid_transition"


def test_the_client_cannot_waive_their_fee_and_strangers_find_none(
    api_as, practitioner, client_user
):
    [fee] = owe_due_fees(practitioner, [client_user])

    mine = api_as(client_user).post(f"/api/v1/fees/{fee.id}/waive")
    stranger = api_as(make_user(role=Role.PRACTITIONER)).post(f"/api/v1/fees/{fee.id}/waive")
    missing = api_as(practitioner).post("/api/v1/fees/999999/waive")
    anonymous = api_as(None).post(f"/api/v1/fees/{fee.id}/waive")

    assert mine.status_code == 403 and error_of(mine)["code"] == "forbidden"
    assert stranger.status_code == 404 and error_of(stranger)
    assert missing.status_code == 404 and error_of(missing)
    assert anonymous.status_code == 401 and error_of(anonymous)
    db.session.expire_all()
    assert db.session.get_one(Fee, fee.id).status == FeeStatus.DUE
