"""Session notes: written by the session's practitioner, locked by signing, addenda after;
encrypted at rest; rendered safely; every read in the audit log."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from portal import booking, records
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, NoteKind, Role, SessionNote
from tests.fixtures.attendance import book_past_session, past
from tests.fixtures.factories import make_user

SECRET = "Left shoulder tension qz9, sleeping badly"


@pytest.fixture
def seat(practitioner, client_user):
    session = book_past_session(practitioner, [client_user], past(1))
    return session.bookings[0]


def test_the_raw_column_holds_no_text(practitioner, seat):
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": SECRET})
    raw = db.session.execute(
        text("SELECT body_encrypted FROM session_notes WHERE id = :id"), {"id": note.id}
    ).scalar_one()
    assert SECRET not in raw and "qz9" not in raw
    assert records.read_note(note, practitioner).sections == {"text": SECRET}


def test_a_soap_note_keeps_its_four_sections(practitioner, seat):
    given = {"subjective": "s", "objective": "o", "assessment": "a", "plan": "p", "extra": "x"}
    note = records.save_draft(seat, practitioner, NoteKind.SOAP, given)
    assert records.read_note(note, practitioner).sections == {
        "subjective": "s",
        "objective": "o",
        "assessment": "a",
        "plan": "p",
    }


def test_drafts_overwrite_until_signed_then_only_addenda(practitioner, seat):
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "first"})
    again = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "second"})
    assert again.id == note.id
    records.sign_note(note, practitioner)
    with pytest.raises(booking.InvalidTransition):
        records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "third"})
    with pytest.raises(booking.InvalidTransition):
        records.sign_note(note, practitioner)
    records.add_addendum(note, practitioner, "Called to follow up.")
    read = records.read_note(note, practitioner)
    assert read.sections == {"text": "second"}
    assert [(a.author_name, a.text) for a in read.addenda] == [
        (practitioner.name, "Called to follow up.")
    ]


def test_an_addendum_needs_a_signed_note(practitioner, seat):
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "draft"})
    with pytest.raises(booking.InvalidTransition):
        records.add_addendum(note, practitioner, "too early")


def test_only_the_sessions_practitioner_writes_and_only_the_author_reads(
    practitioner, seat, staff_user, client_user
):
    other = make_user(Role.PRACTITIONER)
    with pytest.raises(booking.NotPermitted):
        records.save_draft(seat, other, NoteKind.FREE, {"text": "x"})
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": SECRET})
    for reader in (other, staff_user, client_user):
        assert not records.may_read(reader, note)
        with pytest.raises(booking.NotPermitted):
            records.read_note(note, reader)
    records.share_with_staff(note, practitioner, True)
    assert records.may_read(staff_user, note)
    assert not records.may_read(other, note)
    assert records.read_note(note, staff_user).sections == {"text": SECRET}


def test_every_read_and_write_is_audited_without_the_text(practitioner, seat, client_user):
    note = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": SECRET})
    records.read_note(note, practitioner)
    records.sign_note(note, practitioner)
    found = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "session_note")
            .order_by(AuditEntry.seq)
        )
    )
    assert [e.action for e in found] == [
        AuditAction.NOTE_WRITTEN,
        AuditAction.NOTE_READ,
        AuditAction.NOTE_SIGNED,
    ]
    assert {e.client_id for e in found} == {client_user.id}
    assert found[1].actor_id == practitioner.id
    assert not any(SECRET in str(e.after) for e in found)


def test_a_save_racing_the_signature_cannot_change_a_signed_note(app, practitioner, seat):
    """The signature and the save are conditional UPDATEs on signed_at IS NULL: whichever
    lands second after a signature is refused, never written."""
    note_id = records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "before"}).id
    db.session.commit()
    outcomes = []

    def run(action):
        with app.app_context():
            try:
                action()
                outcomes.append("ok")
            except booking.InvalidTransition:
                outcomes.append("refused")
            finally:
                db.session.remove()

    def save():
        fresh = db.session.get(SessionNote, note_id)
        records.save_draft(fresh.booking, fresh.author, NoteKind.FREE, {"text": "after"})

    def sign():
        fresh = db.session.get(SessionNote, note_id)
        records.sign_note(fresh, fresh.author)

    threads = [threading.Thread(target=run, args=(a,)) for a in (save, sign)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.commit()
    signed = db.session.get(SessionNote, note_id)
    assert signed.is_signed
    assert sorted(outcomes) in (["ok", "ok"], ["ok", "refused"])
    text_now = records.read_note(signed, practitioner).sections["text"]
    # Saved before the signature (both ok) or refused after it: never changed once signed.
    assert text_now == ("after" if outcomes.count("ok") == 2 else "before")


def test_markdown_is_rendered_and_sanitised():
    html = str(
        records.render_markdown(
            "# Plan\n**rest** <script>alert(1)</script> [x](javascript:alert(1)) "
            '<img src=x onerror="alert(1)"> [ok](https://example.org)'
        )
    )
    assert "<h3>Plan</h3>" in html and "<strong>rest</strong>" in html
    # Raw HTML stays text (escaped), never markup; a javascript: link is no link.
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert 'href="https://example.org"' in html
