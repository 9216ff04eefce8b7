"""Intake forms: what a practitioner asks a client before or while they book (#23).

A form keeps every version it ever had: an edit writes a new version, and each answer
points at the version it answered, so a changed form never rewrites what was answered.
Answers and uploaded files are health data: the answers' column holds a Fernet token of
their JSON (portal/crypto.py), and an upload is stored encrypted under PORTAL_MEDIA_DIR.

For the data export and erasure, everything a client gave is found by `client_id`:
intake_submissions (answers) and intake_uploads (files); intake_requests are the links
sent to them.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model, db
from .enums import StrEnum, enum_column, set_labels
from .services import Service
from .users import User


class ItemKind(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    CHECKBOX = "checkbox"
    DATE = "date"
    NUMBER = "number"
    PHONE = "phone"
    FILE = "file"
    CONSENT = "consent"


set_labels(
    ItemKind,
    {
        ItemKind.SHORT_TEXT: lazy_gettext("short text"),
        ItemKind.LONG_TEXT: lazy_gettext("long text"),
        ItemKind.SINGLE_CHOICE: lazy_gettext("single choice"),
        ItemKind.MULTIPLE_CHOICE: lazy_gettext("multiple choice"),
        ItemKind.CHECKBOX: lazy_gettext("checkbox"),
        ItemKind.DATE: lazy_gettext("date"),
        ItemKind.NUMBER: lazy_gettext("number"),
        ItemKind.PHONE: lazy_gettext("phone"),
        ItemKind.FILE: lazy_gettext("file upload"),
        ItemKind.CONSENT: lazy_gettext("consent"),
    },
)

# Kinds that offer a list of options to pick from.
CHOICE_KINDS = frozenset({ItemKind.SINGLE_CHOICE, ItemKind.MULTIPLE_CHOICE})


class IntakeDelivery(StrEnum):
    """When a client is asked: on the booking page, or by an emailed link before their
    first session (with a reminder 24 hours before if still unanswered)."""

    AT_BOOKING = "at_booking"
    BY_EMAIL = "by_email"


set_labels(
    IntakeDelivery,
    {
        IntakeDelivery.AT_BOOKING: lazy_gettext("while booking"),
        IntakeDelivery.BY_EMAIL: lazy_gettext("by email before the first session"),
    },
)


service_intake_forms = db.Table(
    "service_intake_forms",
    db.Column("service_id", ForeignKey("services.id"), primary_key=True),
    db.Column("form_id", ForeignKey("intake_forms.id"), primary_key=True, index=True),
)


class IntakeForm(Model):
    """A practitioner's form; its questions live in its versions."""

    __tablename__ = "intake_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    delivery: Mapped[IntakeDelivery] = mapped_column(
        enum_column(IntakeDelivery, "intake_delivery"), default=IntakeDelivery.AT_BOOKING
    )
    # A required form's absence is flagged on the roster and the dashboard.
    required: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    practitioner: Mapped[User] = relationship()
    versions: Mapped[list[IntakeFormVersion]] = relationship(
        back_populates="form", order_by="IntakeFormVersion.number"
    )
    services: Mapped[list[Service]] = relationship(
        secondary=service_intake_forms, order_by="Service.name"
    )

    @property
    def current(self) -> IntakeFormVersion:
        return self.versions[-1]


class IntakeFormVersion(Model):
    """The questions as they stood from `created_at`; never changed once written."""

    __tablename__ = "intake_form_versions"
    __table_args__ = (
        UniqueConstraint("form_id", "number", name="uq_intake_form_versions_number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("intake_forms.id"))
    number: Mapped[int] = mapped_column()
    # [{"key", "kind", "label", "help", "required", "options", "consent_text"}, ...]; a key
    # stays with its question across versions.
    items: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    form: Mapped[IntakeForm] = relationship(back_populates="versions")


class IntakeSubmission(Model):
    """One client's answers to one version of a form."""

    __tablename__ = "intake_submissions"
    __table_args__ = (Index("ix_intake_submissions_client_form", "client_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("intake_forms.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("intake_form_versions.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The booking it was given for (while booking, or the session the link was sent for).
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    # Fernet token of the answers' JSON, keyed by item key.
    answers_encrypted: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    form: Mapped[IntakeForm] = relationship()
    version: Mapped[IntakeFormVersion] = relationship()
    client: Mapped[User] = relationship()
    uploads: Mapped[list[IntakeUpload]] = relationship(
        back_populates="submission", order_by="IntakeUpload.id"
    )


class IntakeUpload(Model):
    """A file a client attached to an answer, stored encrypted outside the web root."""

    __tablename__ = "intake_uploads"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("intake_submissions.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    # A random name under PORTAL_MEDIA_DIR/intake: it says nothing about the file.
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # What the content was found to be (never what the browser claimed).
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column()

    submission: Mapped[IntakeSubmission] = relationship(back_populates="uploads")


class IntakeRequest(Model):
    """A link sent to a client to answer a form before a booked session; the link works
    once (answered_at) and the reminder goes once (reminded_at)."""

    __tablename__ = "intake_requests"
    __table_args__ = (UniqueConstraint("form_id", "client_id", name="uq_intake_requests_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("intake_forms.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    form: Mapped[IntakeForm] = relationship()
    client: Mapped[User] = relationship()
