"""GET /sessions/<id>/join: who gets a LiveKit token for a session's room, and when."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from flask import render_template_string, url_for
from livekit.api import TokenVerifier

from portal import booking
from portal.database import utcnow
from portal.models import Role, ServiceType
from tests.fixtures.factories import make_service, make_user
from tests.fixtures.livekit import API_KEY, API_SECRET, LIVEKIT_CONFIG, LIVEKIT_URL, confirmed_seat


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


def workshop_starting_in(practitioner, minutes: float):
    service = make_service(
        practitioner,
        ServiceType.WORKSHOP,
        max_participants=10,
        duration_minutes=60,
    )
    return booking.create_session(service, start_time=utcnow() + timedelta(minutes=minutes))


@pytest.fixture
def soon(practitioner):
    """A workshop starting in five minutes: its room is open."""
    return workshop_starting_in(practitioner, 5)


def join_url(session) -> str:
    return url_for("rooms.join", session_id=session.id)


def token_on(page: str) -> str:
    marker = 'data-token="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_a_client_with_a_confirmed_booking_gets_a_token_for_this_room_only(
    client, signed_in, soon, client_user
):
    confirmed_seat(client_user, soon)
    signed_in(client_user)

    response = client.get(join_url(soon))

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert LIVEKIT_URL in page
    assert response.headers["Cache-Control"] == "no-store"
    assert (
        "connect-src 'self' wss://livekit.portal.test"
        in response.headers["Content-Security-Policy"]
    )
    claims = TokenVerifier(API_KEY, API_SECRET).verify(token_on(page))
    assert claims.identity == client_user.livekit_identity
    assert claims.name == client_user.name
    assert claims.video.room_join is True
    assert claims.video.room == soon.livekit_room_name
    assert not claims.video.room_admin and not claims.video.room_create
    assert not claims.video.room_list and not claims.video.room_record


def test_the_token_is_short_lived(client, signed_in, soon, practitioner):
    signed_in(practitioner)

    page = client.get(join_url(soon)).get_data(as_text=True)

    raw = jwt.decode(token_on(page), options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] == 15 * 60


def test_the_practitioner_of_the_session_gets_a_token(client, signed_in, soon, practitioner):
    signed_in(practitioner)

    response = client.get(join_url(soon))

    assert response.status_code == 200
    claims = TokenVerifier(API_KEY, API_SECRET).verify(token_on(response.get_data(as_text=True)))
    assert claims.identity == practitioner.livekit_identity
    assert claims.video.room == soon.livekit_room_name


def video_grant(page: str) -> dict:
    """The token's video grant as LiveKit reads it (the JWT's `video` claim)."""
    token = token_on(page)
    TokenVerifier(API_KEY, API_SECRET).verify(token)
    return jwt.decode(token, options={"verify_signature": False})["video"]


def test_the_practitioner_hosts_with_room_admin_for_this_room_only(
    client, signed_in, soon, practitioner
):
    signed_in(practitioner)

    grant = video_grant(client.get(join_url(soon)).get_data(as_text=True))

    assert (grant["roomJoin"], grant["room"], grant["roomAdmin"]) == (
        True,
        soon.livekit_room_name,
        True,
    )
    # Mute or remove a guest in this room; create, list or record nothing anywhere.
    assert not any(grant.get(power) for power in ("roomCreate", "roomList", "roomRecord"))


def test_a_practitioner_booked_into_another_practitioners_session_is_no_admin_there(
    client, signed_in, soon
):
    colleague = make_user(Role.PRACTITIONER)
    confirmed_seat(colleague, soon)
    signed_in(colleague)

    grant = video_grant(client.get(join_url(soon)).get_data(as_text=True))

    assert grant["room"] == soon.livekit_room_name and grant["roomJoin"] is True
    assert not grant.get("roomAdmin")


def refused(response) -> str:
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You cannot join this video room" in page
    assert "data-token" not in page
    return page


def test_another_practitioner_is_refused(client, signed_in, soon):
    signed_in(make_user(Role.PRACTITIONER))

    page = refused(client.get(join_url(soon)))

    assert "Only the session&#39;s practitioner and clients with a confirmed booking" in page


def test_staff_are_refused(client, signed_in, soon, staff_user):
    signed_in(staff_user)

    refused(client.get(join_url(soon)))


def test_a_client_without_a_booking_is_refused(client, signed_in, soon, client_user):
    signed_in(client_user)

    refused(client.get(join_url(soon)))


def test_a_client_whose_booking_awaits_payment_is_refused(client, signed_in, soon, client_user):
    booking.book_workshop_seat(client_user, soon, now=soon.start_time - timedelta(days=1))
    signed_in(client_user)

    refused(client.get(join_url(soon)))


def test_a_client_who_canceled_is_refused(client, signed_in, soon, client_user):
    seat = confirmed_seat(client_user, soon)
    booking.cancel_booking(seat, client_user, now=soon.start_time - timedelta(days=1))
    signed_in(client_user)

    refused(client.get(join_url(soon)))


def test_the_room_opens_ten_minutes_before_the_start(client, signed_in, practitioner, client_user):
    too_early = workshop_starting_in(practitioner, 11)
    just_open = workshop_starting_in(make_user(Role.PRACTITIONER), 9)
    for session in (too_early, just_open):
        confirmed_seat(client_user, session)
    signed_in(client_user)

    page = refused(client.get(join_url(too_early)))
    assert "The video room is not open yet." in page
    assert "It opens at" in page
    assert client.get(join_url(just_open)).status_code == 200


class TestConfiguredLeadTime:
    @pytest.fixture
    def app_config(self):
        return {**LIVEKIT_CONFIG, "PORTAL_JOIN_MINUTES_BEFORE": 30}

    def test_the_lead_time_is_configurable(self, client, signed_in, practitioner):
        signed_in(practitioner)

        assert client.get(join_url(workshop_starting_in(practitioner, 25))).status_code == 200
        refused(client.get(join_url(workshop_starting_in(practitioner, 95))))


def test_the_room_closes_when_the_session_ends(client, signed_in, practitioner):
    ended = workshop_starting_in(practitioner, -61)
    signed_in(practitioner)

    page = refused(client.get(join_url(ended)))

    assert "This session has ended." in page


def test_a_running_session_can_be_joined_until_its_end(client, signed_in, practitioner):
    running = workshop_starting_in(practitioner, -50)
    booking.start_session(running)
    signed_in(practitioner)

    assert client.get(join_url(running)).status_code == 200


def test_a_completed_session_cannot_be_joined(client, signed_in, soon, practitioner):
    booking.start_session(soon)
    booking.complete_session(soon)
    signed_in(practitioner)

    assert "This session has ended." in refused(client.get(join_url(soon)))


def test_a_canceled_session_cannot_be_joined(client, signed_in, soon, practitioner):
    booking.cancel_session(soon, practitioner)
    signed_in(practitioner)

    assert "This session was canceled." in refused(client.get(join_url(soon)))


def test_an_unknown_session_is_not_found(client, signed_in, practitioner):
    signed_in(practitioner)

    assert client.get(url_for("rooms.join", session_id=999_999)).status_code == 404


def test_signing_in_comes_first(client, soon):
    response = client.get(join_url(soon))

    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


class TestWithoutLiveKit:
    @pytest.fixture
    def app_config(self):
        return {"LIVEKIT_URL": "", "LIVEKIT_API_KEY": "", "LIVEKIT_API_SECRET": ""}

    def test_the_page_says_video_is_not_configured(self, client, signed_in, soon, practitioner):
        signed_in(practitioner)

        response = client.get(join_url(soon))

        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Video is not configured" in page
        assert "data-token" not in page

    def test_refusals_still_come_first(self, client, signed_in, soon, client_user):
        signed_in(client_user)

        refused(client.get(join_url(soon)))


def test_the_page_loads_the_vendored_client_and_no_inline_script(
    client, signed_in, soon, practitioner
):
    signed_in(practitioner)

    page = client.get(join_url(soon)).get_data(as_text=True)

    assert "vendor/livekit-client-2.23.0.umd.min.js" in page
    assert "js/join.js" in page
    assert "<script>" not in page
    for asset in ("vendor/livekit-client-2.23.0.umd.min.js", "js/join.js"):
        with client.get(url_for("static", filename=asset)) as response:
            assert response.status_code == 200


def render_button(session) -> str:
    return render_template_string(
        '{% from "rooms/_join_button.html" import join_button %}{{ join_button(session) }}',
        session=session,
    ).strip()


def test_the_join_button_partial_follows_the_window(app, practitioner):
    open_now = workshop_starting_in(practitioner, 5)
    later = workshop_starting_in(practitioner, 120)
    over = workshop_starting_in(practitioner, -90)

    with app.test_request_context():
        assert f'href="{join_url(open_now)}"' in render_button(open_now)
        assert "opens 10 minutes before the start" in render_button(later)
        assert "href" not in render_button(later)
        assert render_button(over) == ""
