"""Intake forms: a practitioner's questions, versioned, and the clients' answers.

A form's questions are never edited in place: saving changed questions writes the next
version, and each submission keeps the version it answered, so old answers always read
with the questions they were given to. Answers are health data: their JSON is sealed with
Fernet (portal/crypto.py, the key the session notes use) and uploads are stored encrypted
under PORTAL_MEDIA_DIR/intake, each served only to the practitioner who asks and the client
who answered (`may_read`). Staff are not let in: intake answers are as private as session
notes, which staff read only when the author shares them, and forms have no sharing.

Every creation, change, submission and practitioner's read is in the audit log (never
the answers themselves).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, bindparam, delete, exists, select
from sqlalchemy.orm import selectinload

from .. import audit, booking, crypto
from ..core.errors import DomainError, InvalidInput, NotPermitted
from ..core.transactions import if_rolled_back, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    CHOICE_KINDS,
    AuditAction,
    Booking,
    BookingStatus,
    IntakeDelivery,
    IntakeForm,
    IntakeFormVersion,
    IntakeRequest,
    IntakeSubmission,
    IntakeUpload,
    ItemKind,
    Order,
    Service,
    ServiceSession,
    User,
    service_intake_forms,
)

log = logging.getLogger(__name__)

MAX_ITEMS = 50
LABEL_MAX = 300
TEXT_MAX = 5_000
CONSENT_MAX = 10_000
MAX_OPTIONS = 30
OPTION_MAX = 120
# What an upload may be, told by its first bytes (never by its name or declared type).
UPLOAD_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
UPLOAD_SUFFIX = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class Item:
    key: str
    kind: ItemKind
    label: str
    help: str = ""
    required: bool = False
    options: tuple[str, ...] = ()
    consent_text: str = ""

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "label": self.label,
            "help": self.help,
            "required": self.required,
            "options": list(self.options),
            "consent_text": self.consent_text,
        }

    @classmethod
    def from_json(cls, data: dict) -> Item:
        return cls(
            key=data["key"],
            kind=ItemKind(data["kind"]),
            label=data["label"],
            help=data.get("help", ""),
            required=bool(data.get("required")),
            options=tuple(data.get("options", ())),
            consent_text=data.get("consent_text", ""),
        )


def items_of(version: IntakeFormVersion) -> list[Item]:
    return [Item.from_json(item) for item in version.items]


def new_key() -> str:
    return "q" + secrets.token_hex(4)


def clean_items(items: Iterable[Item]) -> list[Item]:
    """The questions as they will be stored, or InvalidInput naming what is wrong. A
    consent is always required (that is what makes it a consent)."""
    cleaned: list[Item] = []
    for n, item in enumerate(items, start=1):
        label = " ".join(item.label.split())
        where = gettext("Question %(num)d", num=n)
        if not label or len(label) > LABEL_MAX:
            raise InvalidInput(
                gettext(
                    "%(where)s needs a label under %(num)d characters.", where=where, num=LABEL_MAX
                )
            )
        options = tuple(dict.fromkeys(o.strip() for o in item.options if o.strip()))
        if item.kind in CHOICE_KINDS:
            if len(options) < 2 or len(options) > MAX_OPTIONS:
                raise InvalidInput(
                    gettext(
                        "%(where)s needs between 2 and %(num)d options.",
                        where=where,
                        num=MAX_OPTIONS,
                    )
                )
            if any(len(o) > OPTION_MAX for o in options):
                raise InvalidInput(
                    gettext(
                        "%(where)s: keep each option under %(num)d characters.",
                        where=where,
                        num=OPTION_MAX,
                    )
                )
        else:
            options = ()
        consent_text = item.consent_text.strip() if item.kind == ItemKind.CONSENT else ""
        if item.kind == ItemKind.CONSENT and not consent_text:
            raise InvalidInput(
                gettext("%(where)s: write the text the client consents to.", where=where)
            )
        if len(consent_text) > CONSENT_MAX:
            raise InvalidInput(gettext("%(where)s: the consent text is too long.", where=where))
        cleaned.append(
            Item(
                key=item.key or new_key(),
                kind=ItemKind(item.kind),
                label=label,
                help=item.help.strip()[:LABEL_MAX],
                required=item.required or item.kind == ItemKind.CONSENT,
                options=options,
                consent_text=consent_text,
            )
        )
    if not cleaned:
        raise InvalidInput(gettext("Add at least one question."))
    if len(cleaned) > MAX_ITEMS:
        raise InvalidInput(gettext("Ask at most %(num)d questions.", num=MAX_ITEMS))
    if len({item.key for item in cleaned}) != len(cleaned):
        raise InvalidInput(gettext("Two questions have the same key."))
    return cleaned


def _own_services(practitioner: User, service_ids: Iterable[int]) -> list[Service]:
    wanted = set(service_ids)
    if not wanted:
        return []
    services = list(
        db.session.scalars(
            select(Service).where(
                Service.id.in_(wanted), Service.primary_practitioner_id == practitioner.id
            )
        )
    )
    if len(services) != len(wanted):
        raise InvalidInput(gettext("Pick among your own services."), field="services")
    return services


def _check_delivery(delivery: IntakeDelivery, services: list[Service]) -> None:
    # Packages and bundles are bought before any session exists: there is no booking to ask
    # on. Their clients get the link by email before their first session instead.
    if delivery == IntakeDelivery.AT_BOOKING and any(s.is_credit_based for s in services):
        raise InvalidInput(
            gettext("Packages and bundles ask their forms by email: pick that for them."),
            field="delivery",
        )


def _form_values(form: IntakeForm) -> dict:
    return {
        "title": form.title,
        "delivery": form.delivery,
        "required": form.required,
        "version": form.current.number,
        "service_ids": sorted(s.id for s in form.services),
    }


@unit_of_work
def create_form(
    practitioner: User,
    *,
    title: str,
    delivery: IntakeDelivery,
    required: bool,
    items: list[Item],
    service_ids: Iterable[int] = (),
) -> IntakeForm:
    if not practitioner.is_practitioner:
        raise NotPermitted(gettext("Only practitioners build intake forms."))
    services = _own_services(practitioner, service_ids)
    delivery = IntakeDelivery(delivery)
    _check_delivery(delivery, services)
    form = IntakeForm(
        practitioner_id=practitioner.id,
        title=_title(title),
        delivery=delivery,
        required=required,
        services=services,
    )
    form.versions.append(
        IntakeFormVersion(number=1, items=[i.as_json() for i in clean_items(items)])
    )
    db.session.add(form)
    db.session.flush()
    audit.record(
        AuditAction.INTAKE_FORM_CREATED,
        "intake_form",
        form.id,
        practitioner_id=practitioner.id,
        after=_form_values(form),
    )
    log.info("intake form created: form %s by practitioner %s", form.id, practitioner.id)
    return form


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title or len(title) > 200:
        raise InvalidInput(gettext("Give the form a title under 200 characters."), field="title")
    return title


@unit_of_work
def update_form(
    form: IntakeForm,
    practitioner: User,
    *,
    title: str,
    delivery: IntakeDelivery,
    required: bool,
    items: list[Item],
    service_ids: Iterable[int] = (),
) -> IntakeForm:
    """Save the form; changed questions become its next version, the old ones stay as
    they were for the answers given to them."""
    if form.practitioner_id != practitioner.id:
        raise NotPermitted(gettext("Only the form's practitioner changes it."))
    services = _own_services(practitioner, service_ids)
    delivery = IntakeDelivery(delivery)
    _check_delivery(delivery, services)
    before = _form_values(form)
    cleaned = [i.as_json() for i in clean_items(items)]
    form.title = _title(title)
    form.delivery = delivery
    form.required = required
    form.services = services
    if cleaned != form.current.items:
        form.versions.append(
            IntakeFormVersion(number=form.current.number + 1, items=cleaned, created_at=utcnow())
        )
    db.session.flush()
    after = _form_values(form)
    if after != before:
        audit.record(
            AuditAction.INTAKE_FORM_CHANGED,
            "intake_form",
            form.id,
            practitioner_id=practitioner.id,
            before=before,
            after=after,
        )
        log.info("intake form changed: form %s, now version %s", form.id, after["version"])
    return form


def forms_of(practitioner: User) -> list[IntakeForm]:
    return list(
        db.session.scalars(
            select(IntakeForm)
            .where(IntakeForm.practitioner_id == practitioner.id)
            .order_by(IntakeForm.title, IntakeForm.id)
        )
    )


def _answered(client_id, form_id):
    # Correlated to whatever encloses it (two levels up on the dashboard's query).
    return (
        exists()
        .where(IntakeSubmission.client_id == client_id, IntakeSubmission.form_id == form_id)
        .correlate_except(IntakeSubmission)
    )


class AnswersOwed(DomainError):
    """A purchase through a path that cannot ask the questions (the API)."""

    # The API's code for this refusal since it was first made (a plain conflict).
    code = "conflict"


# Built once, with bind parameters (service_id, client_id): the API asks it before every
# purchase, the busiest request of all (#19), inside the seat's read
# (booking.Unless), so neither the statement nor its cache key is rebuilt per call.
OWES_ANSWERS = (
    select(IntakeForm.id)
    .join(service_intake_forms, service_intake_forms.c.form_id == IntakeForm.id)
    .where(
        service_intake_forms.c.service_id == bindparam("service_id"),
        IntakeForm.delivery == IntakeDelivery.AT_BOOKING,
        IntakeForm.required,
        ~_answered(bindparam("client_id"), IntakeForm.id),
    )
    .exists()
)


def _answers_owed() -> AnswersOwed:
    return AnswersOwed(
        gettext(
            "This service asks you to answer its intake form before booking: book it "
            "on its page, where the questions are."
        )
    )


def owes_answers(service_id: int, client_id: int) -> booking.Unless:
    """Booking this service waits on a required form asked at booking that the client has
    not answered: for paths that cannot ask (the API), a refusal the purchase makes with
    its first statement (booking.Unless)."""
    return booking.Unless(
        OWES_ANSWERS, {"service_id": service_id, "client_id": client_id}, _answers_owed
    )


def booking_questions(service: Service, client: User | None) -> list[IntakeForm]:
    """The forms asked while booking `service` that `client` has not answered yet (a
    visitor not signed in: all of them). Each form is answered once per client."""
    query = (
        select(IntakeForm)
        .join(service_intake_forms, service_intake_forms.c.form_id == IntakeForm.id)
        .where(
            service_intake_forms.c.service_id == service.id,
            IntakeForm.delivery == IntakeDelivery.AT_BOOKING,
        )
        .order_by(IntakeForm.id)
    )
    if client is not None:
        query = query.where(~_answered(client.id, IntakeForm.id))
    return list(db.session.scalars(query))


# -- answers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file as the client sent it (its bytes; its name is not kept)."""

    data: bytes


