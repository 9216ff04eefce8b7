"""Intake forms asked while booking (the public flow, plain HTML): the questions come
before the order; a required consent not signed blocks the booking, the page comes back
with the error and nothing is written; the answers and the booking commit together."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal import records
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Booking,
    IntakeDelivery,
    IntakeSubmission,
    ItemKind,
    Order,
    Role,
)
from tests.fixtures.factories import future, make_user, make_workshop

CONSENT = "I understand massage is not a substitute for medical care."


@pytest.fixture
def workshop(practitioner):
    session = make_workshop(practitioner, seats=5)
    form = records.create_form(
        practitioner,
        title="Health questions",
        delivery=IntakeDelivery.AT_BOOKING,
        required=True,
        items=[
            records.Item(key="", kind=ItemKind.SHORT_TEXT, label="Injuries", required=True),
            records.Item(key="", kind=ItemKind.FILE, label="Letter"),
            records.Item(key="", kind=ItemKind.CONSENT, label="Consent", consent_text=CONSENT),
        ],
        service_ids=[session.service_id],
    )
    return session, form


def _names(form):
    v = form.current
    return [f"v{v.id}_{i.key}" for i in records.items_of(v)]


def _counts():
    return (
        db.session.scalar(select(func.count(Booking.id))),
        db.session.scalar(select(func.count(Order.id))),
        db.session.scalar(select(func.count(IntakeSubmission.id))),
    )


def test_the_questions_come_before_the_order(signed_in, client_user, workshop):
    session, _form = workshop
    web = signed_in(client_user)
    before = _counts()
    page = web.post(f"/book/services/{session.service_id}/buy", data={"session_id": session.id})
    assert page.status_code == 200
    assert CONSENT in page.text and 'enctype="multipart/form-data"' in page.text
    assert _counts() == before
    # The confirm page a visitor reaches after signing in asks them too.
    page = web.get(f"/book/services/{session.service_id}/confirm?session_id={session.id}")
    assert CONSENT in page.text


def test_a_consent_not_signed_blocks_the_booking_and_writes_nothing(
    signed_in, client_user, workshop
):
    session, form = workshop
    injuries, _letter, _consent = _names(form)
    web = signed_in(client_user)
    before = _counts()
    response = web.post(
        f"/book/services/{session.service_id}/buy",
        data={"session_id": session.id, "intake_asked": "y", injuries: "None"},
    )
    assert response.status_code == 422
    assert "Type your full name to give your consent." in response.text
    # What was typed stays in its box.
    assert 'value="None"' in response.text
    assert _counts() == before
    assert not db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == AuditAction.BOOKING_CREATED)
    )


def test_a_wrong_file_blocks_the_booking_too(signed_in, client_user, workshop):
    session, form = workshop
    injuries, letter, consent = _names(form)
    web = signed_in(client_user)
    before = _counts()
    response = web.post(
        f"/book/services/{session.service_id}/buy",
        data={
            "session_id": session.id,
            "intake_asked": "y",
            injuries: "None",
            consent: "Ana Lima",
            letter: (io.BytesIO(b"MZ\x90\0 an executable"), "letter.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Upload a PDF, JPEG or PNG file." in response.text
    assert _counts() == before


def test_signed_consent_books_with_the_answers_in_one_go(signed_in, client_user, workshop):
    session, form = workshop
    injuries, letter, consent = _names(form)
    web = signed_in(client_user)
    response = web.post(
        f"/book/services/{session.service_id}/buy",
        data={
            "session_id": session.id,
            "intake_asked": "y",
            injuries: "Sprained ankle in May",
            consent: "Ana Lima",
            letter: (io.BytesIO(b"\xff\xd8\xff a photo of the letter"), "letter.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    (seat,) = db.session.scalars(select(Booking).where(Booking.user_id == client_user.id))
    submission = db.session.scalar(select(IntakeSubmission))
    assert submission.booking_id == seat.id and submission.version_id == form.current.id
    assert submission.uploads[0].content_type == "image/jpeg"
    read = records.read_submission(submission, client_user)
    assert read.answers[2].value["name"] == "Ana Lima"

    # Answered once: the next booking of the service asks nothing.
    other = make_workshop(session.practitioner, seats=5, start=future(days=9))
    form.services.append(other.service)
    db.session.commit()
    page = web.post(f"/book/services/{other.service_id}/buy", data={"session_id": other.id})
    assert page.status_code == 302


def test_the_order_page_shows_the_answers_to_client_and_practitioner_only(
    client, signed_in, client_user, practitioner, workshop
):
    session, form = workshop
    injuries, _letter, consent = _names(form)
    web = signed_in(client_user)
    response = web.post(
        f"/book/services/{session.service_id}/buy",
        data={"session_id": session.id, "intake_asked": "y", injuries: "No", consent: "Ana"},
    )
    order_url = response.headers["Location"]
    submission = db.session.scalar(select(IntakeSubmission))
    link = f"/intake/answers/{submission.id}"
    assert link in web.get(order_url).text
    web.post("/auth/logout")
    assert link in signed_in(practitioner).get(order_url).text
    client.post("/auth/logout")
    staff_page = signed_in(make_user(Role.STAFF)).get(order_url)
    assert staff_page.status_code == 200 and link not in staff_page.text


def test_the_api_refuses_a_booking_whose_required_form_is_unanswered(api_as, client_user, workshop):
    """The API has no questions to ask: a required form (its consent) is answered on the
    service's page first, so the API refuses and writes nothing."""
    session, _form = workshop
    before = _counts()
    answer = api_as(client_user).post(
        "/api/v1/orders",
        json={"service_id": session.service_id, "service_session_id": session.id},
    )
    assert answer.status_code == 409
    assert "intake form" in answer.json["error"]["message"]
    assert _counts() == before
