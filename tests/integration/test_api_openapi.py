"""The OpenAPI document: valid, complete, and what the running API actually does."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from portal import api_tokens, booking
from portal.models import Role, ServiceType
from tests.fixtures.attendance import book_past_session, finish, join, past
from tests.fixtures.factories import future, make_course, make_service, make_user, make_workshop
from tests.fixtures.passes import held_pass, make_class_pass

SPEC = "/api/v1/openapi.json"


def test_spec_is_valid_openapi_and_needs_no_token(client):
    response = client.get(SPEC)
    assert response.status_code == 200 and response.mimetype == "application/json"
    validate(response.get_json())


def test_spec_describes_every_api_route_and_nothing_else(app, client):
    spec = client.get(SPEC).get_json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routed = {
        (re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    assert ("/api/v1/calendar/", "GET") in documented
    assert ("/api/v1/orders/{order_id}/mark-paid", "POST") in documented
    assert {("/api/v1/fees/", "GET"), ("/api/v1/fees/{fee_id}/waive", "POST")} <= documented


def test_spec_documents_parameters_bodies_and_errors(client):
    spec = client.get(SPEC).get_json()
    calendar = spec["paths"]["/api/v1/calendar/"]["get"]
    params = {p["name"]: p for p in calendar["parameters"]}
    assert params["start"]["required"] and params["end"]["required"]
    assert params["start"]["schema"] == {"type": "string", "format": "date-time"}
    assert not params["practitioner_id"]["required"]
    assert set(calendar["responses"]) == {"200", "400", "401", "403", "422", "429"}
    event = spec["components"]["schemas"]["Event"]["properties"]
    assert {"service_session_id", "attendee_count", "livekit_room", "attendees"} <= set(event)
    attendee = spec["components"]["schemas"]["Attendee"]["properties"]
    assert "livekit_identity" in attendee

    orders = spec["paths"]["/api/v1/orders"]["post"]
    assert orders["requestBody"]["required"] is True
    assert orders["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OrderRequest"
    }
    assert set(orders["responses"]) == {"201", "400", "401", "403", "409", "413", "422", "429"}
    order_request = spec["components"]["schemas"]["OrderRequest"]
    assert order_request["required"] == ["service_id"]
    assert order_request["additionalProperties"] is False
    error = spec["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"code", "message", "fields"}
    cancel = spec["paths"]["/api/v1/bookings/{booking_id}/cancel"]["post"]
    assert cancel["requestBody"]["required"] is False
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    # Every call, the public spec included, counts against the rate limit.
    limited = {
        f"{method} {path}": "429" in operation["responses"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    assert all(limited.values()), limited


def test_spec_documents_the_attendance_endpoints(client):
    spec = client.get(SPEC).get_json()
    schemas = spec["components"]["schemas"]

    attendance = spec["paths"]["/api/v1/sessions/{session_id}/attendance"]["get"]
    assert [p["name"] for p in attendance["parameters"]] == ["session_id"]
    assert set(attendance["responses"]) == {"200", "400", "401", "403", "404", "429"}
    assert attendance["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionAttendanceOut"
    }
    body = schemas["SessionAttendanceOut"]["properties"]
    assert {"session_id", "status", "booked", "attended", "no_shows", "participants"} <= set(body)
    participant = schemas["Participant"]
    assert {
        "user_id",
        "identity",
        "participant_sid",
        "joined_at",
        "left_at",
        "duration_seconds",
    } <= set(participant["required"])
    assert participant["properties"]["joined_at"]["anyOf"][0] == {
        "type": "string",
        "format": "date-time",
    }

    report = spec["paths"]["/api/v1/reports/no-shows"]["get"]
    params = {p["name"]: p for p in report["parameters"]}
    assert set(params) == {"start", "end", "practitioner_id", "service_id"}
    assert params["start"]["required"] and params["end"]["required"]
    assert not params["practitioner_id"]["required"] and not params["service_id"]["required"]
    assert params["service_id"]["schema"]["minimum"] == 1
    assert set(report["responses"]) == {"200", "400", "401", "403", "422", "429"}
    assert {"total", "by_service", "by_client", "weekly"} <= set(
        schemas["NoShowReportOut"]["required"]
    )
    assert "repeat_no_show" in schemas["ClientReportRow"]["properties"]
    assert schemas["WeekReportRow"]["properties"]["week_start"]["format"] == "date"

    completion = spec["paths"]["/api/v1/courses/{service_id}/completion"]["get"]
    assert [p["name"] for p in completion["parameters"]] == ["service_id"]
    assert set(completion["responses"]) == {"200", "400", "401", "403", "404", "429"}
    enrollee = schemas["Enrollee"]["properties"]
    assert {"user_id", "attended", "completed", "rate"} <= set(enrollee)


def test_spec_documents_the_class_pass_endpoints(client):
    spec = client.get(SPEC).get_json()
    schemas = spec["components"]["schemas"]

    listing = spec["paths"]["/api/v1/passes"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PassList"
    }
    assert set(listing["responses"]) == {"200", "400", "401", "403", "429"}
    held = schemas["PassOut"]["properties"]
    assert {"credits_left", "expires_at", "eligible_services", "usable"} <= set(held)

    buying = spec["paths"]["/api/v1/passes"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in buying["parameters"]]
    assert set(buying["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
        "429",
    }
    assert schemas["PassPurchaseRequest"]["required"] == ["service_id"]

    seat = spec["paths"]["/api/v1/passes/{pass_id}/book"]["post"]
    assert [p["name"] for p in seat["parameters"]] == ["pass_id"]
    assert set(seat["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "422", "429"}
    assert "pass_not_eligible" in seat["description"] and "pass_used_up" in seat["description"]


# Schemathesis: generated requests against the WSGI app, with a real bearer token.


@pytest.fixture
def fuzz_tokens(practitioner) -> list[str]:
    """A populated portal (so small ids exist) and a token for each role."""
    client_user = make_user()
    workshop = make_workshop(practitioner, seats=3, start=future(days=4))
    booking.book_workshop_seat(client_user, workshop)
    course = make_course(practitioner, sessions=2)
    booking.enroll_in_course(client_user, course)
    yoga = make_service(practitioner, name="Yoga")
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 2)])
    booking.buy_credits(client_user, bundle)
    pass_service = make_class_pass(practitioner, services=[workshop.service], price_cents=0)
    held_pass(client_user, pass_service)
    ran = book_past_session(practitioner, [client_user, make_user()], past(3))
    join(ran, client_user, 0, 45)
    join(ran, None, 5, None)
    finish(ran)
    owners = [client_user, practitioner, make_user(Role.STAFF)]
    return [api_tokens.issue_token(owner, "fuzz")[1] for owner in owners]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_matches_its_spec(app, fuzz_tokens, mode):
    """Every operation, with valid (positive) or invalid (negative) generated requests,
    for a client's, a practitioner's and a staff token: no 5xx, no undocumented status,
    no response off its schema, no invalid request accepted."""
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "GET /api/v1/calendar/",
        "GET /api/v1/services/",
        "GET /api/v1/sessions/{session_id}",
        "POST /api/v1/orders",
        "POST /api/v1/orders/{order_id}/mark-paid",
        "POST /api/v1/bookings/{booking_id}/schedule",
        "POST /api/v1/bookings/{booking_id}/cancel",
        "GET /api/v1/sessions/{session_id}/attendance",
        "GET /api/v1/reports/no-shows",
        "GET /api/v1/courses/{service_id}/completion",
        "GET /api/v1/passes",
        "POST /api/v1/passes",
        "POST /api/v1/passes/{pass_id}/book",
    }, [op.label for op in operations]

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            for token in fuzz_tokens:
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        check()


def test_a_nul_in_the_query_string_is_an_answer_the_spec_lists(app, fuzz_tokens):
    """The app refuses a NUL anywhere in the query before any view runs: every operation
    can answer that 400, so every operation documents it, with its error body."""
    schema = schemathesis.openapi.from_wsgi(SPEC, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    checked = []
    for operation in operations:
        path_parameters = {p.name: 1 for p in operation.path_parameters}
        for token in fuzz_tokens:
            case = operation.Case(path_parameters=path_parameters, query={"q": "a\x00b"})
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[status_code_conformance, response_schema_conformance],
            )
            assert response.status_code == 400, operation.label
        checked.append(operation.label)
    assert len(checked) == len(operations) >= 10
