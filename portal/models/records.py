"""The practitioner's side of a client record: session notes with their addenda, and a
private "about this client" note with tags. Every free text is kept encrypted
(portal/crypto.py): the columns hold Fernet tokens, never the text."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .bookings import Booking
from .enums import StrEnum, enum_column, set_labels
from .users import User


class NoteKind(StrEnum):
    FREE = "free"
    SOAP = "soap"


set_labels(
    NoteKind,
    {NoteKind.FREE: lazy_gettext("free text"), NoteKind.SOAP: lazy_gettext("SOAP")},
)

# The SOAP template's sections, in the order they are written.
SOAP_SECTIONS = ("subjective", "objective", "assessment", "plan")


class SessionNote(Model):
    """One practitioner's note on one booking. A draft changes freely; once signed it is
    locked and later words are addenda."""

    __tablename__ = "session_notes"
    __table_args__ = (UniqueConstraint("booking_id", "author_id", name="uq_session_notes_author"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The client the note is about (the booking's), kept for the record's timeline query.
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[NoteKind] = mapped_column(enum_column(NoteKind, "note_kind"))
    # Fernet token of the JSON of the sections ({"text": ...} or the four SOAP ones).
    body_encrypted: Mapped[str] = mapped_column(Text)
    shared_with_staff: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    booking: Mapped[Booking] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    addenda: Mapped[list[NoteAddendum]] = relationship(
        back_populates="note", order_by="NoteAddendum.id"
    )

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class NoteAddendum(Model):
    """Words added to a signed note, with their own time and author."""

    __tablename__ = "note_addenda"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("session_notes.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    note: Mapped[SessionNote] = relationship(back_populates="addenda")
    author: Mapped[User] = relationship()


class ClientRecord(Model):
    """A practitioner's private note about one client."""

    __tablename__ = "client_records"

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    about_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


TAG_MAX = 40


class ClientTag(Model):
    """A practitioner's label on a client ("prenatal", "sports"); theirs alone."""

    __tablename__ = "client_tags"
    __table_args__ = (Index("ix_client_tags_practitioner_tag", "practitioner_id", "tag"),)

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(TAG_MAX), primary_key=True)