@dataclass
class Answers:
    """One form's answers as the web layer read them, keyed by item key: text, a list of
    picked options, a bool, a date, a number, a typed-name signature, or an Upload."""

    version: IntakeFormVersion
    values: dict[str, Any] = field(default_factory=dict)


def upload_type(data: bytes) -> str | None:
    return next((kind for magic, kind in UPLOAD_TYPES if data.startswith(magic)), None)


def check_upload(data: bytes, key: str) -> str:
    """The upload's content type, or InvalidInput about the field `key`."""
    limit = current_app.config["PORTAL_INTAKE_UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise InvalidInput(too_large(limit), field=key)
    kind = upload_type(data)
    if kind is None:
        raise InvalidInput(gettext("Upload a PDF, JPEG or PNG file."), field=key)
    return kind


def too_large(limit: int) -> str:
    return gettext("The file is larger than the %(limit).1f MB allowed.", limit=limit / 1e6)


def _upload_folder() -> Path:
    return Path(current_app.config["PORTAL_MEDIA_DIR"]) / "intake"


def _store_file(content: bytes) -> str:
    """Encrypted, under a random name, written whole before it is named (a reader never
    sees half a file); removed again if the transaction that names it rolls back."""
    folder = _upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    partial = folder / f".{name}.part"
    partial.write_bytes(crypto.encrypt_bytes(content))
    partial.replace(folder / name)
    if_rolled_back(("intake-upload", name), lambda: (folder / name).unlink(missing_ok=True))
    return name


def _plain_value(item: Item, value: Any) -> Any:
    """The answer as its JSON keeps it, checked against the question; None when not given."""
    if value is None or value == "" or value == [] or value is False:
        return None
    if item.kind in (ItemKind.SHORT_TEXT, ItemKind.LONG_TEXT, ItemKind.PHONE):
        text = str(value).strip()
        if len(text) > TEXT_MAX:
            raise InvalidInput(
                gettext("Keep this under %(num)d characters.", num=TEXT_MAX), field=item.key
            )
        return text or None
    if item.kind == ItemKind.SINGLE_CHOICE:
        if value not in item.options:
            raise InvalidInput(gettext("Pick one of the options."), field=item.key)
        return value
    if item.kind == ItemKind.MULTIPLE_CHOICE:
        picked = [v for v in item.options if v in set(value)]
        if len(picked) != len(set(value)):
            raise InvalidInput(gettext("Pick among the options."), field=item.key)
        return picked
    if item.kind == ItemKind.CHECKBOX:
        return True
    if item.kind == ItemKind.DATE:
        if not isinstance(value, date):
            raise InvalidInput(gettext("Give a date."), field=item.key)
        return value.isoformat()
    if item.kind == ItemKind.NUMBER:
        return float(value) if not float(value).is_integer() else int(value)
    if item.kind == ItemKind.CONSENT:
        name = " ".join(str(value).split())
        if len(name) > LABEL_MAX:
            raise InvalidInput(gettext("Type your full name."), field=item.key)
        return {"name": name, "signed_at": utcnow().isoformat()} if name else None
    raise AssertionError(item.kind)


def _seal(values: dict[str, Any]) -> str:
    return crypto.encrypt(json.dumps(values, sort_keys=True))


@unit_of_work
def submit_answers(
    client: User, answers: Answers, *, booking_id: int | None = None
) -> IntakeSubmission:
    """Store one form's answers. A required question left empty, a consent not signed
    with a typed name, a file of the wrong kind or size: InvalidInput naming the question,
    and nothing is written."""
    version = answers.version
    form = version.form
    stored: dict[str, Any] = {}
    files: list[tuple[Item, bytes, str]] = []
    for item in items_of(version):
        given = answers.values.get(item.key)
        if item.kind == ItemKind.FILE:
            if isinstance(given, Upload) and given.data:
                files.append((item, given.data, check_upload(given.data, item.key)))
            elif item.required:
                raise InvalidInput(gettext("Attach a file."), field=item.key)
            continue
        value = _plain_value(item, given)
        if value is None and item.required:
            message = (
                gettext("Type your full name to give your consent.")
                if item.kind == ItemKind.CONSENT
                else gettext("Answer this question.")
            )
            raise InvalidInput(message, field=item.key)
        if value is not None:
            stored[item.key] = value
    submission = IntakeSubmission(
        form_id=form.id,
        version_id=version.id,
        client_id=client.id,
        booking_id=booking_id,
        answers_encrypted=_seal(stored),
    )
    db.session.add(submission)
    db.session.flush()
    for item, data, content_type in files:
        db.session.add(
            IntakeUpload(
                submission_id=submission.id,
                client_id=client.id,
                item_key=item.key,
                stored_name=_store_file(data),
                content_type=content_type,
                size_bytes=len(data),
            )
        )
    db.session.flush()
    audit.record(
        AuditAction.INTAKE_ANSWERS_SUBMITTED,
        "intake_submission",
        submission.id,
        practitioner_id=form.practitioner_id,
        client_id=client.id,
        actor_id=client.id,
        after={
            "form_id": form.id,
            "version": version.number,
            "booking_id": booking_id,
            "consents": sorted(k for k, v in stored.items() if isinstance(v, dict)),
            "uploads": len(files),
        },
    )
    log.info(
        "intake answers: submission %s, form %s v%s, client %s",
        submission.id,
        form.id,
        version.number,
        client.id,
    )
    return submission


def with_answers(
    client: User, given: list[Answers], purchase: Callable[[], Order]
) -> Callable[[], Order]:
    """`purchase` with the booking's intake answers stored in its transaction: the order
    and its answers are written together, or neither (a refused purchase writes no answer,
    a refused answer books nothing)."""

    @unit_of_work
    def purchase_with_answers() -> Order:
        order = purchase()
        first = db.session.scalar(
            select(Booking.id).where(Booking.order_id == order.id).order_by(Booking.id).limit(1)
        )
        for answers in given:
            submit_answers(client, answers, booking_id=first)
        return order

    return purchase_with_answers


# -- reading ---------------------------------------------------------------------------


def may_read(user: User, submission: IntakeSubmission) -> bool:
    """The client who answered and the practitioner who asked; no one else (see above)."""
    return user.id in (submission.client_id, submission.form.practitioner_id)


@dataclass(frozen=True)
class Answer:
    item: Item
    value: Any
    uploads: list[IntakeUpload]


@dataclass(frozen=True)
class ReadSubmission:
    submission: IntakeSubmission
    answers: list[Answer]


@unit_of_work
def _record_read(submission: IntakeSubmission, reader: User) -> None:
    audit.record(
        AuditAction.INTAKE_ANSWERS_READ,
        "intake_submission",
        submission.id,
        practitioner_id=submission.form.practitioner_id,
        client_id=submission.client_id,
        actor_id=reader.id,
        after={"form_id": submission.form_id},
    )


def read_submission(submission: IntakeSubmission, reader: User) -> ReadSubmission:
    """The answers with the questions of the version they answered. A practitioner's read
    is audited (the client may see who opened their answers); the client's own is not."""
    if not may_read(reader, submission):
        raise NotPermitted(gettext("These answers are private."))
    if reader.id != submission.client_id:
        _record_read(submission, reader)
    values = json.loads(crypto.decrypt(submission.answers_encrypted))
    for item in items_of(submission.version):
        if item.kind == ItemKind.CONSENT and item.key in values:
            # Read back as the moment it was, for the reader's zone.
            signed = values[item.key]
            values[item.key] = {**signed, "signed_at": datetime.fromisoformat(signed["signed_at"])}
    uploads: dict[str, list[IntakeUpload]] = {}
    for upload in submission.uploads:
        uploads.setdefault(upload.item_key, []).append(upload)
    return ReadSubmission(
        submission,
        [
            Answer(item, values.get(item.key), uploads.get(item.key, []))
            for item in items_of(submission.version)
        ],
    )


def read_upload(upload: IntakeUpload, reader: User) -> tuple[bytes, str]:
    """The file's bytes and its download name, for someone may_read() lets in."""
    if not may_read(reader, upload.submission):
        raise NotPermitted(gettext("This file is private."))
    if reader.id != upload.client_id:
        _record_read(upload.submission, reader)
    content = crypto.decrypt_bytes((_upload_folder() / upload.stored_name).read_bytes())
    return content, f"intake-{upload.id}{UPLOAD_SUFFIX[upload.content_type]}"


def submissions_of(practitioner_id: int, client_id: int) -> list[IntakeSubmission]:
    """A client's answers to one practitioner's forms, newest first."""
    return list(
        db.session.scalars(
            select(IntakeSubmission)
            .join(IntakeForm, IntakeForm.id == IntakeSubmission.form_id)
            .where(
                IntakeForm.practitioner_id == practitioner_id,
                IntakeSubmission.client_id == client_id,
            )
            .options(selectinload(IntakeSubmission.form), selectinload(IntakeSubmission.version))
            .order_by(IntakeSubmission.submitted_at.desc(), IntakeSubmission.id.desc())
        )
    )


@dataclass(frozen=True)
class FormState:
    """A form attached to a booking's service, and the client's answers if given."""

    form: IntakeForm
    submission: IntakeSubmission | None

    @property
    def missing(self) -> bool:
        return self.submission is None and self.form.required


def forms_for_bookings(bookings: list[Booking]) -> dict[int, list[FormState]]:
    """For each booking, the forms its service asks and the client's answers: two
    queries, however many bookings."""
    if not bookings:
        return {}
    service_ids = {b.service_session.service_id for b in bookings}
    attached = db.session.execute(
        select(service_intake_forms.c.service_id, IntakeForm)
        .join(IntakeForm, IntakeForm.id == service_intake_forms.c.form_id)
        .where(service_intake_forms.c.service_id.in_(service_ids))
        .order_by(IntakeForm.id)
    ).all()
    by_service: dict[int, list[IntakeForm]] = {}
    for service_id, form in attached:
        by_service.setdefault(service_id, []).append(form)
    if not by_service:
        return {}
    latest: dict[tuple[int, int], IntakeSubmission] = {}
    for submission in db.session.scalars(
        select(IntakeSubmission)
        .where(
            IntakeSubmission.client_id.in_({b.user_id for b in bookings}),
            IntakeSubmission.form_id.in_({f.id for forms in by_service.values() for f in forms}),
        )
        .order_by(IntakeSubmission.id)
    ):
        latest[(submission.client_id, submission.form_id)] = submission
    return {
        b.id: [
            FormState(form, latest.get((b.user_id, form.id)))
            for form in by_service.get(b.service_session.service_id, [])
        ]
        for b in bookings
    }


def missing_required(practitioner_id: int, now: datetime, limit: int = 20) -> list[Booking]:
    """Coming bookings with the practitioner whose client has not answered a required
    form of the service (the dashboard's to-do), soonest first."""
    required = (
        select(service_intake_forms.c.form_id)
        .join(IntakeForm, IntakeForm.id == service_intake_forms.c.form_id)
        .where(
            service_intake_forms.c.service_id == ServiceSession.service_id,
            IntakeForm.required.is_(True),
            ~_answered(Booking.user_id, IntakeForm.id),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(Booking)
            .join(ServiceSession, ServiceSession.id == Booking.service_session_id)
            .options(selectinload(Booking.user), selectinload(Booking.service_session))
            .where(
                and_(
                    ServiceSession.practitioner_id == practitioner_id,
                    ServiceSession.start_time > now,
                    Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT)),
                    required,
                )
            )
            .order_by(ServiceSession.start_time, Booking.id)
            .limit(limit)
        )
    )


