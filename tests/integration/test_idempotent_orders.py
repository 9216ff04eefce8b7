"""A retried purchase buys once (#15 defect 6): Idempotency-Key on POST /api/v1/orders,
and a one-time token in the HTML buy forms."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import api_tokens
from portal.extensions import db
from portal.models import IdempotentPurchase, Order, ServiceType
from tests.fixtures.api import error_of
from tests.fixtures.factories import make_service, make_user, make_workshop
from tests.fixtures.http_load import Call, send

ORDERS = "/api/v1/orders"


@pytest.fixture
def bundle(practitioner):
    yoga = make_service(practitioner, name="Yoga")
    return make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 2)])


def orders() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Order))


def test_the_same_key_and_body_return_the_first_answer_and_buy_once(api_as, client_user, bundle):
    api = api_as(client_user)
    key = {"Idempotency-Key": "3f0c1d7e-retry"}
    first = api.post(ORDERS, json={"service_id": bundle.id}, headers=key)
    assert first.status_code == 201

    again = api.post(ORDERS, json={"service_id": bundle.id}, headers=key)

    assert again.status_code == 201 and again.data == first.data
    assert orders() == 1


def test_the_first_answer_is_given_again_even_after_the_order_changed(
    api_as, client_user, practitioner, bundle
):
    api = api_as(client_user)
    key = {"Idempotency-Key": "k1"}
    first = api.post(ORDERS, json={"service_id": bundle.id}, headers=key)
    order_id = first.get_json()["order"]["id"]
    assert api_as(practitioner).post(f"{ORDERS}/{order_id}/mark-paid").status_code == 200

    again = api.post(ORDERS, json={"service_id": bundle.id}, headers=key)
    assert again.data == first.data and first.get_json()["order"]["status"] == "pending"


def test_without_a_key_or_with_another_key_each_request_buys(api_as, client_user, bundle):
    api = api_as(client_user)
    api.post(ORDERS, json={"service_id": bundle.id})
    api.post(ORDERS, json={"service_id": bundle.id})
    api.post(ORDERS, json={"service_id": bundle.id}, headers={"Idempotency-Key": "a"})
    api.post(ORDERS, json={"service_id": bundle.id}, headers={"Idempotency-Key": "b"})
    assert orders() == 4


def test_the_same_key_with_another_body_is_a_422(api_as, client_user, practitioner, bundle):
    api = api_as(client_user)
    other = make_service(practitioner, ServiceType.BUNDLE, name="Other")
    key = {"Idempotency-Key": "k"}
    api.post(ORDERS, json={"service_id": bundle.id}, headers=key)

    refused = api.post(ORDERS, json={"service_id": other.id}, headers=key)

    assert refused.status_code == 422
    assert error_of(refused)["code"] == "idempotency_key_reused"
    assert orders() == 1


def test_keys_are_per_user(api_as, client_user, bundle):
    key = {"Idempotency-Key": "shared"}
    mine = api_as(client_user).post(ORDERS, json={"service_id": bundle.id}, headers=key)
    theirs = api_as(make_user()).post(ORDERS, json={"service_id": bundle.id}, headers=key)
    assert mine.get_json()["order"]["id"] != theirs.get_json()["order"]["id"]
    assert orders() == 2


def test_a_key_older_than_a_day_buys_afresh(api_as, client_user, bundle):
    api = api_as(client_user)
    key = {"Idempotency-Key": "yesterday"}
    api.post(ORDERS, json={"service_id": bundle.id}, headers=key)
    record = db.session.scalar(select(IdempotentPurchase))
    record.created_at -= timedelta(hours=24, seconds=1)
    db.session.commit()

    again = api.post(ORDERS, json={"service_id": bundle.id}, headers=key)
    assert again.status_code == 201 and orders() == 2
    assert db.session.scalar(select(func.count()).select_from(IdempotentPurchase)) == 1


def test_a_refused_purchase_keeps_no_key_so_a_retry_tries_again(api_as, client_user, practitioner):
    session = make_workshop(practitioner, seats=1)
    api = api_as(client_user)
    api_as(make_user()).post(
        ORDERS, json={"service_id": session.service_id, "service_session_id": session.id}
    )
    body = {"service_id": session.service_id, "service_session_id": session.id}
    assert api.post(ORDERS, json=body, headers={"Idempotency-Key": "k"}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(IdempotentPurchase)) == 0


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_unusable_key_is_a_422(api_as, client_user, bundle, key):
    response = api_as(client_user).post(
        ORDERS, json={"service_id": bundle.id}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422 and orders() == 0


def test_the_spec_documents_the_header(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][ORDERS]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is False
    assert header["schema"]["maxLength"] == 255


def test_concurrent_requests_with_one_key_make_one_order(http_server, client_user, bundle):
    """Twenty copies of one request at once, as a client retrying over a bad link does."""
    token = api_tokens.issue_token(client_user, "race")[1]
    call = Call("POST", ORDERS, token, {"service_id": bundle.id}, {"Idempotency-Key": "race"})
    db.session.commit()
    barrier = threading.Barrier(20)
    answers, lock = [], threading.Lock()

    def run():
        barrier.wait(timeout=60)
        answer = send(http_server.url, call)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=run) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == 20
    assert {status for status, _body in answers} == {201}
    assert len({body["order"]["id"] for _status, body in answers}) == 1
    assert orders() == 1
    print(f"20 concurrent requests with one key: {orders()} order, statuses all 201")


# -- the HTML buy forms ---------------------------------------------------------------------


def buy_form(page: str) -> dict:
    token = re.search(r'name="purchase_token" value="([^"]+)"', page).group(1)
    return {"purchase_token": token}


def test_a_double_submitted_buy_form_makes_one_order(signed_in, client_user, bundle):
    web = signed_in(client_user)
    page = web.get(f"/book/services/{bundle.id}").get_data(as_text=True)
    form = buy_form(page)

    first = web.post(f"/book/packages/{bundle.id}/buy", data=form)
    second = web.post(f"/book/packages/{bundle.id}/buy", data=form)

    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert orders() == 1
    assert web.get(second.headers["Location"]).status_code == 200


def test_each_rendering_of_the_page_buys_again(signed_in, client_user, bundle):
    web = signed_in(client_user)
    for _ in range(2):
        page = web.get(f"/book/services/{bundle.id}").get_data(as_text=True)
        web.post(f"/book/packages/{bundle.id}/buy", data=buy_form(page))
    assert orders() == 2


def test_a_double_submitted_workshop_seat_form_makes_one_order(
    signed_in, client_user, practitioner
):
    session = make_workshop(practitioner, seats=5)
    web = signed_in(client_user)
    page = web.get(f"/book/services/{session.service_id}").get_data(as_text=True)
    form = {**buy_form(page), "session_id": str(session.id)}
    first = web.post(f"/book/services/{session.service_id}/buy", data=form)
    second = web.post(f"/book/services/{session.service_id}/buy", data=form)
    assert second.headers["Location"] == first.headers["Location"] and orders() == 1
