"""Secret ICS feeds for practitioners and clients, parsed back with icalendar."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal import booking
from portal.booking import timetable as ops
from portal.extensions import db
from portal.models import CalendarFeed
from tests.fixtures.factories import future, make_user, make_workshop


def new_feed_url(web) -> str:
    html = web.post("/feeds/rotate").text
    match = re.search(r'<p class="feed-url" id="feed-url">(.*?)</p>', html)
    assert match, "the new feed address is shown"
    url = match.group(1)
    assert f'href="webcal://{url.split("://", 1)[1]}"' in html
    return url


def fetch(web, url: str) -> Calendar:
    response = web.get(url.replace("http://portal.test", ""))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_practitioner_feed_has_stable_uids_sequences_and_cancellations(
    signed_in, practitioner, client_user
):
    kept = make_workshop(practitioner, start=future(days=4, hour=15), name="Kept")
    dropped = make_workshop(practitioner, start=future(days=5, hour=15), name="Dropped")
    booking.book_workshop_seat(client_user, kept)
    web = signed_in(practitioner)
    url = new_feed_url(web)
    assert url.startswith("http://portal.test/feeds/") and url.endswith(".ics")
    page = web.get("/feeds/").text
    assert url not in page  # shown once, at creation

    first = events(fetch(web, url))
    uid = f"service-session-{kept.id}@estuary-portal"
    event = first[uid]
    assert str(event["SUMMARY"]) == "Kept"
    assert int(event["SEQUENCE"]) == 1 and str(event["STATUS"]) == "CONFIRMED"  # one booking
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART") == kept.start_time
    assert event.decoded("DTEND") == kept.end_time
    assert client_user.name in str(event["DESCRIPTION"])

    moved_to = kept.start_time + timedelta(hours=2)
    ops.update_session(
        kept,
        start_time=moved_to,
        duration_minutes=90,
        max_participants=kept.max_participants,
        title="",
    )
    booking.cancel_session(dropped, practitioner)
    second = events(fetch(web, url))
    assert set(second) == set(first)
    assert int(second[uid]["SEQUENCE"]) == 2
    assert second[uid].decoded("DTSTART") == moved_to
    canceled = second[f"service-session-{dropped.id}@estuary-portal"]
    assert str(canceled["STATUS"]) == "CANCELLED" and int(canceled["SEQUENCE"]) == 1
    calendar = fetch(web, url)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_client_feed_lists_only_their_booked_sessions(signed_in, practitioner, client_user):
    mine = make_workshop(practitioner, start=future(days=4, hour=15), name="Mine")
    make_workshop(practitioner, start=future(days=6, hour=15), name="Not booked")
    other = make_workshop(practitioner, start=future(days=8, hour=15), name="Left")
    booking.book_workshop_seat(client_user, mine)
    booking.book_workshop_seat(client_user, other)
    seat = next(b for b in other.bookings if b.user_id == client_user.id)
    booking.cancel_booking(seat, client_user)
    booking.book_workshop_seat(make_user(), other)

    web = signed_in(client_user)
    found = events(fetch(web, new_feed_url(web)))
    summaries = {str(e["SUMMARY"]): str(e["STATUS"]) for e in found.values()}
    assert summaries == {"Mine": "CONFIRMED", "Left": "CANCELLED"}


def test_a_booking_or_a_cancel_is_a_new_sequence_in_both_feeds(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, start=future(days=4, hour=15), name="Circle")
    uid = f"service-session-{session.id}@estuary-portal"
    practitioner_web = signed_in(practitioner)
    practitioner_feed = new_feed_url(practitioner_web)
    before = events(fetch(practitioner_web, practitioner_feed))[uid]
    assert client_user.name not in str(before["DESCRIPTION"])

    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    booked = events(fetch(practitioner_web, practitioner_feed))[uid]
    assert client_user.name in str(booked["DESCRIPTION"])
    assert int(booked["SEQUENCE"]) > int(before["SEQUENCE"])
    practitioner_web.post("/auth/logout")
    client_web = signed_in(client_user)
    client_feed = new_feed_url(client_web)
    mine = events(fetch(client_web, client_feed))[uid]
    assert str(mine["STATUS"]) == "CONFIRMED"

    booking.cancel_booking(seat, client_user)
    left = events(fetch(client_web, client_feed))[uid]
    assert str(left["STATUS"]) == "CANCELLED"
    assert int(left["SEQUENCE"]) > int(mine["SEQUENCE"])
    client_web.post("/auth/logout")
    practitioner_web = signed_in(practitioner)
    emptied = events(fetch(practitioner_web, practitioner_feed))[uid]
    assert client_user.name not in str(emptied["DESCRIPTION"])
    assert int(emptied["SEQUENCE"]) > int(booked["SEQUENCE"])


def test_rotating_the_feed_retires_the_old_address(signed_in, practitioner):
    web = signed_in(practitioner)
    old = new_feed_url(web)
    new = new_feed_url(web)
    assert old != new
    assert web.get(old.replace("http://portal.test", "")).status_code == 404
    assert web.get(new.replace("http://portal.test", "")).status_code == 200
    stored = db.session.scalar(select(CalendarFeed))
    assert stored.token_hash not in new and len(stored.token_hash) == 64
    page = web.get("/feeds/").text
    assert "Your feed is on since" in page and new not in page


def test_revoking_turns_the_feed_off(signed_in, practitioner):
    web = signed_in(practitioner)
    url = new_feed_url(web)
    html = web.post("/feeds/revoke", follow_redirects=True).text
    assert "Your calendar feed is turned off" in html and "You have no calendar feed yet." in html
    assert web.get(url.replace("http://portal.test", "")).status_code == 404


def test_feed_needs_no_sign_in_but_an_exact_token(client, signed_in, practitioner, auth):
    url = new_feed_url(signed_in(practitioner)).replace("http://portal.test", "")
    auth.logout()
    assert client.get(url).status_code == 200
    assert client.get(url.replace(".ics", "x.ics")).status_code == 404


@pytest.mark.parametrize("url", ["/feeds/", "/feeds/rotate"])
def test_staff_have_no_feed(signed_in, staff_user, url):
    web = signed_in(staff_user)
    response = web.get(url) if url == "/feeds/" else web.post(url)
    assert response.status_code == 403
