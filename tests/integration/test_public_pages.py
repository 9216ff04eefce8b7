"""A visitor's way in (#12): a practitioner's shareable page, the service page without
signing in, their own timezone, and signing in half-way with the choice kept."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from portal import booking, profiles
from portal.accounts import create_user
from portal.booking.factory import course_sessions
from portal.booking.working_hours import set_date_override, set_weekly_hours
from portal.core.errors import InvalidInput
from portal.extensions import db
from portal.models import (
    Booking,
    Order,
    PractitionerSlug,
    Role,
    ServiceType,
    User,
    Visibility,
    WaitlistEntry,
)
from tests.fixtures.client_portal import day_at, full_workshop, text_of
from tests.fixtures.factories import (
    make_course,
    make_service,
    make_user,
    make_workshop,
    open_all_week,
)
from tests.fixtures.l10n import read, shown, shown_money
from tests.integration.test_query_counts import counted


def waiting(user) -> list[int]:
    """The sessions whose waitlist `user` is on."""
    return list(
        db.session.scalars(
            select(WaitlistEntry.service_session_id).where(WaitlistEntry.user_id == user.id)
        )
    )


def holder_booking(user, session) -> Booking:
    return db.session.scalars(
        select(Booking).where(Booking.user_id == user.id, Booking.service_session_id == session.id)
    ).one()


def orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def test_the_public_page_shows_active_services_and_what_each_includes(client, maya):
    massage = make_service(maya, name="Deep tissue", duration_minutes=75, price_cents=9000)
    make_service(maya, name="Retired service", is_active=False)
    course = make_course(maya, sessions=3, name="Breath course")
    make_service(
        maya,
        ServiceType.PACKAGE,
        name="Reset package",
        components=[(massage, 3)],
        validity_days=120,
    )
    make_service(
        maya, ServiceType.BUNDLE, name="Ten pack", components=[(massage, 10)], validity_days=365
    )

    page = text_of(client.get("/p/maya-rivers"))

    assert maya.name in page and "Massage and breathwork." in page
    assert "Deep tissue" in page and read(shown_money(9000)) in page and "75 minutes" in page
    assert "Retired service" not in page
    assert "Breath course" in page and page.count("Dates (UTC)") == 1
    for dated in course_sessions(course):
        assert read(shown(dated.start_time)) in page
    assert "3 × Deep tissue" in page and "Valid for 120 days" in page
    assert "10 × Deep tissue" in page and "Valid for 365 days" in page
    assert maya.email not in page


def test_the_landing_page_lists_practitioners_who_take_bookings(client, maya):
    idle = make_user(Role.PRACTITIONER, name="Idle Ines")
    profiles.save_public_profile(idle)
    make_service(maya, name="Consultation")
    db.session.commit()

    html = client.get("/").get_data(as_text=True)

    assert 'href="/p/maya-rivers"' in html and maya.name in html
    assert "Massage and breathwork." in html
    assert "Idle Ines" not in html


def test_an_old_slug_redirects_and_is_never_given_to_another(client, signed_in, maya):
    web = signed_in(maya)
    response = web.post("/practice/public-page", data={"slug": "maya-heals", "bio": "New bio"})
    assert response.status_code == 302
    web.post("/auth/logout")

    moved = client.get("/p/maya-rivers")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/p/maya-heals")
    assert "New bio" in client.get("/p/maya-heals").get_data(as_text=True)
    assert client.get("/p/MAYA-HEALS").status_code == 301

    other = make_user(Role.PRACTITIONER, name="Other One")
    with pytest.raises(InvalidInput):
        profiles.save_public_profile(other, slug="maya-rivers")
    db.session.rollback()
    owners = db.session.scalars(select(PractitionerSlug.user_id).distinct()).all()
    assert owners == [maya.id]


def test_the_page_address_form_refuses_a_bad_or_taken_slug(signed_in, maya):
    other = make_user(Role.PRACTITIONER, name="Other One")
    profiles.save_public_profile(other, slug="other-one")
    db.session.commit()
    web = signed_in(maya)
    bad = web.post("/practice/public-page", data={"slug": "Has Spaces!", "bio": ""})
    assert bad.status_code == 200 and "lowercase letters, digits and hyphens" in bad.text
    taken = web.post("/practice/public-page", data={"slug": "other-one", "bio": ""})
    assert "That address is taken" in taken.text
    assert maya.profile.slug == "maya-rivers"


def test_a_new_practitioner_account_gets_a_page_from_its_name(app):
    first = create_user("a@example.com", "Maya Rivers", Role.PRACTITIONER, "long password 1")
    second = create_user("b@example.com", "Maya Rivers", Role.PRACTITIONER, "long password 2")
    client_account = create_user("c@example.com", "Cleo", Role.CLIENT, "long password 3")
    assert (first.profile.slug, second.profile.slug) == ("maya-rivers", "maya-rivers-2")
    assert client_account.profile is None


def test_unknown_slugs_and_deactivated_practitioners_are_not_found(client, maya):
    assert client.get("/p/nobody-here").status_code == 404
    maya.is_active_account = False
    db.session.commit()
    assert client.get("/p/maya-rivers").status_code == 404


# -- The service page for a visitor -------------------------------------------------------


def test_a_visitor_sees_free_slots_in_their_browser_timezone(client, maya):
    open_all_week(maya)
    service = make_service(maya, name="Consultation")
    day = day_at(3, 0).date()
    client.set_cookie("tz", "Asia/Tokyo", domain="portal.test")

    html = client.get(f"/book/services/{service.id}?day={day.isoformat()}").text

    assert "Times are shown in your timezone, Asia/Tokyo." in html
    assert f'action="/book/services/{service.id}/confirm"' in html and 'method="get"' in html


def test_a_chosen_timezone_wins_over_the_browser_and_is_remembered(client, maya):
    service = make_service(maya, name="Consultation")
    client.set_cookie("tz", "Asia/Tokyo", domain="portal.test")
    page = f"/book/services/{service.id}"
    html = client.get(page).text
    assert 'name="timezone"' in html and 'name="csrf_token"' in html

    response = client.post("/timezone", data={"timezone": "America/Chicago", "next": page})
    assert response.status_code == 302 and response.headers["Location"] == page
    assert "your timezone, America/Chicago" in client.get(page).text

    unknown = client.post("/timezone", data={"timezone": "Mars/Olympus", "next": "//evil.example"})
    assert unknown.headers["Location"] == "/"
    assert "your timezone, America/Chicago" in client.get(page).text


def test_an_embedded_page_keeps_the_zone_its_address_names(client, maya):
    """A booking page framed on another site may keep no cookie, so static/js/timezone.js
    asks for it again with ?tz=: the times, the page's own links and the date form keep it,
    and it wins over a cookie (an explicit address is the page's state)."""
    open_all_week(maya)
    service = make_service(maya, name="Consultation")
    client.set_cookie("tz", "America/Chicago", domain="portal.test")
    page = f"/book/services/{service.id}"

    html = client.get(f"{page}?tz=Asia/Tokyo").text

    assert "Times are shown in your timezone, Asia/Tokyo." in html
    assert "data-zone-chosen" in html
    day_links = [href for href in re.findall(r'href="([^"]+)"', html) if "day=" in href]
    assert day_links and all(
        "tz=Asia%2FTokyo" in href or "tz=Asia/Tokyo" in href for href in day_links
    )
    assert '<input type="hidden" name="tz" value="Asia/Tokyo">' in html
    # Nonsense in the address is ignored, not trusted: the cookie's zone, not "chosen".
    nonsense = client.get(f"{page}?tz=Mars/Olympus").text
    assert "your timezone, America/Chicago" in nonsense
    assert "data-zone-chosen" not in re.search(r"<html[^>]*>", nonsense).group(0)

    # Picking a zone there replaces the address's, instead of being overruled by it.
    response = client.post(
        "/timezone", data={"timezone": "Europe/Lisbon", "next": f"{page}?tz=Asia/Tokyo&day=x"}
    )
    assert response.headers["Location"] == f"{page}?tz=Europe%2FLisbon&day=x"
    assert "your timezone, Europe/Lisbon" in client.get(response.headers["Location"]).text


@pytest.mark.parametrize("raw", ["Factory", "localtime", "posixrules", "Etc/GMT+5"])
def test_a_raw_tz_key_is_neither_offered_nor_accepted(client, maya, raw):
    service = make_service(maya, name="Consultation")
    page = f"/book/services/{service.id}"
    html = client.get(page).text
    assert f'value="{raw}"' not in html and 'value="GB-Eire"' not in html
    client.post("/timezone", data={"timezone": raw, "next": page})
    assert "your timezone, UTC" in client.get(page).text


def test_the_picker_groups_zones_by_region_with_the_visitors_first(client, maya):
    service = make_service(maya, name="Consultation")
    client.set_cookie("tz", "Asia/Calcutta", domain="portal.test")  # an old browser's name
    html = client.get(f"/book/services/{service.id}").text
    select = html[html.index('<select id="timezone"') : html.index("</select>")]
    assert (
        select.index('<optgroup label="Suggested">')
        < select.index('<option value="Asia/Kolkata" selected>')
        < select.index('<optgroup label="Africa">')
    )
    assert select.count(" selected") == 1 and select.count('value="Asia/Kolkata"') == 1
    assert '<option value="Europe/London">London</option>' in select
    assert '<optgroup label="Europe">' in select and '<optgroup label="Americas">' in select
    assert 400 < select.count("<option ") < 450  # tzdb's zones, not its 599 keys


def test_an_old_zone_name_is_taken_for_the_zone_it_stands_for(client, maya):
    service = make_service(maya, name="Consultation")
    page = f"/book/services/{service.id}"
    client.post("/timezone", data={"timezone": "GB-Eire", "next": page})
    assert "your timezone, Europe/London" in client.get(page).text


def test_a_visitor_picks_a_slot_signs_in_and_confirms_the_same_slot(client, auth, maya):
    open_all_week(maya)
    service = make_service(maya, name="Consultation")
    buyer = make_user(Role.CLIENT, timezone="Europe/Lisbon")
    start = day_at(4, 10)

    confirm = f"/book/services/{service.id}/confirm?{urlencode({'start': start.isoformat()})}"
    to_login = client.get(confirm)
    assert to_login.status_code == 302
    login = urlsplit(to_login.headers["Location"])
    assert login.path == "/auth/login"
    (back,) = parse_qs(login.query)["next"]

    signed = client.post(
        f"/auth/login?{login.query}",
        data={"email": buyer.email, "password": "correct horse battery"},
    )
    assert signed.headers["Location"] == back
    page = client.get(back)
    assert page.status_code == 200 and orders() == 0
    text = text_of(page)
    assert "Confirm your booking" in text and "(Europe/Lisbon)" in text

    placed = client.post(f"/book/services/{service.id}/buy", data={"start": start.isoformat()})
    assert placed.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert order.bookings[0].service_session.start_time == start


def test_a_slot_taken_before_confirming_says_so_and_shows_the_picker(signed_in, maya, client_user):
    open_all_week(maya)
    service = make_service(maya, name="Consultation")
    start = day_at(4, 10)
    booking.book_individual_session(make_user(), service, start)
    db.session.commit()
    before = orders()

    response = signed_in(client_user).get(
        f"/book/services/{service.id}/confirm?{urlencode({'start': start.isoformat()})}"
    )

    assert response.status_code == 409
    assert "That time is no longer free; please pick another." in response.text
    assert 'id="slot-picker"' in response.text
    assert orders() == before


def test_a_visitor_chooses_a_workshop_seat_course_or_bundle_through_confirm(
    signed_in, client, maya, client_user
):
    workshop = make_workshop(maya, seats=4, start=day_at(5, 9), name="Breathwork")
    course = make_course(maya, sessions=2)
    bundle = make_service(
        maya,
        ServiceType.BUNDLE,
        name="Five pack",
        components=[(make_service(maya), 5)],
    )
    seat_page = client.get(f"/book/services/{workshop.service_id}").text
    assert f'action="/book/services/{workshop.service_id}/confirm"' in seat_page
    assert "4 of 4" in text_of(client.get(f"/book/services/{workshop.service_id}"))
    assert (
        f'action="/book/services/{bundle.id}/confirm"'
        in client.get(f"/book/services/{bundle.id}").text
    )

    web = signed_in(client_user)
    seat = web.get(f"/book/services/{workshop.service_id}/confirm?session_id={workshop.id}")
    assert 'name="session_id"' in seat.text
    assert f'action="/book/services/{workshop.service_id}/buy"' in seat.text
    assert "Every session of" in text_of(web.get(f"/book/services/{course.id}/confirm"))
    offer = web.get(f"/book/services/{bundle.id}/confirm").text
    assert f'action="/book/packages/{bundle.id}/buy"' in offer


def test_a_full_workshop_refuses_at_confirm_without_an_order(signed_in, maya, client_user):
    session, holders = full_workshop(maya, seats=1, start=day_at(6, 9))
    db.session.commit()
    before = orders()
    response = signed_in(client_user).get(
        f"/book/services/{session.service_id}/confirm?session_id={session.id}"
    )
    assert response.status_code == 409
    assert "can no longer be booked" in response.text
    assert orders() == before


def test_a_visitor_joins_a_full_workshops_waitlist_after_signing_in(client, maya, client_user):
    session, _holders = full_workshop(maya, seats=1, start=day_at(6, 9))
    db.session.commit()
    choice = f"/book/sessions/{session.id}/waitlist"
    page = client.get(f"/book/services/{session.service_id}").text
    assert f'<form method="get" action="{choice}"' in page and "Join the waitlist" in page

    to_login = client.get(choice)
    login = urlsplit(to_login.headers["Location"])
    assert to_login.status_code == 302 and login.path == "/auth/login"
    signed = client.post(
        f"/auth/login?{login.query}",
        data={"email": client_user.email, "password": "correct horse battery"},
    )
    assert signed.headers["Location"] == choice
    ready = client.get(choice)
    assert ready.status_code == 200 and waiting(client_user) == []
    assert "is full" in text_of(ready) and f'<form method="post" action="{choice}">' in ready.text

    joined = client.post(choice)
    assert joined.status_code == 302
    assert waiting(client_user) == [session.id]
    assert "On the waitlist" in text_of(client.get(joined.headers["Location"]))
    assert orders() == 1  # the holder's, and no other


def test_a_seat_freed_before_the_visitor_is_back_is_offered_to_buy(signed_in, maya, client_user):
    session, (holder,) = full_workshop(maya, seats=1, start=day_at(6, 9))
    booking.cancel_booking(holder_booking(holder, session), holder, client_requested=True)
    db.session.commit()
    back = signed_in(client_user).get(f"/book/sessions/{session.id}/waitlist")
    assert back.status_code == 302
    assert back.headers["Location"] == (
        f"/book/services/{session.service_id}/confirm?session_id={session.id}"
    )
    assert waiting(client_user) == []


def test_public_pages_show_no_private_data(client, maya):
    session, holders = full_workshop(maya, seats=2, start=day_at(6, 9))
    private = make_workshop(maya, seats=3, start=day_at(7, 9), name="Private group")
    private.visibility = private.visibility.__class__("private")
    db.session.commit()
    pages = [
        client.get("/").text,
        client.get("/p/maya-rivers").text,
        client.get(f"/book/services/{session.service_id}").text,
    ]
    for html in pages:
        for holder in holders:
            assert holder.name not in html and holder.email not in html
        assert maya.email not in html
    assert shown(private.start_time) not in pages[1]


def test_the_shop_neither_lists_nor_sells_a_private_workshop_session(
    client, signed_in, maya, client_user
):
    open_session = make_workshop(maya, seats=3, start=day_at(6, 9), name="Breathwork")
    private = booking.create_session(
        open_session.service, start_time=day_at(8, 9), visibility=Visibility.PRIVATE
    )
    full_private = booking.create_session(
        open_session.service,
        start_time=day_at(9, 9),
        max_participants=1,
        visibility=Visibility.PRIVATE,
    )
    booking.book_workshop_seat(make_user(), full_private)
    db.session.commit()
    service_page = f"/book/services/{open_session.service_id}"
    visitor_page = read(client.get(service_page).text)  # in UTC, as the sessions were made
    assert read(shown(open_session.start_time)) in visitor_page
    for hidden in (private, full_private):
        assert read(shown(hidden.start_time)) not in visitor_page

    web = signed_in(client_user)
    before = orders()
    page = web.get(service_page).text
    assert f'id="session-{open_session.id}"' in page
    for hidden in (private, full_private):
        assert f'id="session-{hidden.id}"' not in page
        assert f'value="{hidden.id}"' not in page

    confirm = web.get(f"{service_page}/confirm?session_id={private.id}")
    assert confirm.status_code == 409 and "can no longer be booked" in confirm.text
    bought = web.post(f"{service_page}/buy", data={"session_id": private.id})
    assert bought.status_code == 422 and "Pick one of the sessions." in text_of(bought)
    assert web.get(f"/book/sessions/{full_private.id}/waitlist").status_code == 404
    assert web.post(f"/book/sessions/{full_private.id}/waitlist").status_code == 404
    assert orders() == before and waiting(client_user) == []


# -- Query counts -------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    db.session.expunge_all()
    with counted() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _grow(practitioner_id: int, n: int, offset: int) -> None:
    maya = db.session.get(User, practitioner_id)
    one = make_service(maya, name=f"Massage {offset}")
    make_service(maya, ServiceType.PACKAGE, components=[(one, 2)], validity_days=30)
    course = make_service(maya, ServiceType.COURSE, max_participants=5)
    for i in range(n):
        make_workshop(maya, seats=3, start=day_at(3 + offset + i, 8))
        booking.create_session(course, start_time=day_at(3 + offset + i, 12), sequence_number=i + 1)
    db.session.commit()


def test_the_public_page_queries_stay_flat(client, maya):
    maya_id = maya.id
    _grow(maya_id, 1, offset=0)
    small = _queries(client, "/p/maya-rivers")
    _grow(maya_id, 6, offset=10)
    assert _queries(client, "/p/maya-rivers") == small


def test_the_landing_page_queries_stay_flat(client, maya):
    _grow(maya.id, 1, offset=0)
    small = _queries(client, "/")
    for n in range(4):
        other = make_user(Role.PRACTITIONER, name=f"Other {n}")
        profiles.save_public_profile(other)
        make_service(other)
    assert _queries(client, "/") == small


def test_seat_counts_are_public_but_bookings_are_not(client, maya):
    session = make_workshop(maya, seats=5, start=day_at(5, 9))
    booking.book_workshop_seat(make_user(name="Zed Secretclient"), session)
    db.session.commit()
    html = client.get(f"/book/services/{session.service_id}").text
    assert "4 of 5" in text_of(client.get(f"/book/services/{session.service_id}"))
    assert "Zed Secretclient" not in html
    assert db.session.scalar(select(func.count()).select_from(Booking)) == 1


# -- The same free slots through the API -----------------------------------------------------


def test_the_api_lists_free_slots_without_a_token(client, maya):
    open_all_week(maya)
    service = make_service(maya, name="Consultation", duration_minutes=60)
    start = day_at(4, 0)
    taken = day_at(4, 10)
    booking.book_individual_session(make_user(), service, taken)
    db.session.commit()
    window = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}

    response = client.get(f"/api/v1/services/{service.id}/slots?{urlencode(window)}")

    assert response.status_code == 200
    body = response.get_json()
    starts = [datetime.fromisoformat(s["start_time"]) for s in body["slots"]]
    assert starts and all(s.utcoffset() is not None for s in starts)
    assert taken not in starts and day_at(4, 9) in starts
    assert starts == sorted(starts) and all(start <= s < start + timedelta(days=1) for s in starts)
    page = client.get(f"/book/services/{service.id}?day={start.date().isoformat()}").text
    assert page.count('class="slot"') == len(starts)


