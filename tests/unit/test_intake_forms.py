"""Intake forms: versions that never rewrite old answers, answers sealed at rest, uploads
checked for size and kind and stored encrypted, and every operation in the audit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text

from portal import booking, records
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    IntakeDelivery,
    IntakeSubmission,
    IntakeUpload,
    ItemKind,
    Role,
    ServiceType,
)
from tests.fixtures.factories import make_service, make_user

SECRET = "Herniated disc L4 zq7"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64

QUESTIONS = [
    records.Item(key="", kind=ItemKind.LONG_TEXT, label="Injuries or conditions", required=True),
    records.Item(
        key="",
        kind=ItemKind.SINGLE_CHOICE,
        label="Pressure",
        options=("Light", "Medium", "Firm"),
    ),
    records.Item(key="", kind=ItemKind.MULTIPLE_CHOICE, label="Areas", options=("Back", "Neck")),
    records.Item(key="", kind=ItemKind.CHECKBOX, label="First visit"),
    records.Item(key="", kind=ItemKind.DATE, label="Date of birth"),
    records.Item(key="", kind=ItemKind.NUMBER, label="Pain (0-10)"),
    records.Item(key="", kind=ItemKind.PHONE, label="Emergency phone"),
    records.Item(key="", kind=ItemKind.FILE, label="Doctor's letter"),
    records.Item(
        key="", kind=ItemKind.CONSENT, label="Consent", consent_text="I consent to massage."
    ),
]


def make_form(practitioner, **kw):
    return records.create_form(
        practitioner,
        title=kw.pop("title", "Massage intake"),
        delivery=kw.pop("delivery", IntakeDelivery.AT_BOOKING),
        required=kw.pop("required", True),
        items=kw.pop("items", QUESTIONS),
        **kw,
    )


def full_answers(form, **overrides):
    items = records.items_of(form.current)
    values = dict(
        zip(
            [i.key for i in items],
            [
                SECRET,
                "Firm",
                ["Neck"],
                True,
                date(1990, 5, 17),
                7,
                "+351 912 345 678",
                records.Upload(PNG),
                "Ana Lima",
            ],
            strict=True,
        )
    )
    values.update({items[int(k[1:])].key: v for k, v in overrides.items()})
    return records.Answers(form.current, values)


def test_answers_are_sealed_and_read_back_with_their_version(practitioner, client_user):
    form = make_form(practitioner)
    submission = records.submit_answers(client_user, full_answers(form))
    raw = db.session.execute(
        text("SELECT answers_encrypted FROM intake_submissions WHERE id = :id"),
        {"id": submission.id},
    ).scalar_one()
    assert SECRET not in raw and "Ana Lima" not in raw
    read = records.read_submission(submission, practitioner)
    by_label = {a.item.label: a.value for a in read.answers}
    assert by_label["Injuries or conditions"] == SECRET
    assert by_label["Areas"] == ["Neck"]
    assert by_label["Date of birth"] == "1990-05-17"
    assert by_label["Pain (0-10)"] == 7
    assert by_label["Consent"]["name"] == "Ana Lima"
    assert by_label["Consent"]["signed_at"]
    (upload,) = submission.uploads
    assert upload.content_type == "image/png"
    assert records.read_upload(upload, client_user)[0] == PNG


def test_an_upload_is_stored_encrypted_outside_the_web_root(app, practitioner, client_user):
    form = make_form(practitioner)
    submission = records.submit_answers(client_user, full_answers(form))
    (upload,) = submission.uploads
    stored = Path(app.config["PORTAL_MEDIA_DIR"]) / "intake" / upload.stored_name
    assert stored.exists() and PNG not in stored.read_bytes()
    assert not str(stored).startswith(app.static_folder)


def test_editing_makes_a_new_version_and_old_answers_keep_theirs(practitioner, client_user):
    form = make_form(practitioner)
    first = records.submit_answers(client_user, full_answers(form))
    changed = [
        records.Item(
            key=i.key,
            kind=i.kind,
            label=i.label,
            options=i.options,
            consent_text=i.consent_text,
            required=i.required,
        )
        for i in records.items_of(form.current)
    ]
    changed[0] = records.Item(
        key=changed[0].key, kind=ItemKind.LONG_TEXT, label="Any medical conditions?", required=True
    )
    records.update_form(
        form,
        practitioner,
        title=form.title,
        delivery=form.delivery,
        required=True,
        items=changed,
    )
    assert [v.number for v in form.versions] == [1, 2]
    read = records.read_submission(first, practitioner)
    assert read.submission.version.number == 1
    assert read.answers[0].item.label == "Injuries or conditions"
    assert form.versions[0].items[0]["label"] == "Injuries or conditions"
    # Saving the same questions again writes no version.
    records.update_form(
        form, practitioner, title="Renamed", delivery=form.delivery, required=True, items=changed
    )
    assert [v.number for v in form.versions] == [1, 2]


def test_a_required_consent_without_a_name_writes_nothing(practitioner, client_user):
    form = make_form(practitioner)
    with pytest.raises(booking.InvalidInput) as refused:
        records.submit_answers(client_user, full_answers(form, q8="  "))
    assert refused.value.field == records.items_of(form.current)[8].key
    assert db.session.scalar(select(IntakeSubmission.id)) is None
    assert db.session.scalar(select(IntakeUpload.id)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"GIF89a" + b"\0" * 10, "PDF, JPEG or PNG"), (b"MZ\x90\0", "PDF, JPEG or PNG")],
)
def test_an_upload_of_another_kind_is_refused(practitioner, client_user, data, message):
    form = make_form(practitioner)
    with pytest.raises(booking.InvalidInput) as refused:
        records.submit_answers(client_user, full_answers(form, q7=records.Upload(data)))
    assert message in refused.value.message
    assert db.session.scalar(select(IntakeSubmission.id)) is None


def test_an_upload_over_the_limit_is_refused_and_no_file_stays(app, practitioner, client_user):
    app.config["PORTAL_INTAKE_UPLOAD_MAX_BYTES"] = 100
    form = make_form(practitioner)
    big = records.Upload(PDF + b"x" * 100)
    with pytest.raises(booking.InvalidInput) as refused:
        records.submit_answers(client_user, full_answers(form, q7=big))
    assert "larger" in refused.value.message
    folder = Path(app.config["PORTAL_MEDIA_DIR"]) / "intake"
    assert not folder.exists() or not list(folder.iterdir())


def test_a_refused_answer_after_a_stored_file_removes_the_file(app, practitioner, client_user):
    """A file is written before the transaction commits; a rollback takes it away again."""
    form = make_form(practitioner)
    with pytest.raises(booking.InvalidInput):
        records.submit_answers(client_user, full_answers(form, q1="Not an option"))
    folder = Path(app.config["PORTAL_MEDIA_DIR"]) / "intake"
    assert not folder.exists() or not list(folder.iterdir())


def test_only_the_client_and_the_practitioner_read_answers(practitioner, client_user):
    form = make_form(practitioner)
    submission = records.submit_answers(client_user, full_answers(form))
    for other in (make_user(Role.CLIENT), make_user(Role.PRACTITIONER), make_user(Role.STAFF)):
        with pytest.raises(booking.NotPermitted):
            records.read_submission(submission, other)
        with pytest.raises(booking.NotPermitted):
            records.read_upload(submission.uploads[0], other)


def test_every_operation_is_in_the_audit_log_without_the_answers(practitioner, client_user):
    form = make_form(practitioner)
    records.update_form(
        form,
        practitioner,
        title="Renamed",
        delivery=IntakeDelivery.BY_EMAIL,
        required=True,
        items=records.items_of(form.current),
    )
    submission = records.submit_answers(client_user, full_answers(form))
    records.read_submission(submission, client_user)  # the client's own read: not logged
    records.read_submission(submission, practitioner)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == [
        AuditAction.INTAKE_FORM_CREATED,
        AuditAction.INTAKE_FORM_CHANGED,
        AuditAction.INTAKE_ANSWERS_SUBMITTED,
        AuditAction.INTAKE_ANSWERS_READ,
    ]
    assert entries[1].before["delivery"] == "at_booking"
    assert entries[1].after["delivery"] == "by_email"
    assert entries[3].actor_id == practitioner.id and entries[3].client_id == client_user.id
    assert not [e for e in entries if SECRET in str(e.after) or "Ana Lima" in str(e.after)]


def test_a_form_is_attached_to_own_services_only(practitioner):
    other = make_service(make_user(Role.PRACTITIONER))
    with pytest.raises(booking.InvalidInput):
        make_form(practitioner, service_ids=[other.id])
    bundle = make_service(practitioner, ServiceType.BUNDLE)
    with pytest.raises(booking.InvalidInput):
        make_form(practitioner, service_ids=[bundle.id])
    form = make_form(practitioner, service_ids=[bundle.id], delivery=IntakeDelivery.BY_EMAIL)
    assert form.services == [bundle]


def test_a_choice_needs_options_and_a_consent_its_text(practitioner):
    with pytest.raises(booking.InvalidInput):
        make_form(
            practitioner,
            items=[records.Item(key="", kind=ItemKind.SINGLE_CHOICE, label="Pick", options=("a",))],
        )
    with pytest.raises(booking.InvalidInput):
        make_form(
            practitioner, items=[records.Item(key="", kind=ItemKind.CONSENT, label="Consent")]
        )
