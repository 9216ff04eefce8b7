"""Reminders before each session, credits about to expire, the daily agenda: due at the
right absolute moment across a DST change, written once however often the worker runs
(or restarts), never for a canceled booking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import (
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationStatus,
    Role,
    ServiceType,
)
from portal.notifications import delivery
from portal.reminders import (
    queue_daily_agendas,
    queue_due_reminders,
    queue_expiring_credits,
)
from tests.fixtures.app import make_app
from tests.fixtures.factories import make_service, make_user
from tests.fixtures.l10n import shown
from tests.fixtures.smtp import clear_outbox

LISBON = ZoneInfo("Europe/Lisbon")
# Sunday 28 March 2027: Lisbon moves from WET (UTC+0) to WEST (UTC+1) at 01:00 UTC.
# 10:00 local is 09:00 UTC. Kept in UTC: arithmetic on a zoned datetime is wall-clock
# arithmetic, and "24 hours before" must be 24 real hours.
START = datetime(2027, 3, 28, 10, 0, tzinfo=LISBON).astimezone(UTC)
BOOKED = START - timedelta(days=7)


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


@pytest.fixture
def seat(practitioner):
    client = make_user(Role.CLIENT, timezone="Europe/Lisbon")
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=5)
    session = booking.create_session(service, start_time=START)
    order = booking.book_workshop_seat(client, session, now=BOOKED)
    booking.confirm_payment(order, reference="test", now=BOOKED)
    clear_outbox()
    return order.bookings[0]


def reminders() -> list[Notification]:
    db.session.expire_all()
    return db.session.scalars(
        select(Notification)
        .where(Notification.kind == NotificationKind.REMINDER)
        .order_by(Notification.id)
    ).all()


def tick(moment: datetime) -> int:
    return queue_due_reminders(now=moment.astimezone(UTC))


def test_booked_a_week_ahead_gets_one_24h_and_one_1h_reminder_across_dst(seat, smtp_server):
    day_before = START - timedelta(hours=24)
    # 24 real hours before: Saturday 09:00 UTC, which is 09:00 in Lisbon (still WET),
    # not the same wall-clock time the day before.
    assert day_before == datetime(2027, 3, 27, 9, 0, tzinfo=UTC)
    assert day_before.astimezone(LISBON).hour == 9
    assert tick(day_before - timedelta(minutes=1)) == 0
    assert tick(day_before) == 1
    assert tick(day_before + timedelta(minutes=1)) == 0
    assert tick(START - timedelta(minutes=61)) == 0
    assert tick(START - timedelta(minutes=60)) == 1
    # Every minute from then to the start, and a run every half hour over the week.
    assert sum(tick(START - timedelta(minutes=m)) for m in range(59, 0, -1)) == 0
    assert sum(tick(BOOKED + timedelta(minutes=30 * n)) for n in range(336)) == 0
    assert [(r.payload["offset_minutes"], r.recipient_address) for r in reminders()] == [
        (1440, seat.user.email),
        (60, seat.user.email),
    ]
    assert delivery.deliver_due(now=START - timedelta(minutes=30)).sent == 2
    for message in smtp_server.messages:
        text = message.get_body(("plain",)).get_content()
        # The start in the client's zone, on the far side of the change.
        assert f"{shown(START, 'long-datetime', LISBON)} (Europe/Lisbon, WEST)" in text
        assert "10:00" in text  # the wall clock after the change, not 09:00
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http://portal.test/settings/")


def test_a_booking_canceled_before_gets_no_reminder(seat):
    booking.cancel_booking(seat, seat.user, now=BOOKED + timedelta(days=1))
    for moment in (START - timedelta(hours=24), START - timedelta(hours=1)):
        assert tick(moment) == 0
    assert reminders() == []


def test_a_reminder_queued_then_canceled_is_not_sent(seat, practitioner, smtp_server):
    assert tick(START - timedelta(hours=24)) == 1
    booking.cancel_booking(seat, practitioner, now=START - timedelta(hours=23))
    result = delivery.deliver_due(now=START - timedelta(hours=23))
    # The cancellation is told; the reminder queued before it is not sent.
    assert (result.sent, result.skipped) == (1, 1)
    assert reminders()[0].status == NotificationStatus.SKIPPED
    assert [m["Subject"].split(":")[0] for m in smtp_server.messages] == ["Canceled"]


def test_an_unconfirmed_address_gets_no_reminder(seat, smtp_server):
    seat.user.email_verified_at = None
    db.session.commit()
    assert tick(START - timedelta(hours=24)) == 1
    result = delivery.deliver_due(now=START - timedelta(hours=24))
    assert (result.sent, result.skipped) == (0, 1)
    (reminder,) = reminders()
    assert reminder.status == NotificationStatus.SKIPPED
    assert reminder.last_error == "the address is not confirmed yet"
    assert smtp_server.messages == []


def test_a_worker_restarted_between_still_sends_each_once(seat, database_url, app_config):
    assert tick(START - timedelta(hours=24)) == 1
    db.session.remove()
    # A new process: nothing kept in memory, only what the database holds.
    restarted = make_app(database_url, **app_config)
    with restarted.app_context():
        assert tick(START - timedelta(hours=24) + timedelta(minutes=5)) == 0
        assert tick(START - timedelta(hours=1)) == 1
        assert tick(START - timedelta(minutes=30)) == 0
        db.session.remove()
        db.engine.dispose()
    assert [r.payload["offset_minutes"] for r in reminders()] == [1440, 60]


def test_booked_late_gets_only_the_reminders_still_ahead(practitioner):
    client = make_user(Role.CLIENT)
    service = make_service(practitioner, ServiceType.WORKSHOP, max_participants=5)
    session = booking.create_session(service, start_time=START)
    booked = START - timedelta(hours=3)
    order = booking.book_workshop_seat(client, session, now=booked)
    booking.confirm_payment(order, reference="test", now=booked)
    assert sum(tick(booked + timedelta(minutes=m)) for m in range(0, 180, 5)) == 1
    assert [r.payload["offset_minutes"] for r in reminders()] == [60]


def test_a_practitioner_chooses_the_offsets(seat, practitioner):
    db.session.add(NotificationPreferences(user_id=practitioner.id, reminder_offsets=[120]))
    db.session.commit()
    assert tick(START - timedelta(hours=24)) == 0
    assert tick(START - timedelta(hours=2)) == 1
    assert tick(START - timedelta(hours=1)) == 0
    assert [r.payload["offset_minutes"] for r in reminders()] == [120]


def test_unused_credits_are_announced_once_before_they_expire(practitioner, client_user):
    included = make_service(practitioner)
    bundle = make_service(
        practitioner, ServiceType.BUNDLE, components=[(included, 3)], validity_days=30
    )
    bought = datetime.now(UTC) - timedelta(days=25)
    order = booking.buy_credits(client_user, bundle, now=bought)
    booking.confirm_payment(order, reference="test", now=bought)
    assert queue_expiring_credits(now=bought + timedelta(days=20)) == 0  # 10 days left
    assert queue_expiring_credits(now=bought + timedelta(days=24)) == 1  # 6 days left
    assert queue_expiring_credits(now=bought + timedelta(days=25)) == 0
    (row,) = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.CREDITS_EXPIRING)
    ).all()
    assert row.payload["count"] == 3 and row.payload["order_id"] == order.id


def test_the_daily_agenda_goes_once_a_morning_to_those_who_want_it(seat, practitioner):
    db.session.add(NotificationPreferences(user_id=practitioner.id, daily_agenda=True))
    db.session.commit()
    zone = practitioner.zone  # America/New_York
    morning = datetime(2027, 3, 28, 6, 45, tzinfo=zone)
    assert queue_daily_agendas(now=morning) == 0
    assert queue_daily_agendas(now=morning + timedelta(minutes=15)) == 1
    assert queue_daily_agendas(now=morning + timedelta(hours=3)) == 0
    (row,) = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.DAILY_AGENDA)
    ).all()
    assert [s["title"] for s in row.payload["sessions"]] == [seat.service_session.display_title]