def export_answers(client_id: int) -> list[dict]:
    """Everything a client gave in intake forms, for their copy of their data (privacy):
    the form and version answered, when, each question with its answer, the files by name.
    """
    submissions = db.session.scalars(
        select(IntakeSubmission)
        .where(IntakeSubmission.client_id == client_id)
        .options(
            selectinload(IntakeSubmission.form),
            selectinload(IntakeSubmission.version),
            selectinload(IntakeSubmission.uploads),
        )
        .order_by(IntakeSubmission.id)
    )
    exported = []
    for submission in submissions:
        values = json.loads(crypto.decrypt(submission.answers_encrypted))
        exported.append(
            {
                "form": submission.form.title,
                "form_version": submission.version.number,
                "submitted_at": submission.submitted_at.isoformat(),
                "booking_id": submission.booking_id,
                "answers": [
                    {"question": item.label, "answer": values.get(item.key)}
                    for item in items_of(submission.version)
                ],
                "files": [
                    f"intake-{u.id}{UPLOAD_SUFFIX[u.content_type]}" for u in submission.uploads
                ],
            }
        )
    return exported


def erase_answers(client_id: int) -> None:
    """A client's answers, their files and the links sent to them, gone (the account's
    erasure, in its transaction). The files go at once: a rolled-back erasure would leave
    rows naming missing files, which only a new erasure run can follow, and does."""
    uploads = db.session.scalars(select(IntakeUpload).where(IntakeUpload.client_id == client_id))
    for upload in uploads:
        (_upload_folder() / upload.stored_name).unlink(missing_ok=True)
    db.session.execute(delete(IntakeUpload).where(IntakeUpload.client_id == client_id))
    db.session.execute(delete(IntakeSubmission).where(IntakeSubmission.client_id == client_id))
    db.session.execute(delete(IntakeRequest).where(IntakeRequest.client_id == client_id))
