"""Erasing a client's account (GDPR art. 17): asked for in the profile with the password,
a grace period to cancel it, then the worker's erasure. Afterwards no text column of any
table holds the client's name or address, while the practitioner's books and reports
add up to what they did before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, String, Text, cast, func, select

from portal import audit, booking, privacy
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    DataExport,
    ErasureRequest,
    ErasureStatus,
    IntakeSubmission,
    Notification,
    NotificationKind,
    Payment,
    Role,
    ServiceSession,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.fixtures.attendance import past
from tests.fixtures.concurrency import race
from tests.fixtures.data_rights import EMAIL, NAME
from tests.fixtures.factories import PASSWORD, future, make_user, make_workshop

NEEDLES = ("zelda", "quillfeather", EMAIL)


@pytest.fixture
def app_config(tmp_path):
    # Due at once: the worker's run in the test erases what was asked a moment before.
    return {"PORTAL_ERASURE_GRACE_DAYS": 0, "PORTAL_EXPORT_DIR": str(tmp_path / "exports")}


def personal_traces(needles=NEEDLES) -> list[str]:
    """Every (table, column, needle) where a text or JSON column of any table holds one."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            as_text = func.lower(cast(column, Text))
            for needle in needles:
                hits = db.session.scalar(
                    select(func.count()).select_from(table).where(as_text.contains(needle.lower()))
                )
                if hits:
                    found.append(f"{table.name}.{column.name} holds {needle!r} ({hits} rows)")
    return found


def _books() -> dict:
    """The practitioner's money: every ledger row's kind and amount, by order."""
    return {
        (p.order_id, p.kind.value): p.amount_cents
        for p in db.session.scalars(select(Payment).order_by(Payment.id))
    }


def _report(practitioner) -> tuple:
    filters = booking.ReportFilters(
        start=past(30), end=utcnow() + timedelta(days=30), practitioner_id=practitioner.id
    )
    report = booking.noshow_report(filters)
    total = report.total
    by_client = sorted((r.booked, r.attended, r.no_shows) for r in report.by_client)
    return (total.booked, total.attended, total.no_shows, total.late_cancels), by_client


def test_erasure_leaves_no_personal_value_and_the_books_unchanged(
    app, client, signed_in, rich_client, practitioner
):
    user = rich_client.user
    assert personal_traces()  # the search finds them while they are there
    privacy.request_export(user)
    privacy.prepare_exports()
    waiting = privacy.exports.export_dir() / db.session.scalar(select(DataExport.file_name))
    assert waiting.exists()
    books, report = _books(), _report(practitioner)

    signed_in(user)
    asked = client.post("/settings/delete-account", data={"password": PASSWORD})
    assert asked.status_code == 302
    scheduled = db.session.scalar(select(Notification.kind).order_by(Notification.id.desc()))
    assert scheduled == NotificationKind.ERASURE_SCHEDULED

    intake_files = list((Path(app.config["PORTAL_MEDIA_DIR"]) / "intake").iterdir())
    assert len(intake_files) == 1
    assert privacy.erase_due_accounts() == 1
    db.session.expire_all()
    # Intake answers are sealed (no search finds them): gone as rows and as files.
    assert db.session.scalar(select(func.count()).select_from(IntakeSubmission)) == 0
    assert not any(f.exists() for f in intake_files)

    traces = personal_traces()
    assert traces == [], "\n".join(traces)
    assert not waiting.exists()
    assert _books() == books
    assert _report(practitioner) == report
    # The seat ahead went back (before the cut-off: no late cancel), the credits and the
    # waitlist place with it; the past stays as it was.
    seats = db.session.scalars(select(Booking).where(Booking.user_id == user.id)).all()
    ahead = [b for b in seats if b.service_session_id == rich_client.ahead.id]
    assert [(b.status, b.late_cancel) for b in ahead] == [(BookingStatus.CANCELED, False)]
    assert all(b.status == BookingStatus.CANCELED for b in seats if b.get_start_time() is None)
    assert db.session.scalar(select(WaitlistEntry.status)) == WaitlistStatus.CANCELED
    db.session.refresh(rich_client.ahead)
    assert rich_client.ahead.current_participants == 0

    tombstone = db.session.get(User, user.id)
    assert tombstone.name == privacy.tombstone_name(user.id)
    assert not tombstone.is_active_account
    # Signed out everywhere: the browser's sign-in no longer exists.
    assert client.get("/settings/profile").status_code == 302
    answer = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    assert answer.status_code != 302
    assert audit.verify().ok
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert AuditAction.ERASURE_REQUESTED in actions and AuditAction.ACCOUNT_ERASED in actions


