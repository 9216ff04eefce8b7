"""The worker as a real process against a real SMTP server: killed with kill -9 in the
middle of a batch it loses nothing, and a mail server that is down for a while only
delays delivery. Every run shares the test's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import booking
from portal.core.transactions import unit_of_work
from portal.database import utcnow
from portal.extensions import db
from portal.models import Notification, NotificationKind, NotificationStatus, Role
from portal.notifications.outbox import notify
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.smtp import clear_outbox
from tests.fixtures.worker import worker_settings

pytestmark = pytest.mark.process


@pytest.fixture
def app_config(smtp_server, tmp_path):
    return {**smtp_server.config, **worker_settings(tmp_path)}


@pytest.fixture
def order(practitioner, client_user):
    placed = booking.book_workshop_seat(client_user, make_workshop(practitioner, seats=5))
    clear_outbox()
    return placed


def queue_messages(order, count: int) -> set[str]:
    """`count` messages committed in one transaction; their Message-ID headers."""

    @unit_of_work
    def write():
        return [
            notify(NotificationKind.BOOKING_PENDING_PAYMENT, order.user, order_id=order.id)
            for _ in range(count)
        ]

    return {f"<{message_id}@estuary.test>" for message_id in write()}


def rows() -> list[Notification]:
    db.session.rollback()  # a fresh snapshot of what the worker wrote
    return db.session.scalars(select(Notification).order_by(Notification.id)).all()


def wait_for_rows(done, timeout: float = 30.0) -> list[Notification]:
    deadline = time.monotonic() + timeout
    while not done(found := rows()):
        assert time.monotonic() < deadline, f"gave up waiting: {[r.status for r in found]}"
        time.sleep(0.2)
    return found


def test_a_worker_killed_mid_batch_loses_no_message(order, smtp_server, worker_process):
    smtp_server.inbox.delay = 0.05  # a batch of 20 takes a second to go out
    expected = queue_messages(order, 60)
    worker_process.start()
    smtp_server.wait_for(5, timeout=60)
    worker_process.kill_hard()
    before_restart = set(smtp_server.message_ids())
    assert 0 < len(before_restart) < len(expected), "killed after the end, not mid-batch"
    # What the dead worker had claimed waits for its lease (3 s) and then goes too.
    worker_process.start()
    smtp_server.wait_until(lambda _m: expected <= set(smtp_server.message_ids()), timeout=90)
    arrived = smtp_server.message_ids()
    assert set(arrived) == expected, "a message arrived that was never queued"
    # At least once: a message sent but not yet marked when the worker died goes again,
    # recognisable by its Message-ID (at most the one in flight per worker thread).
    assert len(arrived) - len(expected) <= 2
    final = wait_for_rows(lambda found: all(r.status == NotificationStatus.SENT for r in found))
    assert len(final) == len(expected)


def test_a_mail_server_down_for_a_while_only_delays_delivery(order, smtp_server, worker_process):
    smtp_server.stop()
    expected = queue_messages(order, 3)
    worker_process.start()
    # Retried with backoff (1 s, then 2 s...) while the server is down.
    tried = wait_for_rows(lambda found: all(r.attempts >= 2 for r in found))
    assert all(r.status == NotificationStatus.PENDING and r.last_error for r in tried)
    smtp_server.start()
    smtp_server.wait_for(3, timeout=30)
    assert set(smtp_server.message_ids()) == expected
    sent = wait_for_rows(lambda found: all(r.status == NotificationStatus.SENT for r in found))
    assert all(r.attempts >= 3 for r in sent)


def test_an_expired_hold_reaches_the_waitlisted_client_through_the_worker_alone(
    app, practitioner, smtp_server, worker_process
):
    """Nobody runs a command: the worker's minute job releases the hold, the domain
    offers the seat, and the offer's email goes out."""
    session = make_workshop(practitioner, seats=1)
    hold = timedelta(minutes=app.config["PORTAL_HOLD_MINUTES"])
    # The last seat, held by an order placed long enough ago that its hold expires in 2 s.
    # Both steps run at one instant, so a slow machine cannot let the hold expire between them.
    now = utcnow()
    holder = make_user(Role.CLIENT)
    booking.book_workshop_seat(holder, session, now=now - hold + timedelta(seconds=2))
    waiting = make_user(Role.CLIENT, timezone="Asia/Tokyo")
    booking.join_waitlist(waiting, session, now=now)
    worker_process.start()
    offered = smtp_server.wait_until(
        lambda ms: any(m["To"] == waiting.email for m in ms), timeout=100
    )
    (offer,) = [m for m in offered if m["To"] == waiting.email]
    assert offer["Subject"].startswith("A seat is free")
    text = offer.get_body(("plain",)).get_content()
    assert "(Asia/Tokyo, JST)" in text  # the deadline in the client's own zone
    assert "http://portal.test/bookings/" in text
