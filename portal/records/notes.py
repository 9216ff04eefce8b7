"""Session notes: a practitioner's private notes on a booking.

A draft changes freely (the page autosaves it); signing locks it, by a conditional UPDATE
so a save racing the signature cannot slip in after it; later words are addenda, each
with its own time and author. Every text is encrypted before it reaches the database, and
every read, write and signature is in the audit log (never the text itself).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from flask_babel import gettext
from sqlalchemy import CursorResult, select, update

from .. import audit, crypto
from ..core.errors import InvalidInput, InvalidTransition, NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    SOAP_SECTIONS,
    AuditAction,
    Booking,
    NoteAddendum,
    NoteKind,
    SessionNote,
    User,
)

log = logging.getLogger(__name__)

# Generous for a session's notes, small enough that an autosave stays a small request.
MAX_SECTION = 20_000


def sections_of(kind: NoteKind) -> tuple[str, ...]:
    return SOAP_SECTIONS if kind == NoteKind.SOAP else ("text",)


def _seal(sections: dict[str, str]) -> str:
    return crypto.encrypt(json.dumps(sections, sort_keys=True))


def _open(token: str) -> dict[str, str]:
    return json.loads(crypto.decrypt(token))


def writes_notes_for(user: User, booking: Booking) -> bool:
    """Only the practitioner who gives the session writes its notes."""
    return user.is_practitioner and booking.service_session.practitioner_id == user.id


def may_read(user: User, note: SessionNote) -> bool:
    """Its author; staff only when the author shared it. No one else, clients included."""
    return note.author_id == user.id or (user.is_staff and note.shared_with_staff)


def note_for(booking: Booking) -> SessionNote | None:
    """The note the session's practitioner keeps on the booking."""
    return db.session.scalar(
        select(SessionNote).where(
            SessionNote.booking_id == booking.id,
            SessionNote.author_id == booking.service_session.practitioner_id,
        )
    )


def _audit(action: AuditAction, note: SessionNote, **values) -> None:
    audit.record(
        action,
        "session_note",
        note.id,
        practitioner_id=note.author_id,
        client_id=note.client_id,
        after={"booking_id": note.booking_id, **values},
    )


def _clean_sections(kind: NoteKind, given: dict[str, str]) -> dict[str, str]:
    sections = {name: (given.get(name) or "").strip() for name in sections_of(kind)}
    for name, value in sections.items():
        if len(value) > MAX_SECTION:
            raise InvalidInput(
                gettext("Keep each part under %(limit)d characters.", limit=MAX_SECTION),
                field=name,
            )
    return sections


def _update_draft(note_id: int, **values) -> bool:
    """Change the note while it is a draft: one conditional UPDATE, so a signature and a
    save racing it cannot both win. Whether it was still a draft."""
    result = db.session.execute(
        update(SessionNote)
        .where(SessionNote.id == note_id, SessionNote.signed_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult, result).rowcount == 1


@unit_of_work
def save_draft(
    booking: Booking, author: User, kind: NoteKind, given: dict[str, str]
) -> SessionNote:
    """Create or overwrite the draft; a signed note is refused (write an addendum)."""
    if not writes_notes_for(author, booking):
        raise NotPermitted(gettext("Only the session's practitioner writes its notes."))
    kind = NoteKind(kind)
    sealed = _seal(_clean_sections(kind, given))
    now = utcnow()
    note = note_for(booking)
    if note is None:
        note = SessionNote(
            booking_id=booking.id,
            author_id=author.id,
            client_id=booking.user_id,
            kind=kind,
            body_encrypted=sealed,
            created_at=now,
            updated_at=now,
        )
        db.session.add(note)
        db.session.flush()
    else:
        if not _update_draft(note.id, kind=kind, body_encrypted=sealed, updated_at=now):
            raise InvalidTransition(
                gettext("This note is signed and locked; add an addendum instead.")
            )
        db.session.expire(note)
    _audit(AuditAction.NOTE_WRITTEN, note, kind=kind)
    log.info("note saved: note %s, booking %s, by user %s", note.id, booking.id, author.id)
    return note


@unit_of_work
def sign_note(note: SessionNote, author: User) -> SessionNote:
    if note.author_id != author.id:
        raise NotPermitted(gettext("Only the note's author signs it."))
    now = utcnow()
    if not _update_draft(note.id, signed_at=now, updated_at=now):
        raise InvalidTransition(gettext("This note is already signed."))
    db.session.expire(note)
    _audit(AuditAction.NOTE_SIGNED, note)
    log.info("note signed: note %s, by user %s", note.id, author.id)
    return note


@unit_of_work
def add_addendum(note: SessionNote, author: User, text: str) -> NoteAddendum:
    if note.author_id != author.id:
        raise NotPermitted(gettext("Only the note's author adds to it."))
    db.session.refresh(note)
    if not note.is_signed:
        raise InvalidTransition(gettext("A draft is edited directly; addenda follow a signature."))
    (text,) = _clean_sections(NoteKind.FREE, {"text": text}).values()
    if not text:
        raise InvalidInput(gettext("Write the addendum."), field="text")
    addendum = NoteAddendum(
        note_id=note.id, author_id=author.id, body_encrypted=crypto.encrypt(text)
    )
    db.session.add(addendum)
    db.session.flush()
    _audit(AuditAction.NOTE_ADDENDUM, note, addendum_id=addendum.id)
    log.info("note addendum: note %s, addendum %s, by user %s", note.id, addendum.id, author.id)
    return addendum


@unit_of_work
def share_with_staff(note: SessionNote, author: User, shared: bool) -> None:
    if note.author_id != author.id:
        raise NotPermitted(gettext("Only the note's author shares it."))
    if note.shared_with_staff == shared:
        return
    note.shared_with_staff = shared
    db.session.flush()
    _audit(AuditAction.NOTE_SHARED, note, shared_with_staff=shared)
    log.info("note sharing: note %s, shared %s, by user %s", note.id, shared, author.id)


@dataclass(frozen=True)
class AddendumText:
    author_name: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class NoteText:
    note: SessionNote
    sections: dict[str, str]
    addenda: list[AddendumText]


@unit_of_work
def read_note(note: SessionNote, reader: User) -> NoteText:
    """The note's words, for someone may_read() lets in; the read is in the audit log, so
    the client can see who opened their notes."""
    if not may_read(reader, note):
        raise NotPermitted(gettext("This note is private."))
    addenda = [
        AddendumText(a.author.name, a.created_at, crypto.decrypt(a.body_encrypted))
        for a in note.addenda
    ]
    audit.record(
        AuditAction.NOTE_READ,
        "session_note",
        note.id,
        practitioner_id=note.author_id,
        client_id=note.client_id,
        actor_id=reader.id,
        after={"booking_id": note.booking_id},
    )
    return NoteText(note, _open(note.body_encrypted), addenda)
