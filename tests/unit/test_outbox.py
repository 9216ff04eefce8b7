"""The outbox and its delivery loop, without the worker process: rows written with the
transaction that caused them, claimed once, sent with a stable Message-ID, retried with
backoff, given up on, resent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from portal import booking, profiles
from portal.core.transactions import unit_of_work
from portal.database import utcnow
from portal.extensions import db
from portal.ics import session_uid
from portal.models import CancelReason, Notification, NotificationKind, NotificationStatus, Role
from portal.notifications import delivery
from portal.notifications.mailer import kept_path, read_kept
from portal.notifications.messages import reason_label
from portal.notifications.outbox import notify
from portal.worker import Worker
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.smtp import clear_outbox


@pytest.fixture
def app_config(smtp_server):
    return {**smtp_server.config, "PORTAL_WORKER_MAX_ATTEMPTS": 3}


@pytest.fixture
def seat(practitioner, client_user):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    clear_outbox()
    return order.bookings[0]


def rows() -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(select(Notification).order_by(Notification.id)).all()


def queue_pending_payment(seat) -> Notification:
    @unit_of_work
    def write():
        return notify(NotificationKind.BOOKING_PENDING_PAYMENT, seat.user, order_id=seat.order_id)

    return by_message_id(write())


def by_message_id(message_id: str) -> Notification:
    return db.session.scalar(select(Notification).where(Notification.message_id == message_id))


def test_a_rolled_back_unit_of_work_leaves_no_message(seat):
    @unit_of_work
    def purchase_that_fails():
        notify(NotificationKind.BOOKING_CONFIRMED, seat.user, order_id=seat.order_id)
        raise booking.SessionFull("full after all")

    with pytest.raises(booking.SessionFull):
        purchase_that_fails()
    assert rows() == []
    queue_pending_payment(seat)
    assert [r.kind for r in rows()] == [NotificationKind.BOOKING_PENDING_PAYMENT]


def test_a_user_is_written_to_at_the_address_they_have_when_it_is_sent(seat, smtp_server):
    @unit_of_work
    def write():
        return notify(NotificationKind.PAYMENT_RECEIVED, seat.user_id, order_id=seat.order_id)

    row = by_message_id(write())
    assert (row.user_id, row.address) == (seat.user_id, None)
    seat.user.email = "moved@example.com"
    db.session.commit()
    assert delivery.deliver_due().sent == 1
    assert smtp_server.messages[0]["To"] == "moved@example.com"
    assert rows()[0].address == "moved@example.com"  # where it went, kept


def test_a_due_message_is_sent_once_with_its_invite_and_stable_message_id(seat, smtp_server):
    row = queue_pending_payment(seat)
    result = delivery.deliver_due()
    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    (message,) = smtp_server.messages
    assert message["To"] == seat.user.email
    assert message["Message-ID"] == f"<{row.message_id}@estuary.test>"
    assert "Payment needed" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "http://portal.test/orders/" in text and "http://portal.test/orders/" in html
    # The hold deadline, in the client's own zone (Europe/London).
    assert "Europe/London" in text
    calendars = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert calendars and all(p.get_param("method") == "REQUEST" for p in calendars)
    event = Calendar.from_ical(calendars[0].get_content()).walk("VEVENT")[0]
    session = seat.service_session
    db.session.refresh(session)
    assert str(event["uid"]) == session_uid(session)
    assert int(event["sequence"]) == session.revision
    (sent,) = rows()
    assert sent.status == NotificationStatus.SENT and sent.attempts == 1
    assert sent.claimed_until is None and sent.sent_at is not None
    # Nothing is due any more: a second run sends nothing.
    assert delivery.deliver_due().sent == 0
    assert len(smtp_server.messages) == 1


def test_smtp_down_retries_with_backoff_then_delivers(seat, smtp_server):
    queue_pending_payment(seat)
    smtp_server.stop()
    first = delivery.deliver_due()
    assert (first.sent, first.retrying) == (0, 1)
    (row,) = rows()
    assert row.status == NotificationStatus.PENDING and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    wait = row.next_attempt_at - utcnow()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    # Not due yet: nothing is tried before the backoff has passed.
    assert delivery.deliver_due().retrying == 0
    second = delivery.deliver_due(now=utcnow() + timedelta(seconds=31))
    assert second.retrying == 1
    (row,) = rows()
    assert row.attempts == 2
    assert timedelta(seconds=55) < row.next_attempt_at - utcnow() <= timedelta(seconds=60)
    smtp_server.start()
    third = delivery.deliver_due(now=utcnow() + timedelta(seconds=61))
    assert third.sent == 1
    assert len(smtp_server.messages) == 1
    assert rows()[0].status == NotificationStatus.SENT


def test_a_message_fails_after_the_last_try_and_staff_can_resend_it(seat, smtp_server):
    queue_pending_payment(seat)
    smtp_server.stop()
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=1)
        delivery.deliver_due(now=later)
    (row,) = rows()
    assert row.status == NotificationStatus.FAILED and row.attempts == 3
    assert row.last_error
    assert delivery.resend(row.id) is True
    assert delivery.resend(row.id) is False  # already back in line
    smtp_server.start()
    assert delivery.deliver_due().sent == 1
    (row,) = rows()
    assert row.status == NotificationStatus.SENT
    assert smtp_server.messages[0]["Message-ID"].startswith(f"<{row.message_id}@")


def test_two_claims_never_share_a_row_and_a_lapsed_lease_is_taken_over(seat):
    for _ in range(5):
        queue_pending_payment(seat)
    _lease, first = delivery.claim_due(3)
    _lease, second = delivery.claim_due(3)
    assert len(first) == 3 and len(second) == 2
    assert not set(first) & set(second)
    _lease, none_left = delivery.claim_due(10)
    assert none_left == []
    # A worker that died holds its rows only until its lease runs out.
    later = utcnow() + timedelta(seconds=301)
    _lease, retaken = delivery.claim_due(10, now=later)
    assert sorted(retaken) == sorted(first + second)


def test_an_outcome_is_recorded_only_by_the_lease_holder(seat):
    queue_pending_payment(seat)
    old_lease, (row_id,) = delivery.claim_due(1)
    new_lease, retaken = delivery.claim_due(1, now=utcnow() + timedelta(seconds=301))
    assert retaken == [row_id]
    assert delivery._finish(row_id, old_lease, status=NotificationStatus.SENT) is False
    assert delivery._finish(row_id, new_lease, status=NotificationStatus.SENT) is True


def test_optional_messages_respect_the_recipients_choice(seat, practitioner, smtp_server):
    from portal.models import NotificationPreferences

    db.session.add(NotificationPreferences(user_id=practitioner.id, practitioner_notices=False))
    db.session.commit()

    @unit_of_work
    def write():
        notify(
            NotificationKind.PRACTITIONER_NEW_BOOKING,
            practitioner,
            session_id=seat.service_session_id,
            client_id=seat.user_id,
        )

    write()
    result = delivery.deliver_due()
    assert (result.sent, result.skipped) == (0, 1)
    (row,) = rows()
    assert row.status == NotificationStatus.SKIPPED and "turned off" in row.last_error
    assert smtp_server.messages == []


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": ""}])
def test_without_a_mail_server_messages_are_kept_in_the_instance_folder(
    seat, app_config, app, tmp_path
):
    app.config["PORTAL_MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    row = queue_pending_payment(seat)
    assert delivery.deliver_due().sent == 1
    kept = read_kept(rows()[0])
    assert kept is not None and kept_path(row).name == f"{row.message_id}.eml"
    assert kept["To"] == seat.user.email
    # Sent again (a retry after a crash): the same file, not a second one.
    assert delivery.resend(row.id) is False
    assert len(list((tmp_path / "outbox").iterdir())) == 1


def test_an_address_without_an_account_can_be_written_to(app, smtp_server):
    staff = make_user(Role.STAFF)

    @unit_of_work
    def invite():
        notify(
            NotificationKind.INVITATION,
            None,
            address="newcomer@example.com",
            url="http://portal.test/invite/abc",
            inviter=staff.name,
        )

    invite()
    assert delivery.deliver_due().sent == 1
    (message,) = smtp_server.messages
    assert message["To"] == "newcomer@example.com"
    assert "http://portal.test/invite/abc" in message.get_body(("plain",)).get_content()
    assert db.session.scalar(select(func.count(Notification.id))) == 1


def test_every_kind_has_its_message_template(app):
    # A kind without a template would fail only in the worker, row by row, after commit.
    names = set(app.jinja_env.list_templates(filter_func=lambda n: n.startswith("emails/")))
    assert {f"emails/{kind.value}.txt" for kind in NotificationKind} <= names


def test_a_cancel_reason_is_kept_as_typed_and_a_domain_reason_as_its_code(seat, smtp_server):
    booking.cancel_session(
        seat.service_session, seat.service_session.practitioner, note="The teacher is ill"
    )
    (notice,) = [r for r in rows() if r.kind == NotificationKind.SESSION_CANCELED]
    assert notice.payload["reason"] == "The teacher is ill"
    delivery.deliver_due()
    text = smtp_server.messages[-1].get_body(("plain",)).get_content()
    assert "Reason: The teacher is ill" in text

    # A domain reason is stored as its code and worded when the message is written.
    assert reason_label({"reason": CancelReason.HOLD_EXPIRED.value}) == "hold expired"
    # Rows queued before codes were kept still read their stored words.
    assert reason_label({"reason_label": "hold expired"}) == "hold expired"


def test_mail_about_a_practitioner_wears_their_accent_colour(seat, smtp_server):
    practitioner = seat.service_session.practitioner
    profiles.save_public_profile(
        practitioner, details=profiles.ProfileDetails(accent_color="#1f5f8b")
    )
    db.session.commit()
    queue_pending_payment(seat)
    delivery.deliver_due()

    html = smtp_server.messages[-1].get_body(("html",)).get_content()
    assert "background-color: #1f5f8b; color: #ffffff" in html


def test_mail_about_a_practitioner_opens_with_their_logo(seat, smtp_server):
    practitioner = seat.service_session.practitioner
    profiles.save_public_profile(practitioner)
    practitioner.profile.logo = "ab" * 16 + ".png"
    db.session.commit()
    queue_pending_payment(seat)
    delivery.deliver_due()

    html = smtp_server.messages[-1].get_body(("html",)).get_content()
    expected = f'<img src="http://portal.test/media/photos/{"ab" * 16}.png" alt="Logo of '
    assert expected + f'{practitioner.name}" height="48">' in html


def test_mail_without_a_chosen_colour_keeps_the_portal_look(seat, smtp_server):
    queue_pending_payment(seat)
    delivery.deliver_due()

    html = smtp_server.messages[-1].get_body(("html",)).get_content()
    assert "background-color" not in html


def test_a_burst_of_commits_wakes_the_worker_with_one_queue_write(app):
    """Every commit that wrote to the outbox asks for a delivery run; the asks of one
    moment share one run, scheduled for just after them, so a busy web process does not
    write to the queue per request and no commit of that moment is left for the minute."""
    worker = Worker(app)
    for _ in range(5):
        worker.deliver_soon()
    runs = worker.huey.pending()
    assert [run.name for run in runs] == ["deliver_outbox"]
    assert runs[0].eta is not None and runs[0].eta > utcnow().replace(tzinfo=None)
