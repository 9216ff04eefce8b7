"""Intake forms through plain HTML forms (no JavaScript): the builder and its versions,
the emailed link (single use), the answers and their files for those who may read them."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal import booking, records
from portal.extensions import db
from portal.models import (
    IntakeDelivery,
    IntakeForm,
    IntakeRequest,
    IntakeSubmission,
    ItemKind,
    Role,
)
from portal.records.intake_requests import link_token
from tests.fixtures.factories import future, make_service, make_user, open_all_week

CONSENT = "I agree to be treated; I may stop at any time."


def builder_data(title="Massage intake", **extra):
    data = {
        "title": title,
        "delivery": "at_booking",
        "required": "y",
        "items-0-kind": "long_text",
        "items-0-label": "Conditions we should know about",
        "items-0-required": "y",
        "items-1-kind": "single_choice",
        "items-1-label": "Pressure",
        "items-1-options": "Light\nMedium\nFirm",
        "items-2-kind": "file",
        "items-2-label": "Doctor's letter",
        "items-3-kind": "consent",
        "items-3-label": "Consent to treatment",
        "items-3-consent_text": CONSENT,
    }
    data.update(extra)
    return data


def test_a_practitioner_builds_and_edits_a_form_without_javascript(signed_in, practitioner):
    service = make_service(practitioner, name="Deep tissue")
    web = signed_in(practitioner)
    page = web.get("/intake/forms/new")
    assert page.status_code == 200 and 'name="items-0-label"' in page.text
    response = web.post("/intake/forms/new", data=builder_data(services=str(service.id)))
    assert response.status_code == 302
    form = db.session.scalar(select(IntakeForm))
    assert [s.id for s in form.services] == [service.id]
    assert [i.kind for i in records.items_of(form.current)] == [
        ItemKind.LONG_TEXT,
        ItemKind.SINGLE_CHOICE,
        ItemKind.FILE,
        ItemKind.CONSENT,
    ]
    page = web.get(response.headers["Location"])
    # The saved questions and one blank one to add.
    assert 'name="items-4-label"' in page.text and "Version 1" in page.text

    keys = [i.key for i in records.items_of(form.current)]
    edit = builder_data(**{f"items-{n}-key": key for n, key in enumerate(keys)})
    edit["items-1-remove"] = "y"
    response = web.post(f"/intake/forms/{form.id}", data=edit)
    assert response.status_code == 302
    db.session.expire_all()
    assert [v.number for v in form.versions] == [1, 2]
    assert len(form.versions[0].items) == 4 and len(form.versions[1].items) == 3
    # Questions keep their keys across versions.
    assert [i["key"] for i in form.versions[1].items] == [keys[0], keys[2], keys[3]]


def test_a_bad_form_rerenders_with_its_error(signed_in, practitioner):
    web = signed_in(practitioner)
    data = builder_data()
    data["items-3-consent_text"] = ""
    response = web.post("/intake/forms/new", data=data)
    assert response.status_code == 422
    assert "write the text the client consents to" in response.text
    assert db.session.scalar(select(func.count(IntakeForm.id))) == 0


@pytest.fixture
def sent(practitioner, client_user):
    form = records.create_form(
        practitioner,
        title="Before we meet",
        delivery=IntakeDelivery.BY_EMAIL,
        required=True,
        items=[
            records.Item(key="", kind=ItemKind.SHORT_TEXT, label="Goals"),
            records.Item(key="", kind=ItemKind.FILE, label="Letter"),
            records.Item(key="", kind=ItemKind.CONSENT, label="Consent", consent_text=CONSENT),
        ],
    )
    open_all_week(practitioner)
    order = booking.book_individual_session(client_user, make_service(practitioner), future(3))
    request = IntakeRequest(
        form_id=form.id, client_id=client_user.id, booking_id=order.bookings[0].id
    )
    db.session.add(request)
    db.session.commit()
    return request


def _fields(request):
    version = request.form.current
    goals, letter, consent = records.items_of(version)
    return {
        "goals": f"v{version.id}_{goals.key}",
        "letter": f"v{version.id}_{letter.key}",
        "consent": f"v{version.id}_{consent.key}",
    }


def test_the_link_asks_and_refuses_without_consent_writing_nothing(client, sent):
    url = f"/intake/answer/{link_token(sent)}"
    page = client.get(url)
    assert page.status_code == 200 and CONSENT in page.text
    names = _fields(sent)
    response = client.post(url, data={names["goals"]: "Sleep better"})
    assert response.status_code == 422
    assert "Type your full name to give your consent." in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


def test_the_link_works_once(client, sent, client_user, practitioner, signed_in):
    url = f"/intake/answer/{link_token(sent)}"
    names = _fields(sent)
    response = client.post(
        url,
        data={
            names["goals"]: "Sleep better",
            names["consent"]: "Ana Lima",
            names["letter"]: (io.BytesIO(b"%PDF-1.4 from my GP"), "letter.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    submission = db.session.scalar(select(IntakeSubmission))
    assert submission.client_id == client_user.id and submission.booking_id == sent.booking_id
    again = client.post(url, data={names["goals"]: "twice", names["consent"]: "Ana"})
    assert again.status_code == 410
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 1

    web = signed_in(practitioner)
    page = web.get(f"/intake/answers/{submission.id}")
    assert page.status_code == 200 and "Sleep better" in page.text and "Ana Lima" in page.text
    (upload,) = submission.uploads
    download = web.get(f"/intake/uploads/{upload.id}")
    assert download.data == b"%PDF-1.4 from my GP"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/pdf"


def test_an_altered_link_is_not_found(client, sent):
    assert client.get(f"/intake/answer/{link_token(sent)}x").status_code == 404


def test_a_file_over_the_limit_is_refused_before_it_is_read(app, client, sent):
    app.config["PORTAL_INTAKE_UPLOAD_MAX_BYTES"] = 1000
    names = _fields(sent)
    response = client.post(
        f"/intake/answer/{link_token(sent)}",
        data={
            names["consent"]: "Ana Lima",
            names["letter"]: (io.BytesIO(b"%PDF-" + b"x" * 200_000), "big.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than" in response.text
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


def test_a_file_of_another_kind_is_refused_next_to_its_question(client, sent):
    names = _fields(sent)
    response = client.post(
        f"/intake/answer/{link_token(sent)}",
        data={
            names["consent"]: "Ana Lima",
            names["letter"]: (io.BytesIO(b"<html><script>"), "letter.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Upload a PDF, JPEG or PNG file." in response.text
    assert db.session.scalar(select(func.count(IntakeSubmission.id))) == 0


def test_staff_and_others_do_not_see_the_answers(signed_in, sent, client_user):
    version = sent.form.current
    goals, _letter, consent = records.items_of(version)
    submission = records.submit_answers(
        client_user, records.Answers(version, {goals.key: "x", consent.key: "Ana"})
    )
    for other in (make_user(Role.STAFF), make_user(Role.CLIENT), make_user(Role.PRACTITIONER)):
        web = signed_in(other)
        assert web.get(f"/intake/answers/{submission.id}").status_code == 404
        web.post("/auth/logout")
