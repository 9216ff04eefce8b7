"""Hypothesis over every HTML form (and the query strings pages read): wrong types,
missing fields, huge and hostile strings, impossible dates, DST gaps and overlaps.

Property: never a 5xx (the test client re-raises any unhandled error), and an input
the portal refuses (a 4xx, a form shown again, or a redirect carrying an error flash)
changes no row of any table. CSRF is off here; the CSRF tests live elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import booking
from portal.booking import working_hours
from portal.models import Role, ServiceType
from tests.fixtures.factories import future, make_course, make_service, make_user, make_workshop
from tests.fixtures.fuzz import (
    FUZZ_SETTINGS,
    changed_tables,
    clock_times,
    field,
    fingerprint,
    form_data,
    hostile_value,
    iso_dates,
    small_ints,
)
from tests.fixtures.livekit import confirmed_seat

ZONE = "Europe/Lisbon"


@dataclass
class World:
    practitioner: object
    client: object
    other_client: object
    staff: object
    individual: object
    workshop: object
    spare_workshop: object
    course: object
    credit: object
    scheduled: object
    pending_order: object
    seat: object
    slots: list[str]


@pytest.fixture
def world(app) -> World:
    practitioner = make_user(Role.PRACTITIONER, timezone=ZONE)
    working_hours.set_weekly_hours(practitioner, {day: [(time(6), time(22))] for day in range(7)})
    working_hours.update_schedule_settings(
        practitioner,
        buffer_minutes=0,
        min_notice_minutes=60,
        horizon_days=730,
        slot_step_minutes=30,
    )
    client = make_user(Role.CLIENT, timezone=ZONE)
    other_client = make_user(Role.CLIENT, timezone="America/New_York")
    individual = make_service(practitioner, name="Massage")
    workshop = make_workshop(practitioner, seats=5, start=future(days=5))
    spare = make_workshop(practitioner, seats=5, start=future(days=6))
    course = make_course(practitioner, sessions=2)
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(individual, 3)])
    credits = booking.buy_credits(client, bundle)
    booking.confirm_payment(credits)
    credit = credits.bookings[0]
    slots = booking.available_slots(
        practitioner, timedelta(hours=1), future(days=9, hour=0), future(days=11, hour=0)
    )
    scheduled = booking.schedule_credit(credits.bookings[1], slots[0])
    pending = booking.book_workshop_seat(other_client, workshop)
    seat = confirmed_seat(client, workshop)
    return World(
        practitioner=practitioner,
        client=client,
        other_client=other_client,
        staff=make_user(Role.STAFF),
        individual=individual,
        workshop=workshop,
        spare_workshop=spare,
        course=course,
        credit=credit,
        scheduled=scheduled,
        pending_order=pending,
        seat=seat,
        slots=[s.isoformat() for s in slots[1:]],
    )


# Strategies per form field.

ranges_text = st.one_of(
    st.lists(st.tuples(clock_times, clock_times).map(lambda r: f"{r[0]}-{r[1]}"), max_size=3).map(
        ", ".join
    ),
    st.sampled_from(["09:00-12:00, 13:00-17:30", "01:00-02:00", "00:00-24:00", "22:00-02:00"]),
)


def slot_starts(world: World) -> st.SearchStrategy:
    """Offered slots, times near them in other forms, DST-ambiguous and out-of-range instants."""
    odd = [
        "2026-03-29T01:30:00",
        "2027-03-28T01:30:00+00:00",
        "2027-03-28T01:30:00+01:00",
        "2027-10-31T01:30:00+00:00",
        "2027-10-31T01:30:00+01:00",
        "2026-10-25T01:30:00+01:00",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00-01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59+14:00",
        "2030-01-01T24:00:00+00:00",
        "2030-02-30T10:00:00+00:00",
    ]
    return st.one_of(
        st.sampled_from(world.slots[:20] + odd),
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
        ).map(datetime.isoformat),
    )


def service_fields(world: World) -> dict:
    own = [str(world.individual.id), "0", "999999", "-1"]
    fields = {
        "name": field(st.text(min_size=1, max_size=30)),
        "description": field(st.text(max_size=60)),
        "service_type": field(st.sampled_from([t.value for t in ServiceType])),
        "price": field(st.decimals(allow_nan=True, allow_infinity=True).map(str)),
        "currency": field(st.sampled_from(["USD", "EUR", "eur", "E€R"])),
        "duration_minutes": field(small_ints),
        "max_participants": field(small_ints),
        "cancellation_cutoff_hours": field(small_ints),
        "validity_days": field(small_ints),
        "is_active": field(st.sampled_from(["y", "on", ""])),
    }
    for line in range(2):
        fields[f"components-{line}-included"] = field(st.sampled_from(own))
        fields[f"components-{line}-quantity"] = field(small_ints)
    return fields


@dataclass
class Target:
    persona: str
    url: callable
    fields: callable
    method: str = "POST"


FORMS = {
    "login": Target(
        "anonymous",
        lambda w: "/auth/login",
        lambda w: {
            "email": field(st.sampled_from([w.client.email, "a@b.c", "not-an-email"])),
            "password": field(st.sampled_from(["wrong", "correct horse"])),
            "remember_me": field(st.just("y")),
        },
    ),
    "change_password": Target(
        "client",
        lambda w: "/auth/password",
        lambda w: {
            "current_password": field(st.sampled_from(["wrong", "x"])),
            "new_password": field(st.text(max_size=20)),
            "confirm_password": field(st.text(max_size=20)),
        },
    ),
    "weekly_hours": Target(
        "practitioner",
        lambda w: "/practice/availability/weekly",
        lambda w: {f"day_{n}": field(ranges_text) for n in range(7)},
    ),
    "date_override": Target(
        "practitioner",
        lambda w: "/practice/availability/overrides",
        lambda w: {"day": field(iso_dates), "ranges": field(ranges_text)},
    ),
    "remove_override": Target(
        "practitioner",
        lambda w: "/practice/availability/overrides/remove",
        lambda w: {"day": field(iso_dates)},
    ),
    "booking_rules": Target(
        "practitioner",
        lambda w: "/practice/availability/settings",
        lambda w: {
            key: field(small_ints)
            for key in (
                "buffer_minutes",
                "min_notice_minutes",
                "horizon_days",
                "slot_step_minutes",
            )
        },
    ),
    "new_session": Target(
        "practitioner",
        lambda w: "/calendar/sessions/new",
        lambda w: {
            "service": field(st.sampled_from([str(w.workshop.service_id), "0", "abc"])),
            "title": field(st.text(max_size=30)),
            "start_date": field(iso_dates),
            "start_time": field(clock_times),
            "duration": field(small_ints),
            "max_participants": field(small_ints),
        },
    ),
    "edit_session": Target(
        "practitioner",
        lambda w: f"/calendar/sessions/{w.workshop.id}/edit",
        lambda w: {
            "title": field(st.text(max_size=30)),
            "start_date": field(iso_dates),
            "start_time": field(clock_times),
            "duration": field(small_ints),
            "max_participants": field(small_ints),
        },
    ),
    "cancel_session": Target(
        "practitioner",
        lambda w: f"/calendar/sessions/{w.spare_workshop.id}/cancel",
        lambda w: {"reason": field(st.text(max_size=30))},
    ),
    "add_attendee": Target(
        "practitioner",
        lambda w: f"/calendar/sessions/{w.workshop.id}/attendees",
        lambda w: {"email": field(st.sampled_from([w.client.email, w.staff.email, "x@y.z"]))},
    ),
    "new_service": Target(
        "practitioner", lambda w: "/practice/services/new", lambda w: service_fields(w)
    ),
    "edit_service": Target(
        "practitioner",
        lambda w: f"/practice/services/{w.individual.id}/edit",
        lambda w: service_fields(w),
    ),
    "new_package": Target(
        "practitioner", lambda w: "/practice/packages/new", lambda w: service_fields(w)
    ),
    "new_pass": Target(
        "practitioner",
        lambda w: "/practice/passes/new",
        lambda w: {
            **service_fields(w),
            "credits": field(small_ints),
            "services": field(st.sampled_from([str(w.workshop.service_id), "0", "999999", "-1"])),
            "tag": field(st.text(max_size=50)),
            "per_day": field(small_ints),
            "per_week": field(small_ints),
        },
    ),
    "new_course": Target(
        "practitioner",
        lambda w: "/courses/new",
        lambda w: {
            **{
                k: v
                for k, v in service_fields(w).items()
                if k != "validity_days" and not k.startswith("components")
            },
            "start_date": field(iso_dates),
            "start_time": field(clock_times),
            "frequency": field(st.sampled_from(["weekly", "daily", "monthly"])),
            "interval": field(small_ints),
            "count": field(small_ints),
        },
    ),
    "enroll": Target(
        "practitioner",
        lambda w: f"/courses/{w.course.id}/enroll",
        lambda w: {
            "email": field(st.sampled_from([w.client.email, w.practitioner.email, "x@y.z"])),
            "paid": field(st.just("y")),
        },
    ),
    "mark_paid": Target(
        "practitioner",
        lambda w: f"/orders/{w.pending_order.id}/mark-paid",
        lambda w: {"reference": field(st.text(max_size=30))},
    ),
    "create_token": Target(
        "client",
        lambda w: "/settings/tokens/",
        lambda w: {"name": field(st.text(min_size=1, max_size=30))},
    ),
    "override_outcome": Target(
        "staff",
        lambda w: f"/attendance/bookings/{w.seat.id}/outcome",
        lambda w: {
            "outcome": field(st.sampled_from(["attended", "no_show", "late", "bogus"])),
            "reason": field(st.text(max_size=30)),
        },
    ),
    "buy_individual": Target(
        "client",
        lambda w: f"/book/services/{w.individual.id}/buy",
        lambda w: {"start": field(slot_starts(w)), "day": field(iso_dates)},
    ),
    "buy_workshop": Target(
        "client",
        lambda w: f"/book/services/{w.spare_workshop.service_id}/buy",
        lambda w: {
            "session_id": field(st.sampled_from([str(w.spare_workshop.id), str(w.workshop.id)]))
        },
    ),
    "schedule_credit": Target(
        "client",
        lambda w: f"/bookings/{w.credit.id}/schedule",
        lambda w: {"start": field(slot_starts(w)), "day": field(iso_dates)},
    ),
    "reschedule": Target(
        "client",
        lambda w: f"/bookings/{w.scheduled.id}/reschedule",
        lambda w: {"start": field(slot_starts(w)), "day": field(iso_dates)},
    ),
    # Query strings the pages read.
    "calendar_week": Target(
        "practitioner",
        lambda w: "/calendar/",
        lambda w: {"date": field(iso_dates), "practitioner": field(small_ints)},
        method="GET",
    ),
    "calendar_month": Target(
        "staff",
        lambda w: "/calendar/month",
        lambda w: {"date": field(iso_dates), "practitioner": field(small_ints)},
        method="GET",
    ),
    "session_list": Target(
        "practitioner",
        lambda w: "/calendar/sessions",
        lambda w: {"when": field(st.just("past")), "page": field(small_ints)},
        method="GET",
    ),
    "slot_picker_day": Target(
        "client",
        lambda w: f"/book/services/{w.individual.id}",
        lambda w: {"day": field(iso_dates)},
        method="GET",
    ),
    "reschedule_day": Target(
        "client",
        lambda w: f"/bookings/{w.scheduled.id}/reschedule",
        lambda w: {"day": field(iso_dates)},
        method="GET",
    ),
    "availability_preview": Target(
        "practitioner",
        lambda w: "/practice/availability/",
        lambda w: {"duration": field(small_ints)},
        method="GET",
    ),
    "noshow_report": Target(
        "staff",
        lambda w: "/attendance/reports/no-shows",
        lambda w: {
            "start": field(iso_dates),
            "end": field(iso_dates),
            "practitioner": field(small_ints),
            "service": field(small_ints),
            "sort": field(st.sampled_from(["no_shows", "name", "x"])),
            "dir": field(st.sampled_from(["asc", "desc"])),
        },
        method="GET",
    ),
    "noshow_csv": Target(
        "staff",
        lambda w: "/attendance/reports/no-shows.csv",
        lambda w: {
            "start": field(iso_dates),
            "end": field(iso_dates),
            "per": field(st.sampled_from(["client", "service"])),
        },
        method="GET",
    ),
}


def error_flashed(client) -> bool:
    """Whether the request left an error flash for the next page (and forget the flashes)."""
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return any(category == "error" for category, _ in flashes)


def send(client, target: Target, url: str, data: dict):
    if target.method == "GET":
        return client.get(url, query_string=data)
    return client.post(url, data=data)


def refused(target: Target, response, flashed_error: bool) -> bool:
    if response.status_code >= 400 or target.method == "GET":
        return True
    return response.status_code == 200 or flashed_error


@pytest.mark.parametrize("name", sorted(FORMS))
def test_hostile_input_never_fails_and_refused_input_changes_nothing(
    world, client, signed_in, name
):
    target = FORMS[name]
    if target.persona != "anonymous":
        signed_in(getattr(world, target.persona))
    url = target.url(world)

    @given(data=form_data(target.fields(world)))
    @FUZZ_SETTINGS
    def check(data):
        before = fingerprint()
        response = send(client, target, url, data)
        assert response.status_code < 500, (response.status_code, data)
        flashed_error = error_flashed(client)
        if refused(target, response, flashed_error):
            assert changed_tables(before, fingerprint()) == [], (response.status_code, data)

    check()


@pytest.mark.parametrize("name", ["new_session", "weekly_hours", "buy_individual"])
def test_raw_bytes_that_are_not_utf8_are_refused_cleanly(world, client, signed_in, name):
    """Form bodies with invalid UTF-8 (lone surrogates as CESU bytes, stray continuation
    bytes) and NUL are decoded leniently and refused like any other bad value."""
    target = FORMS[name]
    signed_in(getattr(world, target.persona))
    keys = list(target.fields(world))
    body = "&".join(f"{key}=%ED%A0%80%00%FF%C0%AF" for key in keys)
    before = fingerprint()
    response = client.post(
        target.url(world), data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400  # the NUL refuses it before the view runs
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.parametrize(
    ("persona", "url", "data"),
    [
        ("client", "/settings/tokens/", {"name": "sync\x00"}),
        ("practitioner", "/practice/services/new", {"name": "Yoga\x00", "price": "10"}),
        ("practitioner", "/orders/{order}/mark-paid", {"reference": "r\x00"}),
        ("anonymous", "/auth/login", {"email": "a\x00@example.com", "password": "x"}),
    ],
)
def test_a_nul_character_is_refused_on_every_backend(world, client, signed_in, persona, url, data):
    """PostgreSQL cannot store NUL in text: before the fix these were 500s there."""
    if persona != "anonymous":
        signed_in(getattr(world, persona))
    before = fingerprint()

    response = client.post(url.format(order=world.pending_order.id), data=data)
    query = client.get("/calendar/sessions", query_string={"when": "\x00"})
    feed = client.get("/feeds/%00.ics")

    assert (response.status_code, query.status_code, feed.status_code) == (400, 400, 400)
    assert "NUL character" in response.get_data(as_text=True)
    assert changed_tables(before, fingerprint()) == []


def test_values_sent_twice_and_unknown_fields_are_harmless(world, client, signed_in):
    signed_in(world.practitioner)
    before = fingerprint()
    response = client.post(
        "/practice/availability/settings",
        data={"buffer_minutes": ["10", "-5"], "is_admin": "1", "practitioner_id": "1"},
    )
    assert response.status_code == 422
    assert changed_tables(before, fingerprint()) == []


def test_hostile_values_strategy_reaches_huge_strings():
    """The strategy really produces 10k+ character values (so the fuzz covers them)."""
    sizes = []

    @given(hostile_value)
    @FUZZ_SETTINGS
    def collect(value):
        sizes.extend(len(v) for v in (value if isinstance(value, list) else [value]))

    collect()
    assert max(sizes) > 10_000


HUGE = str(2**70)


@pytest.mark.parametrize(
    ("persona", "method", "url", "data", "status"),
    [
        ("client", "GET", "/book/services/" + HUGE, {}, 404),
        ("practitioner", "GET", "/calendar/sessions/" + HUGE, {}, 404),
        ("staff", "GET", "/calendar/?practitioner=" + HUGE, {}, 404),
        ("staff", "GET", "/calendar/sessions?practitioner=-3", {}, 404),
        ("client", "POST", "/book/services/{workshop}/buy", {"session_id": HUGE}, 422),
        (
            "practitioner",
            "POST",
            "/practice/services/new",
            {
                "name": "Bundle",
                "service_type": "bundle",
                "price": "10",
                "currency": "USD",
                "duration_minutes": "60",
                "max_participants": "1",
                "cancellation_cutoff_hours": "1",
                "components-0-included": HUGE,
                "components-0-quantity": "2",
            },
            200,
        ),
    ],
)
def test_ids_beyond_any_column_are_not_found_or_refused(
    world, signed_in, persona, method, url, data, status
):
    """Before the fix these reached SQLite as integers wider than 64 bits: a 500."""
    client = signed_in(getattr(world, persona))
    url = url.format(workshop=world.spare_workshop.service_id)
    before = fingerprint()

    response = client.post(url, data=data) if method == "POST" else client.get(url)

    assert response.status_code == status
    assert changed_tables(before, fingerprint()) == []
