"""With CSRF protection on (as in production), every practitioner form refuses a missing token."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.booking.timetable import add_client_to_session
from portal.extensions import db
from portal.models import ServiceSession, ServiceType
from tests.fixtures.factories import future, make_service, make_workshop


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


def sign_in(client, user):
    html = client.get("/auth/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": "correct horse battery", "csrf_token": token},
    )
    assert response.status_code == 302


def token_from(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_forms_without_a_token_are_refused(client, practitioner, client_user):
    sign_in(client, practitioner)
    session = make_workshop(practitioner)
    seat = add_client_to_session(session, client_user, practitioner)
    posts = [
        "/calendar/sessions/new",
        f"/calendar/sessions/{session.id}/edit",
        f"/calendar/sessions/{session.id}/cancel",
        f"/calendar/sessions/{session.id}/attendees",
        f"/calendar/sessions/{session.id}/attendees/{seat.id}/remove",
        "/practice/availability/overrides/remove",
        "/practice/services/new",
        "/practice/availability/weekly",
        "/practice/availability/overrides",
        "/practice/availability/settings",
        "/courses/new",
        "/feeds/rotate",
        "/feeds/revoke",
    ]
    for url in posts:
        response = client.post(url, data={"email": client_user.email})
        assert response.status_code == 400, url
    db.session.refresh(session)
    assert session.status.value == "scheduled" and session.current_participants == 1
    assert "The CSRF token is missing." in client.post("/feeds/rotate").text


def test_the_htmx_header_token_is_accepted(client, practitioner):
    sign_in(client, practitioner)
    workshop = make_service(practitioner, ServiceType.WORKSHOP)
    page = client.get("/calendar/").text
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    start = future(days=6, hour=16).astimezone(practitioner.zone)
    data = {
        "service": str(workshop.id),
        "start_date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "duration": "60",
        "max_participants": "5",
    }
    response = client.post(
        "/calendar/sessions/new",
        data=data,
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert "HX-Location" in response.headers
    assert db.session.scalar(select(func.count(ServiceSession.id))) == 1
    form_token = token_from(client.get("/calendar/sessions/new").text)
    assert form_token
