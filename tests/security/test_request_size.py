"""MAX_CONTENT_LENGTH (PORTAL_MAX_CONTENT_LENGTH): a body past the limit is refused with a
413 before any of it is used, on pages, the JSON API and the LiveKit webhook.

Each over-large request below is one the portal would carry out at a normal size, so
only its size can be the reason it is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.config import build_config
from portal.extensions import db
from portal.models import ProcessedRoomEvent, RoomParticipant
from tests.fixtures.api import error_of
from tests.fixtures.factories import PASSWORD, future, make_workshop
from tests.fixtures.livekit import LIVEKIT_CONFIG, confirmed_seat
from tests.fixtures.security import missing_security_headers, sign_in, snapshot

LIMIT = 8 * 1024


@pytest.fixture
def app_config(monkeypatch):
    # Set the way an operator sets it: in the environment the config is read from.
    monkeypatch.setenv("PORTAL_MAX_CONTENT_LENGTH", str(LIMIT))
    return dict(LIVEKIT_CONFIG)


def test_the_limit_defaults_to_one_mebibyte(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_MAX_CONTENT_LENGTH", raising=False)
    assert build_config(str(tmp_path))["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_the_limit_comes_from_the_environment(app):
    assert app.config["MAX_CONTENT_LENGTH"] == LIMIT


def order_body(session) -> dict:
    return {"service_id": session.service_id, "service_session_id": session.id}


def test_an_over_large_api_body_is_a_413_in_the_api_error_shape(api_as, client_user, practitioner):
    session = make_workshop(practitioner, seats=5)
    api = api_as(client_user)
    # Trailing whitespace keeps it a valid order, only too big.
    padded = json.dumps(order_body(session)) + " " * LIMIT
    before = snapshot()

    response = api.post("/api/v1/orders", data=padded, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "request_too_large"
    assert f"{LIMIT:,} bytes" in error["message"]
    assert snapshot() == before

    assert api.post("/api/v1/orders", json=order_body(session)).status_code == 201


def change_password_form(**extra) -> dict:
    return {
        "current_password": PASSWORD,
        "new_password": "a fresh passphrase",
        "confirm_password": "a fresh passphrase",
        **extra,
    }


def test_an_over_large_form_is_a_413_page_and_changes_nothing(app, client_user):
    browser = sign_in(app, client_user)
    before = snapshot()

    response = browser.post("/auth/password", data=change_password_form(notes="x" * LIMIT))

    assert response.status_code == 413
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Request too large" in page
    assert f"{LIMIT:,} bytes" in page
    assert missing_security_headers(response) == []
    assert snapshot() == before

    assert browser.post("/auth/password", data=change_password_form()).status_code == 302
    assert snapshot()["users"] != before["users"]


def test_an_over_large_upload_is_refused_too(app, client_user):
    """multipart/form-data is parsed by another path than urlencoded forms."""
    browser = sign_in(app, client_user)
    before = snapshot()

    response = browser.post(
        "/auth/password",
        data=change_password_form(notes="x" * LIMIT),
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert snapshot() == before


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_over_large_livekit_webhook_is_a_413_and_records_nothing(
    livekit, practitioner, client_user
):
    session = make_workshop(practitioner, seats=5, start=future(days=3))
    confirmed_seat(client_user, session)
    event = livekit.joined(session, "PA_big", client_user, at=session.start_time)
    # Signed by LiveKit's key: only the size is wrong.
    event.participant.metadata = "m" * LIMIT

    response = livekit.post(event)

    assert response.status_code == 413
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "request body too large"}
    assert (count(ProcessedRoomEvent), count(RoomParticipant)) == (0, 0)

    event.participant.metadata = ""
    assert livekit.post(event).status_code == 200
    assert (count(ProcessedRoomEvent), count(RoomParticipant)) == (1, 1)
