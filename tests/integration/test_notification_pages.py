"""The staff outbox page, notification settings and the one-click unsubscribe, through
the test client."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from portal.core.transactions import unit_of_work
from portal.extensions import db
from portal.models import (
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationStatus,
    Preference,
)
from portal.notifications import delivery
from portal.notifications.links import unsubscribe_token
from portal.notifications.outbox import notify


@pytest.fixture
def app_config(tmp_path):
    return {"MAIL_SERVER": "", "PORTAL_MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}


def queue(order) -> Notification:
    @unit_of_work
    def write():
        return notify(NotificationKind.BOOKING_PENDING_PAYMENT, order.user, order_id=order.id)

    message_id = write()
    return db.session.scalar(select(Notification).where(Notification.message_id == message_id))


def test_staff_read_every_kept_message_on_the_outbox_page(client, signed_in, staff_user, order):
    row = queue(order)
    assert delivery.deliver_due().sent == 1
    signed_in(staff_user)
    page = client.get(url_for("outbox.index")).get_data(as_text=True)
    assert "No mail server is configured" in page
    assert order.user.email in page and "booking pending payment" in page
    message = client.get(url_for("outbox.show_message", notification_id=row.id))
    text = message.get_data(as_text=True)
    assert message.status_code == 200
    assert "Payment needed" in text and "text/calendar (REQUEST)" in text
    assert "BEGIN:VCALENDAR" in text and row.message_id in text


def test_staff_see_why_a_message_failed_and_send_it_again(client, signed_in, staff_user, order):
    row = queue(order)
    row.status, row.attempts, row.last_error = NotificationStatus.FAILED, 8, "SMTP: refused"
    db.session.commit()
    signed_in(staff_user)
    page = client.get(url_for("outbox.index", status="failed")).get_data(as_text=True)
    assert "SMTP: refused" in page and "failed (1)" in page
    answer = client.post(url_for("outbox.resend", notification_id=row.id))
    assert answer.status_code == 302
    db.session.expire_all()
    assert (row.status, row.attempts) == (NotificationStatus.PENDING, 0)
    assert delivery.deliver_due().sent == 1
    again = client.post(url_for("outbox.resend", notification_id=row.id), follow_redirects=True)
    assert "Only a failed or skipped message" in again.get_data(as_text=True)


def test_a_client_turns_reminders_off(client, signed_in, client_user):
    signed_in(client_user)
    page = client.get(url_for("notifications.preferences")).get_data(as_text=True)
    assert "Reminders before my sessions" in page
    assert "Remind my clients" not in page  # a practitioner's setting
    answer = client.post(url_for("notifications.preferences"), data={"reminders": ""})
    assert answer.status_code == 302
    saved = db.session.get(NotificationPreferences, client_user.id)
    assert saved.reminders is False


def test_a_practitioner_sets_reminder_times_in_hours(client, signed_in, practitioner):
    signed_in(practitioner)
    answer = client.post(
        url_for("notifications.preferences"),
        data={"practitioner_notices": "y", "reminder_offsets": "2, 48, 0.5"},
    )
    assert answer.status_code == 302
    saved = db.session.get(NotificationPreferences, practitioner.id)
    assert saved.reminder_offsets == [2880, 120, 30] and saved.practitioner_notices
    refused = client.post(url_for("notifications.preferences"), data={"reminder_offsets": "soon"})
    assert refused.status_code == 200 and "is not a number of hours" in refused.get_data(
        as_text=True
    )


def test_the_one_click_unsubscribe_turns_only_that_kind_off(client, client_user):
    token = unsubscribe_token(client_user.id, Preference.REMINDERS)
    path = url_for("notifications.unsubscribe", token=token)
    # A link scanner's GET changes nothing.
    assert "Stop reminders?" in client.get(path).get_data(as_text=True)
    assert db.session.get(NotificationPreferences, client_user.id) is None
    # RFC 8058: what a mail client posts, without any cookie.
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    saved = db.session.scalar(
        select(NotificationPreferences).where(NotificationPreferences.user_id == client_user.id)
    )
    assert saved.reminders is False and saved.practitioner_notices is True


@pytest.mark.parametrize("typed", ["1e308", "NaN", "inf", "-inf", "24, 1e400"])
def test_reminder_times_past_any_number_are_explained_not_crashed(
    client, signed_in, practitioner, typed
):
    signed_in(practitioner)
    client.post(url_for("notifications.preferences"), data={"reminder_offsets": "24"})
    refused = client.post(url_for("notifications.preferences"), data={"reminder_offsets": typed})
    assert refused.status_code == 200
    assert "is not a number of hours" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(NotificationPreferences, practitioner.id).reminder_offsets == [1440]
