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


set_labels(
    AuditAction,
    {
        AuditAction.BOOKING_CREATED: lazy_gettext("booking created"),
        AuditAction.BOOKING_CANCELED: lazy_gettext("booking canceled"),
        AuditAction.ORDER_PAID: lazy_gettext("order paid"),
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
