"""The practitioner's calendar settings (#22): subscribe, connect a CalDAV account (a real
Radicale), choose what blocks time and what receives bookings, refresh, disconnect."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from portal.crypto import decrypt, encrypt
from portal.database import utcnow
from portal.extensions import db
from portal.models import CalendarKind, ExternalBusyTime, ExternalCalendar, Role, SyncProblem
from tests.fixtures.factories import make_user

SECRET_URL = "https://calendar.example/private/abc123/basic.ics"


LOCAL = {"PORTAL_WEBHOOKS_ALLOW_PRIVATE": True, "PORTAL_WEBHOOKS_ALLOW_HTTP": True}


def calendars() -> list[ExternalCalendar]:
    db.session.rollback()
    return list(db.session.scalars(select(ExternalCalendar).order_by(ExternalCalendar.id)))


def test_subscribing_stores_the_address_encrypted_and_never_shows_it(signed_in, practitioner):
    web = signed_in(practitioner)
    page = web.post(
        "/settings/calendars/ics",
        data={"name": "Personal", "url": SECRET_URL.replace("https://", "webcal://")},
    )
    assert page.status_code == 302
    [row] = calendars()
    assert row.practitioner_id == practitioner.id and row.name == "Personal"
    assert decrypt(row.url_secret) == SECRET_URL
    listing = web.get("/settings/calendars/")
    assert "Personal" in listing.text and "abc123" not in listing.text
    assert listing.headers["Cache-Control"] == "no-store"


def test_a_bad_address_re_renders_the_form_and_stores_nothing(signed_in, practitioner):
    web = signed_in(practitioner)
    page = web.post("/settings/calendars/ics", data={"url": "ftp://calendar.example/x"})
    assert page.status_code == 422 and "https://" in page.text
    assert calendars() == []


def test_connecting_a_caldav_account_adds_its_calendars(app, signed_in, practitioner, radicale):
    app.config.update(LOCAL)
    name = f"Clinic {uuid.uuid4().hex[:6]}"
    radicale.make_calendar(name)
    web = signed_in(practitioner)
    page = web.post(
        "/settings/calendars/caldav",
        data={
            "server_url": radicale.url,
            "username": radicale.username,
            "password": radicale.password,
        },
    )
    assert page.status_code == 302
    rows = calendars()
    assert name in {r.name for r in rows}
    assert all(decrypt(r.password_secret) == radicale.password for r in rows)
    # The first receives bookings, as none did.
    assert [r.receives_bookings for r in rows].count(True) == 1
    listing = web.get("/settings/calendars/")
    assert name in listing.text and radicale.password not in listing.text


def test_a_wrong_password_is_said_on_the_form(app, signed_in, practitioner, radicale):
    app.config.update(LOCAL)
    web = signed_in(practitioner)
    page = web.post(
        "/settings/calendars/caldav",
        data={"server_url": radicale.url, "username": radicale.username, "password": "wrong"},
    )
    assert page.status_code == 422
    assert str(SyncProblem.WRONG_PASSWORD.label) in page.text.replace("&#39;", "'")
    assert calendars() == []


def _calendar(practitioner, **extra) -> ExternalCalendar:
    row = ExternalCalendar(
        practitioner_id=practitioner.id,
        kind=extra.pop("kind", CalendarKind.CALDAV),
        name=extra.pop("name", "Work"),
        url_secret=encrypt("https://dav.example/cal/"),
        username="pia",
        password_secret=encrypt("pw"),
        next_refresh_at=utcnow() + timedelta(minutes=5),
        **extra,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add(
        ExternalBusyTime(
            calendar_id=row.id,
            practitioner_id=practitioner.id,
            start_time=utcnow() + timedelta(days=1),
            end_time=utcnow() + timedelta(days=1, hours=1),
        )
    )
    db.session.commit()
    return row


def busy_count(calendar_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(ExternalBusyTime).filter_by(calendar_id=calendar_id)
    )


def test_one_calendar_receives_bookings_and_one_that_stops_blocking_loses_its_times(
    signed_in, practitioner
):
    first = _calendar(practitioner, receives_bookings=True)
    second = _calendar(practitioner, name="Home")
    web = signed_in(practitioner)
    page = web.post(
        f"/settings/calendars/{second.id}",
        data={f"c{second.id}-receives_bookings": "y", f"c{second.id}-share_attendee_names": "y"},
    )
    assert page.status_code == 302
    rows = {r.id: r for r in calendars()}
    assert not rows[first.id].receives_bookings
    assert rows[second.id].receives_bookings and rows[second.id].share_attendee_names
    assert not rows[second.id].blocks_time
    assert busy_count(second.id) == 0 and busy_count(first.id) == 1


def test_refresh_now_makes_the_calendar_due(signed_in, practitioner):
    row = _calendar(practitioner)
    signed_in(practitioner).post(f"/settings/calendars/{row.id}/refresh")
    [again] = calendars()
    assert again.next_refresh_at <= utcnow()


def test_disconnecting_asks_first_then_deletes_credentials_and_busy_times(signed_in, practitioner):
    row = _calendar(practitioner)
    web = signed_in(practitioner)
    ask = web.post(f"/settings/calendars/{row.id}/disconnect")
    assert ask.status_code == 200 and "Disconnect Work?" in ask.text
    assert len(calendars()) == 1
    done = web.post(f"/settings/calendars/{row.id}/disconnect", data={"confirmed": "y"})
    assert done.status_code == 302
    assert calendars() == [] and busy_count(row.id) == 0


def test_another_practitioners_calendar_does_not_exist_for_you(signed_in, practitioner):
    row = _calendar(practitioner)
    other = make_user(Role.PRACTITIONER)
    web = signed_in(other)
    for path in ("", "/refresh", "/disconnect"):
        assert (
            web.post(f"/settings/calendars/{row.id}{path}", data={"confirmed": "y"}).status_code
            == 404
        )
    assert len(calendars()) == 1 and busy_count(row.id) == 1
    assert "Work" not in web.get("/settings/calendars/").text
