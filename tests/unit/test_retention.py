"""Retention: a practitioner's notes and private record of a client go once the client's
last session with them is older than PORTAL_RETENTION_NOTES_YEARS; off by default."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import booking, privacy, records
from portal.extensions import db
from portal.models import AuditAction, AuditEntry, ClientRecord, ClientTag, NoteKind, SessionNote
from tests.fixtures.attendance import book_past_session, past
from tests.fixtures.factories import make_user, make_workshop


@pytest.fixture
def app_config():
    return {"PORTAL_RETENTION_NOTES_YEARS": 2}


def _keep_notes(practitioner, client, session) -> None:
    seat = next(b for b in session.bookings if b.user_id == client.id)
    records.save_draft(seat, practitioner, NoteKind.FREE, {"text": "notes"})
    records.save_client_file(practitioner, client, "about", ["tag"])


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_records_go_after_the_retention_period_since_the_last_session(app, practitioner):
    gone, seen_lately, coming_back = make_user(), make_user(), make_user()
    old = book_past_session(practitioner, [gone, seen_lately, coming_back], past(3 * 365))
    for client in (gone, seen_lately, coming_back):
        _keep_notes(practitioner, client, old)
    book_past_session(practitioner, [seen_lately], past(200))
    booking.book_workshop_seat(coming_back, make_workshop(practitioner))
    assert _count(SessionNote) == 3

    assert privacy.apply_retention() == 3  # gone's note, record and tag
    assert set(db.session.scalars(select(SessionNote.client_id))) == {
        seen_lately.id,
        coming_back.id,
    }
    assert gone.id not in set(db.session.scalars(select(ClientRecord.client_id)))
    assert gone.id not in set(db.session.scalars(select(ClientTag.client_id)))
    (entry,) = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.RETENTION_APPLIED)
    )
    assert entry.after["holder"] == "session_notes" and entry.after["deleted"] == 3
    # A second run finds nothing more.
    assert privacy.apply_retention() == 0


def test_nothing_goes_when_retention_is_off(app, practitioner):
    app.config["PORTAL_RETENTION_NOTES_YEARS"] = 0
    client = make_user()
    _keep_notes(practitioner, client, book_past_session(practitioner, [client], past(3650)))
    assert privacy.apply_retention() == 0
    assert _count(SessionNote) == 1
