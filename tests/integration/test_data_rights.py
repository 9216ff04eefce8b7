"""Data rights (GDPR): a client's copy of their data, from the profile to the emailed
single-use link, checked against the database."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal import privacy
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AttendanceOutcome,
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    DataExport,
    DataExportStatus,
    Notification,
    NotificationKind,
    Order,
    Payment,
    SessionNote,
)
from tests.fixtures.data_rights import EMAIL, NAME
from tests.fixtures.factories import make_user
from tests.fixtures.mailbox import URL


@pytest.fixture
def app_config(smtp_server, tmp_path):
    return {**smtp_server.config, "PORTAL_EXPORT_DIR": str(tmp_path / "exports")}


def _emailed_link(mailbox) -> str:
    (link,) = [u for u in URL.findall(mailbox.text(EMAIL)) if "/settings/data-export/" in u]
    return link.removeprefix("http://portal.test")


def _ask_and_prepare(client, signed_in, user) -> None:
    signed_in(user)
    answer = client.post("/settings/data-export")
    assert answer.status_code == 302
    assert privacy.prepare_exports() == 1


def _unzip(body: bytes) -> tuple[dict, Calendar]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["data.json", "sessions.ics"]
        data = json.loads(archive.read("data.json"))
        calendar = Calendar.from_ical(archive.read("sessions.ics"))
    return data, calendar


def _ids(rows) -> list[int]:
    return sorted(row["id"] for row in rows)


def test_the_export_holds_what_the_database_holds(
    client, signed_in, mailbox, rich_client, practitioner
):
    user = rich_client.user
    _ask_and_prepare(client, signed_in, user)
    link = _emailed_link(mailbox)
    assert "works once" in mailbox.text(EMAIL)

    page = client.get(link)
    assert page.status_code == 200 and "Download" in page.get_data(as_text=True)
    download = client.post(link)
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert download.headers["Cache-Control"] == "no-store"
    data, calendar = _unzip(download.data)

    assert data["account"]["email"] == EMAIL and data["account"]["name"] == NAME
    assert "password_hash" not in data["account"]
    theirs = select(Booking).where(Booking.user_id == user.id)
    seats = db.session.scalars(theirs.where(Booking.status != BookingStatus.DRAFT)).all()
    credits = db.session.scalars(theirs.where(Booking.status == BookingStatus.DRAFT)).all()
    assert _ids(data["bookings"]) == sorted(b.id for b in seats)
    assert _ids(data["credits"]) == sorted(b.id for b in credits) and len(credits) == 2
    orders = db.session.scalars(select(Order).where(Order.user_id == user.id)).all()
    assert {o["id"]: o["total_cents"] for o in data["orders"]} == {
        o.id: o.total_cents for o in orders
    }
    payments = db.session.scalars(
        select(Payment).where(Payment.order_id.in_([o.id for o in orders]))
    ).all()
    assert {p["id"]: p["amount_cents"] for p in data["payments"]} == {
        p.id: p.amount_cents for p in payments
    }
    outcomes = db.session.scalars(
        select(AttendanceOutcome).where(AttendanceOutcome.booking_id.in_([b.id for b in seats]))
    ).all()
    assert {a["booking_id"]: a["outcome"] for a in data["attendance"]} == {
        a.booking_id: a.outcome.value for a in outcomes
    }
    assert sorted(a["outcome"] for a in data["attendance"]) == ["attended", "no_show"]
    # Every message sent to them before the export was built (its own link came after).
    messages = db.session.scalars(
        select(Notification).where(
            Notification.user_id == user.id,
            Notification.kind != NotificationKind.DATA_EXPORT_READY,
        )
    )
    assert _ids(data["messages"]) == sorted(n.id for n in messages)
    assert {m["kind"] for m in data["messages"]} >= {"booking_confirmed", "payment_received"}
    assert len(data["waitlist"]) == 1
    assert [p["duration_seconds"] for p in data["video_rooms"]] == [3000]
    # Notes: that they exist, by whom and when, never their words.
    note = db.session.scalar(select(SessionNote).where(SessionNote.client_id == user.id))
    assert data["session_notes"] == [
        {
            "booking_id": note.booking_id,
            "written_by": practitioner.name,
            "created_at": note.created_at.isoformat(),
            "updated_at": note.updated_at.isoformat(),
            "signed_at": None,
            "addenda": 0,
        }
    ]
    assert "felt better" not in json.dumps(data) and "prefers mornings" not in json.dumps(data)
    # Intake answers are the client's own words: all of them, with the form's questions.
    (intake,) = data["intake_answers"]
    assert intake["form"] == "Massage intake" and intake["form_version"] == 1
    assert intake["answers"][0] == {"question": "Injuries", "answer": f"{NAME}: old knee injury"}
    assert intake["answers"][2]["answer"]["name"] == NAME and len(intake["files"]) == 1

    events = {str(e["uid"]) for e in calendar.walk("VEVENT")}
    sessions = {rich_client.attended.id, rich_client.missed.id, rich_client.ahead.id}
    assert events == {f"service-session-{s}@estuary-portal" for s in sessions}


def test_the_link_works_once_and_the_file_goes(client, signed_in, mailbox, rich_client, app):
    _ask_and_prepare(client, signed_in, rich_client.user)
    link = _emailed_link(mailbox)
    export = db.session.scalar(select(DataExport))
    stored = privacy.exports.export_dir() / export.file_name
    assert stored.exists()
    assert client.post(link).status_code == 200
    assert not stored.exists()
    again = client.post(link)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    db.session.refresh(export)
    assert export.status == DataExportStatus.DOWNLOADED
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert AuditAction.DATA_EXPORT_REQUESTED in actions
    assert AuditAction.DATA_EXPORT_DOWNLOADED in actions


def test_only_the_signed_in_owner_downloads(client, signed_in, auth, mailbox, rich_client):
    _ask_and_prepare(client, signed_in, rich_client.user)
    link = _emailed_link(mailbox)
    auth.logout()
    assert client.post(link).status_code == 302  # to the sign-in page
    signed_in(make_user())
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
    assert db.session.scalar(select(DataExport.status)) == DataExportStatus.READY


def test_an_unused_link_expires_with_its_file(client, signed_in, mailbox, rich_client):
    _ask_and_prepare(client, signed_in, rich_client.user)
    link = _emailed_link(mailbox)
    export = db.session.scalar(select(DataExport))
    stored = privacy.exports.export_dir() / export.file_name
    assert privacy.expire_exports(now=utcnow() + timedelta(days=8)) == 1
    assert not stored.exists()
    answer = client.post(link)
    assert answer.status_code == 400 and "expired" in answer.get_data(as_text=True)


def test_a_second_request_while_one_is_prepared_is_the_same(rich_client):
    first = privacy.request_export(rich_client.user)
    assert privacy.request_export(rich_client.user).id == first.id
    assert db.session.scalar(select(DataExport.status)) == DataExportStatus.PENDING


def test_the_profile_shows_the_request_state(client, signed_in, rich_client):
    signed_in(rich_client.user)
    client.post("/settings/data-export")
    page = client.get("/settings/profile").get_data(as_text=True)
    assert "being prepared" in page
    kinds = db.session.scalars(select(Notification.kind)).all()
    assert NotificationKind.DATA_EXPORT_READY not in kinds
