"""Where a practitioner meets the answers: the session roster (answered, or a required
form missing), the dashboard's to-do list, the client's record. Staff see none of it."""

from __future__ import annotations

import pytest

from portal import records
from portal.extensions import db
from portal.models import IntakeDelivery, ItemKind, Role
from tests.fixtures.client_portal import day_at, full_workshop
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.livekit import confirmed_seat
from tests.integration.test_query_counts import counted

TITLE = "Yoga health check"


@pytest.fixture
def roster(practitioner):
    session = make_workshop(practitioner, seats=4)
    form = records.create_form(
        practitioner,
        title=TITLE,
        delivery=IntakeDelivery.BY_EMAIL,
        required=True,
        items=[records.Item(key="", kind=ItemKind.SHORT_TEXT, label="Injuries")],
        service_ids=[session.service_id],
    )
    answered, missing = make_user(name="Ana Answered"), make_user(name="Mo Missing")
    seat = confirmed_seat(answered, session)
    confirmed_seat(missing, session)
    (item,) = records.items_of(form.current)
    submission = records.submit_answers(
        answered, records.Answers(form.current, {item.key: "none"}), booking_id=seat.id
    )
    return session, submission, answered


def test_the_roster_links_answers_and_flags_a_missing_form(signed_in, practitioner, roster):
    session, submission, _answered = roster
    page = signed_in(practitioner).get(f"/calendar/sessions/{session.id}").text
    assert f"/intake/answers/{submission.id}" in page
    assert f"Answers: {TITLE}" in page
    assert page.count(f"{TITLE} missing") == 1


def test_staff_see_the_roster_without_the_forms(signed_in, roster):
    session, submission, _answered = roster
    page = signed_in(make_user(Role.STAFF)).get(f"/calendar/sessions/{session.id}").text
    assert "Mo Missing" in page
    assert TITLE not in page and f"/intake/answers/{submission.id}" not in page


def test_the_dashboard_lists_bookings_missing_a_required_form(signed_in, practitioner, roster):
    page = signed_in(practitioner).get("/").text
    assert "1 coming booking without its required form" in page
    todo = page[page.index("without its required form") :]
    assert "Mo Missing" in todo and "Ana Answered" not in todo


def test_the_record_shows_the_answers_with_their_version(signed_in, practitioner, roster):
    _session, submission, answered = roster
    page = signed_in(practitioner).get(f"/clients/{answered.id}").text
    assert f"/intake/answers/{submission.id}" in page
    assert "(version 1)" in page


def _roster_queries(web, session_id: int) -> int:
    db.session.expunge_all()
    with counted() as statements:
        assert web.get(f"/calendar/sessions/{session_id}").status_code == 200
    return len(statements)


def test_the_roster_reads_its_forms_in_a_fixed_number_of_queries(signed_in, practitioner):
    small, _ = full_workshop(practitioner, seats=1, start=day_at(4, 9))
    large, _ = full_workshop(practitioner, seats=12, start=day_at(5, 9))
    records.create_form(
        practitioner,
        title=TITLE,
        delivery=IntakeDelivery.BY_EMAIL,
        required=True,
        items=[records.Item(key="", kind=ItemKind.SHORT_TEXT, label="Injuries")],
        service_ids=[small.service_id, large.service_id],
    )
    web = signed_in(practitioner)
    small_id, large_id = small.id, large.id
    assert _roster_queries(web, small_id) == _roster_queries(web, large_id)
    assert web.get(f"/calendar/sessions/{large_id}").text.count(f"{TITLE} missing") == 12