def test_a_seat_past_the_cutoff_is_a_late_cancel(app, practitioner):
    user = make_user()
    soon = make_workshop(
        practitioner, start=utcnow() + timedelta(hours=3), cancellation_cutoff_hours=24
    )
    booking.book_workshop_seat(user, soon)
    privacy.request_erasure(user)
    assert privacy.erase_due_accounts() == 1
    seat = db.session.scalar(select(Booking).where(Booking.user_id == user.id))
    assert seat.status == BookingStatus.CANCELED and seat.late_cancel


def test_the_password_is_asked_again(client, signed_in, rich_client):
    signed_in(rich_client.user)
    answer = client.post("/settings/delete-account", data={"password": "not it"})
    assert answer.status_code == 422
    assert "not your current password" in answer.get_data(as_text=True)
    assert db.session.scalar(select(ErasureRequest)) is None


def test_canceling_in_the_grace_period_keeps_everything(client, signed_in, app, rich_client):
    app.config["PORTAL_ERASURE_GRACE_DAYS"] = 14
    user = rich_client.user
    signed_in(user)
    client.post("/settings/delete-account", data={"password": PASSWORD})
    request = db.session.scalar(select(ErasureRequest))
    assert request.due_at - request.requested_at == timedelta(days=14)
    page = client.get("/settings/profile").get_data(as_text=True)
    assert "will be deleted on" in page and "Keep my account" in page
    # Not due yet: the worker leaves it.
    assert privacy.erase_due_accounts() == 0

    assert client.post("/settings/delete-account/cancel").status_code == 302
    assert privacy.erase_due_accounts(now=utcnow() + timedelta(days=15)) == 0
    db.session.refresh(user)
    assert user.name == NAME and user.email == EMAIL
    assert db.session.scalar(select(ErasureRequest.status)) == ErasureStatus.CANCELED
    assert "will be deleted on" not in client.get("/settings/profile").get_data(as_text=True)


def test_only_client_accounts_are_erased_here(practitioner):
    with pytest.raises(booking.NotPermitted):
        privacy.request_erasure(practitioner)


@pytest.mark.parametrize("round_", range(3))
def test_erasure_and_its_cancellation_race_to_one_outcome(app, practitioner, round_):
    """The worker's erasure against the client's "keep my account", released together:
    exactly one wins, and the account is either whole or erased, never half."""
    user = make_user(name="Racing Quillfeather")
    session = make_workshop(practitioner, start=future(3 + round_))
    booking.book_workshop_seat(user, session)
    request = privacy.request_erasure(user)
    user_id, request_id = user.id, request.id
    erased: list[bool] = []

    def erase():
        erased.append(privacy.erase_account(request_id))

    def keep():
        privacy.cancel_erasure(db.session.get(User, user_id))

    outcomes = race(app, [erase, keep])
    db.session.expire_all()
    status = db.session.scalar(select(ErasureRequest.status))
    kept = db.session.get(User, user_id)
    seat_status = db.session.scalar(
        select(Booking.status)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(Booking.user_id == user_id)
    )
    if erased == [True]:
        assert outcomes == {"ok": 1, "InvalidTransition": 1}
        assert status == ErasureStatus.DONE
        assert "quillfeather" not in kept.name.lower()
        assert seat_status == BookingStatus.CANCELED
    else:
        assert erased == [False] and outcomes == {"ok": 2}
        assert status == ErasureStatus.CANCELED
        assert kept.name == "Racing Quillfeather"
        assert seat_status != BookingStatus.CANCELED


def test_staff_act_on_a_clients_behalf(client, signed_in, staff_user, client_user, app):
    app.config["PORTAL_ERASURE_GRACE_DAYS"] = 14
    signed_in(staff_user)
    assert client.post(f"/staff/users/{client_user.id}/export").status_code == 302
    export = db.session.scalar(select(DataExport))
    assert (export.user_id, export.requested_by_id) == (client_user.id, staff_user.id)

    assert client.post(f"/staff/users/{client_user.id}/erase").status_code == 302
    request = db.session.scalar(select(ErasureRequest))
    assert (request.user_id, request.requested_by_id) == (client_user.id, staff_user.id)
    page = client.get("/staff/users/").get_data(as_text=True)
    assert "Deletion scheduled" in page and "Cancel deletion" in page
    told = db.session.scalar(select(Notification).order_by(Notification.id.desc()))
    assert (told.kind, told.user_id) == (NotificationKind.ERASURE_SCHEDULED, client_user.id)

    assert client.post(f"/staff/users/{client_user.id}/keep").status_code == 302
    assert db.session.scalar(select(ErasureRequest.status)) == ErasureStatus.CANCELED
    (by_staff,) = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == AuditAction.ERASURE_CANCELED)
    )
    assert by_staff.actor_id == staff_user.id and by_staff.client_id == client_user.id
    # A practitioner's account is not erased from here.
    practitioner = make_user(Role.PRACTITIONER)
    client.post(f"/staff/users/{practitioner.id}/erase")
    assert db.session.scalar(select(func.count()).select_from(ErasureRequest)) == 1
