from __future__ import annotations

from datetime import timedelta

from portal import booking
from portal.database import utcnow
from portal.models import ServiceType
from tests.fixtures.factories import make_service, make_user


def test_home_pages_offer_the_video_room_shortly_before_start(
    client, auth, signed_in, practitioner
):
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=3, price_cents=0)
    soon = booking.create_session(service, start_time=utcnow() + timedelta(minutes=5))
    later = booking.create_session(service, start_time=utcnow() + timedelta(days=2))
    member = make_user()
    booking.book_workshop_seat(member, soon)
    booking.book_workshop_seat(member, later)

    signed_in(practitioner)
    page = client.get("/").data.decode()
    assert page.count("Join video room") == 1
    assert f"/sessions/{soon.id}/join" in page
    auth.logout()

    signed_in(member)
    page = client.get("/").data.decode()
    assert f"/sessions/{soon.id}/join" in page
    assert f"/sessions/{later.id}/join" not in page
    assert "Video room opens" in page


def test_the_top_bar_shows_each_role_its_links_and_nothing_else(client, signed_in, practitioner):
    signed_in(practitioner)
    page = client.get("/").data.decode()
    nav = page[page.index("<nav") : page.index("</nav>")]
    for link in ("Calendar", "Courses", "Services", "Orders", "Attendance", "Reports", "Feeds"):
        assert f">{link}</a>" in nav
    assert "<<<<<<<" not in nav and ">>>>>>>" not in nav and "=======" not in nav


def test_favicon_is_served_where_browsers_ask_for_it(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert b"<svg" in response.data


def test_client_home_leaves_out_a_session_already_completed(client, signed_in, practitioner):
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=3, price_cents=0)
    early = booking.create_session(service, start_time=utcnow() + timedelta(minutes=5))
    later = booking.create_session(service, start_time=utcnow() + timedelta(days=2))
    member = make_user()
    booking.book_workshop_seat(member, early)
    booking.book_workshop_seat(member, later)
    # The practitioner opened the room early, ran the session and closed it.
    booking.start_session(early)
    booking.complete_session(early)

    signed_in(member)
    page = client.get("/").data.decode()
    assert page.count(service.name) == 1
    assert f"/sessions/{later.id}/join" not in page and f"/sessions/{early.id}/join" not in page
    assert "You have no upcoming sessions." not in page
