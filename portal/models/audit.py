"""The audit log: who changed what, from where, with the values before and after.

Rows are only ever inserted (the migration's triggers refuse UPDATE and DELETE) and each
carries the SHA-256 of the previous row's hash and its own canonical JSON, so an edited
or missing row breaks the chain (portal/audit.py writes and verifies it).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import JSON, Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime
from ..extensions import Model
from .enums import StrEnum, set_labels


class AuditAction(StrEnum):
    BOOKING_CREATED = "booking.created"
    BOOKING_CANCELED = "booking.canceled"
    ORDER_PAID = "order.paid"
    FEE_WAIVED = "fee.waived"
    SESSION_CREATED = "session.created"
    SESSION_UPDATED = "session.updated"
    SESSION_CANCELED = "session.canceled"
    SERVICE_CREATED = "service.created"
    SERVICE_UPDATED = "service.updated"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_EMAIL_CHANGED = "account.email_changed"
    ACCOUNT_PASSWORD_CHANGED = "account.password_changed"
    ACCOUNT_DEACTIVATED = "account.deactivated"
    ACCOUNT_REACTIVATED = "account.reactivated"
    NOTE_READ = "note.read"
    NOTE_WRITTEN = "note.written"
    NOTE_SIGNED = "note.signed"
    NOTE_ADDENDUM = "note.addendum"
    NOTE_SHARED = "note.shared"
    CLIENT_RECORD_READ = "client_record.read"
    CLIENT_RECORD_UPDATED = "client_record.updated"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    CREDIT_SCHEDULED = "credit.scheduled"
    HOLD_EXPIRED = "order.hold_expired"
    WAITLIST_OFFER_MADE = "waitlist.offer_made"
    WAITLIST_OFFER_ACCEPTED = "waitlist.offer_accepted"
    WAITLIST_OFFER_LAPSED = "waitlist.offer_lapsed"
    ATTENDANCE_OVERRIDDEN = "attendance.overridden"
    DATA_EXPORT_REQUESTED = "data_export.requested"
    DATA_EXPORT_DOWNLOADED = "data_export.downloaded"
    ERASURE_REQUESTED = "erasure.requested"
    ERASURE_CANCELED = "erasure.canceled"
    ACCOUNT_ERASED = "account.erased"
    RETENTION_APPLIED = "retention.applied"
    INTAKE_FORM_CREATED = "intake_form.created"
    INTAKE_FORM_CHANGED = "intake_form.changed"
    INTAKE_ANSWERS_SUBMITTED = "intake_answers.submitted"
    INTAKE_ANSWERS_READ = "intake_answers.read"


set_labels(
    AuditAction,
    {
        AuditAction.BOOKING_CREATED: lazy_gettext("booking created"),
        AuditAction.BOOKING_CANCELED: lazy_gettext("booking canceled"),
        AuditAction.ORDER_PAID: lazy_gettext("order paid"),
        AuditAction.FEE_WAIVED: lazy_gettext("fee waived"),
        AuditAction.SESSION_CREATED: lazy_gettext("session created"),
        AuditAction.SESSION_UPDATED: lazy_gettext("session updated"),
        AuditAction.SESSION_CANCELED: lazy_gettext("session canceled"),
        AuditAction.SERVICE_CREATED: lazy_gettext("service created"),
        AuditAction.SERVICE_UPDATED: lazy_gettext("service updated"),
        AuditAction.ACCOUNT_CREATED: lazy_gettext("account created"),
        AuditAction.ACCOUNT_EMAIL_CHANGED: lazy_gettext("email changed"),
        AuditAction.ACCOUNT_PASSWORD_CHANGED: lazy_gettext("password changed"),
        AuditAction.ACCOUNT_DEACTIVATED: lazy_gettext("account deactivated"),
        AuditAction.ACCOUNT_REACTIVATED: lazy_gettext("account reactivated"),
        AuditAction.NOTE_READ: lazy_gettext("note read"),
        AuditAction.NOTE_WRITTEN: lazy_gettext("note written"),
        AuditAction.NOTE_SIGNED: lazy_gettext("note signed"),
        AuditAction.NOTE_ADDENDUM: lazy_gettext("addendum added"),
        AuditAction.NOTE_SHARED: lazy_gettext("note sharing changed"),
        AuditAction.CLIENT_RECORD_READ: lazy_gettext("client record read"),
        AuditAction.CLIENT_RECORD_UPDATED: lazy_gettext("client record updated"),
        AuditAction.BOOKING_RESCHEDULED: lazy_gettext("booking rescheduled"),
        AuditAction.CREDIT_SCHEDULED: lazy_gettext("credit scheduled"),
        AuditAction.HOLD_EXPIRED: lazy_gettext("hold expired"),
        AuditAction.WAITLIST_OFFER_MADE: lazy_gettext("waitlist offer made"),
        AuditAction.WAITLIST_OFFER_ACCEPTED: lazy_gettext("waitlist offer accepted"),
        AuditAction.WAITLIST_OFFER_LAPSED: lazy_gettext("waitlist offer lapsed"),
        AuditAction.ATTENDANCE_OVERRIDDEN: lazy_gettext("attendance overridden"),
        AuditAction.DATA_EXPORT_REQUESTED: lazy_gettext("data export requested"),
        AuditAction.DATA_EXPORT_DOWNLOADED: lazy_gettext("data export downloaded"),
        AuditAction.ERASURE_REQUESTED: lazy_gettext("account deletion requested"),
        AuditAction.ERASURE_CANCELED: lazy_gettext("account deletion canceled"),
        AuditAction.ACCOUNT_ERASED: lazy_gettext("account erased"),
        AuditAction.RETENTION_APPLIED: lazy_gettext("old records deleted"),
        AuditAction.INTAKE_FORM_CREATED: lazy_gettext("intake form created"),
        AuditAction.INTAKE_FORM_CHANGED: lazy_gettext("intake form changed"),
        AuditAction.INTAKE_ANSWERS_SUBMITTED: lazy_gettext("intake answers submitted"),
        AuditAction.INTAKE_ANSWERS_READ: lazy_gettext("intake answers read"),
    },
)


class AuditEntry(Model):
    """One recorded change (or read of a private record).

    The people it names are plain ids, not foreign keys: the log outlives the rows it
    describes, and a key's ON DELETE would have to UPDATE a row that no one may update.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_practitioner_seq", "practitioner_id", "seq"),
        Index("ix_audit_entries_client_seq", "client_id", "seq"),
        Index("ix_audit_entries_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The entry's place in the chain: 1, 2, 3... without gaps (appends are serialised).
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column()
    address: Mapped[str | None] = mapped_column(String(45))
    # No CHECK on the values: a new action must not rebuild an append-only table.
    action: Mapped[AuditAction] = mapped_column(
        Enum(
            AuditAction,
            name="audit_action",
            native_enum=False,
            create_constraint=False,
            length=40,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,
        )
    )
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column()
    practitioner_id: Mapped[int | None] = mapped_column()
    # The client the object is about: they may see who read their record.
    client_id: Mapped[int | None] = mapped_column()
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.seq} {self.action} {self.object_type} {self.object_id}>"
