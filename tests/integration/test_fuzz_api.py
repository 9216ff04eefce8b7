"""Hypothesis over every JSON body and query string of the API (schemas.py): wrong
types, missing and unknown fields, non-object bodies, huge strings, NUL and lone
surrogates (legal as JSON escapes), huge and negative numbers, impossible dates and
DST-ambiguous local times.

Property: never a 5xx; a 4xx has the API's error shape and changes no row.
"""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import booking
from portal.booking import working_hours
from portal.models import Role, ServiceType
from tests.fixtures.api import error_of
from tests.fixtures.factories import future, make_course, make_service, make_user, make_workshop
from tests.fixtures.fuzz import FUZZ_SETTINGS, HOSTILE, changed_tables, fingerprint

ZONE = "Europe/Lisbon"

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u0000evil"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)

instants = st.one_of(
    st.sampled_from(
        [
            "2027-03-28T01:30:00",  # naive, inside Lisbon's spring gap
            "2027-03-28T01:30:00+00:00",
            "2027-10-31T01:30:00+01:00",  # the first of Lisbon's two 01:30s
            "2027-10-31T01:30:00+00:00",  # the second
            "2026-03-29T01:30:00+01:00",
            "2026-02-30T10:00:00+00:00",
            "2030-01-01T24:00:00+00:00",
            "0000-01-01T00:00:00+00:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2030-01-01T10:00:00+24:00",
            "2030-01-01T10:00:00Z",
            "2030-01-01",
            "10:00",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
ids = st.one_of(st.integers(min_value=-5, max_value=2**40), st.sampled_from([0, 2**31, 2**63]))


def maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(valid, valid, json_values)


def body(fields: dict) -> st.SearchStrategy:
    """A JSON object whose fields may be missing, mistyped or joined by unknown ones;
    sometimes no object at all."""
    objects = st.fixed_dictionaries({}, optional={**fields, "extra": json_values, "": json_values})
    return st.one_of(objects, objects, objects, json_values)


@pytest.fixture
def api_world(app):
    practitioner = make_user(Role.PRACTITIONER, timezone=ZONE)
    working_hours.set_weekly_hours(
        practitioner, {day: [(time(0), time(23, 59))] for day in range(7)}
    )
    working_hours.update_schedule_settings(
        practitioner,
        buffer_minutes=0,
        min_notice_minutes=60,
        horizon_days=730,
        slot_step_minutes=30,
    )
    client = make_user(Role.CLIENT, timezone=ZONE)
    individual = make_service(practitioner, name="Massage")
    workshop = make_workshop(practitioner, seats=3, start=future(days=4))
    course = make_course(practitioner, sessions=2)
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(individual, 3)])
    credits = booking.buy_credits(client, bundle)
    booking.confirm_payment(credits)
    pending = booking.book_workshop_seat(make_user(Role.CLIENT), workshop)
    slots = booking.available_slots(
        practitioner, timedelta(hours=1), future(days=9, hour=0), future(days=10, hour=0)
    )
    return {
        "practitioner": practitioner,
        "client": client,
        "staff": make_user(Role.STAFF),
        "service_ids": [individual.id, workshop.service_id, course.id, bundle.id],
        "session_ids": [workshop.id],
        "credit_ids": [b.id for b in credits.bookings],
        "order_ids": [pending.id, credits.id],
        "slots": [s.isoformat() for s in slots[:10]],
    }


def operations(w: dict) -> dict:
    service_ids = st.one_of(st.sampled_from(w["service_ids"]), ids)
    starts = st.one_of(st.sampled_from(w["slots"]), instants)
    credit = st.sampled_from(w["credit_ids"])
    order = st.sampled_from(w["order_ids"])
    return {
        "create_order": (
            "client",
            st.just("/api/v1/orders"),
            body(
                {
                    "service_id": maybe(service_ids),
                    "start_time": maybe(starts),
                    "service_session_id": maybe(st.one_of(st.sampled_from(w["session_ids"]), ids)),
                }
            ),
        ),
        "mark_paid": (
            "practitioner",
            order.map(lambda n: f"/api/v1/orders/{n}/mark-paid"),
            body({"reference": maybe(st.text(max_size=20))}),
        ),
        "schedule": (
            "client",
            credit.map(lambda n: f"/api/v1/bookings/{n}/schedule"),
            body({"start_time": maybe(starts)}),
        ),
        "cancel": (
            "client",
            credit.map(lambda n: f"/api/v1/bookings/{n}/cancel"),
            body({"reason": maybe(st.text(max_size=20))}),
        ),
    }


def queries(w: dict) -> dict:
    window = st.fixed_dictionaries(
        {},
        optional={
            "start": st.one_of(instants, st.sampled_from(HOSTILE)),
            "end": st.one_of(instants, st.sampled_from(HOSTILE)),
            "practitioner_id": st.one_of(ids.map(str), st.sampled_from(HOSTILE)),
        },
    )
    return {
        "calendar": ("staff", "/api/v1/calendar/", window),
        "services": (
            "client",
            "/api/v1/services/",
            st.fixed_dictionaries(
                {}, optional={"practitioner_id": st.one_of(ids.map(str), st.sampled_from(HOSTILE))}
            ),
        ),
    }


def check_answer(response, before: dict) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        error_of(response)
        assert changed_tables(before, fingerprint()) == []


@pytest.mark.parametrize("name", ["create_order", "mark_paid", "schedule", "cancel"])
def test_hostile_bodies_never_fail_and_refused_ones_change_nothing(api_world, api_as, name):
    persona, paths, bodies = operations(api_world)[name]
    api = api_as(api_world[persona])

    @given(path=paths, payload=bodies, raw=st.booleans())
    @FUZZ_SETTINGS
    def check(path, payload, raw):
        before = fingerprint()
        if raw:  # escapes as sent by other JSON encoders: lone surrogates stay \\udXXX
            data = json.dumps(payload).encode()
            response = api.post(path, data=data, headers={"Content-Type": "application/json"})
        else:
            response = api.post(path, json=payload)
        check_answer(response, before)

    check()


@pytest.mark.parametrize("name", ["calendar", "services"])
def test_hostile_query_strings_never_fail(api_world, api_as, name):
    persona, path, params = queries(api_world)[name]
    api = api_as(api_world[persona])

    @given(query=params)
    @FUZZ_SETTINGS
    def check(query):
        before = fingerprint()
        check_answer(api.get(path, query_string=query), before)

    check()


@pytest.mark.parametrize(
    "data",
    [
        b'{"reference": "a\\u0000b"}',
        b'{"reference": "\\ud800"}',
        b'{"reference": "\\udfff\\ud800"}',
        b"\xff\xfe{}",
        b'{"reference": "' + b"x" * 20_000 + b'"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"reference": 1e999}',
    ],
)
def test_bodies_postgresql_cannot_store_are_refused(api_world, api_as, data):
    """NUL and lone surrogates are valid JSON escapes but no database text: a 4xx."""
    api = api_as(api_world["practitioner"])
    before = fingerprint()

    response = api.post(
        f"/api/v1/orders/{api_world['order_ids'][0]}/mark-paid",
        data=data,
        headers={"Content-Type": "application/json"},
    )

    assert 400 <= response.status_code < 500
    error_of(response)
    assert changed_tables(before, fingerprint()) == []