def test_the_api_refuses_slots_of_other_kinds_and_long_windows(client, maya):
    workshop = make_workshop(maya, seats=3, start=day_at(5, 9))
    single = make_service(maya)
    start = day_at(1, 0)
    window = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}
    kind = client.get(f"/api/v1/services/{workshop.service_id}/slots?{urlencode(window)}")
    assert kind.status_code == 409
    long = {"start": start.isoformat(), "end": (start + timedelta(days=90)).isoformat()}
    assert client.get(f"/api/v1/services/{single.id}/slots?{urlencode(long)}").status_code == 422
    single.is_active = False
    db.session.commit()
    assert client.get(f"/api/v1/services/{single.id}/slots?{urlencode(window)}").status_code == 404


# -- The slot picker's overview -----------------------------------------------------------


def test_the_overview_marks_free_days_and_jumps_to_the_next_one(client, maya):
    service = make_service(maya, name="Consultation")
    only_free = day_at(9, 0).date()
    set_weekly_hours(maya, {})
    set_date_override(maya, only_free, [(time(9), time(12))])
    db.session.commit()

    html = client.get(f"/book/services/{service.id}").text

    assert f'href="/book/services/{service.id}?day={only_free.isoformat()}"' in html
    assert f"Next available: {shown(only_free, 'day-month')}" in html
    assert 'type="date"' in html and 'name="day"' in html
    assert "No free times on this day" in html


def test_a_day_past_the_horizon_says_so(client, maya):
    open_all_week(maya)
    service = make_service(maya, name="Consultation")
    far = (day_at(0, 0) + timedelta(days=400)).date()
    html = text_of(client.get(f"/book/services/{service.id}?day={far.isoformat()}"))
    assert "is too far ahead" in html and "Bookings open up to" in html


def test_reschedule_opens_on_the_bookings_own_day(signed_in, maya, client_user):
    open_all_week(maya)
    service = make_service(maya, name="Consultation", cancellation_cutoff_hours=1)
    start = day_at(12, 10)
    order = booking.book_individual_session(client_user, service, start)
    booking.confirm_payment(order)
    db.session.commit()
    web = signed_in(client_user)
    html = web.get(f"/bookings/{order.bookings[0].id}/reschedule").text
    assert shown(start, "long-date") in html
