"""Outbound webhooks through the real worker process (#18): an endpoint that never
answers holds none of the threads that send email; a garbage answer is recorded and
never sticks the batch it came in; a retry goes at its time, not at the next minute's
backstop. Real receivers on 127.0.0.1, a real SMTP server, the test's database."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from portal import accounts
from portal.booking import events
from portal.database import utcnow, write_transaction
from portal.extensions import db
from portal.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEventType
from portal.webhooks_out.endpoints import register_endpoint
from tests.fixtures.smtp import clear_outbox
from tests.fixtures.worker import worker_settings

CREATED = [WebhookEventType.BOOKING_CREATED]
# Far below the minutes a starved worker took (issue #18), far above a loaded machine's
# hiccups; bench/webhook_black_hole.py measures the real figure.
EMAIL_WAIT = 10.0


@pytest.fixture
def app_config(smtp_server, tmp_path):
    return {
        **smtp_server.config,
        **worker_settings(tmp_path),
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE": True,
        "PORTAL_WEBHOOKS_ALLOW_HTTP": True,
        "PORTAL_WEBHOOKS_TIMEOUT_SECONDS": 2,
        "PORTAL_WEBHOOKS_RETRY_SECONDS": 1,
    }


def queue_events(practitioner_id: int, count: int, commits: int = 1) -> None:
    """`count` events about the practitioner's sessions, in `commits` transactions
    (each commit wakes the worker once)."""
    for part in range(commits):
        with write_transaction():
            now = utcnow()
            for n in range(count // commits):
                events.emit(
                    WebhookEventType.BOOKING_CREATED,
                    practitioner_id=practitioner_id,
                    data={"booking_id": part * count + n},
                    now=now,
                )


def wait_until(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def reset_email_arrives(smtp_server, user, within: float = EMAIL_WAIT) -> None:
    before = len(smtp_server.to(user.email))
    accounts.request_password_reset(user.email)
    smtp_server.wait_until(lambda _m: len(smtp_server.to(user.email)) > before, within)


def test_a_black_holed_endpoint_does_not_delay_email(
    practitioner, client_user, smtp_server, black_hole, worker_process
):
    register_endpoint(practitioner, black_hole.url, CREATED)
    clear_outbox()
    worker_process.start()
    reset_email_arrives(smtp_server, client_user, within=60)  # the worker is up
    queue_events(practitioner.id, 500, commits=2)
    wait_until(lambda: black_hole.connections >= 1, 30, "a send to the black hole")
    for _ in range(3):
        reset_email_arrives(smtp_server, client_user)
    # One attempt a batch while it gives no answer: the rest wait for the retry.
    assert black_hole.connections < 50


def test_a_garbage_answer_never_sticks_the_batch(
    practitioner, staff_user, receiver, raw_receivers, worker_process
):
    garbage = raw_receivers(b"HELLO THERE\r\n\r\n")
    broken = register_endpoint(practitioner, garbage.url, CREATED)
    register_endpoint(staff_user, receiver.url, CREATED)
    queue_events(practitioner.id, 10)
    worker_process.start()
    wait_until(lambda: len(receiver.requests) == 10, 30, "the healthy endpoint's 10")

    def broken_attempts() -> list[WebhookAttempt]:
        db.session.rollback()  # a fresh snapshot of what the worker wrote
        return db.session.scalars(
            select(WebhookAttempt)
            .join(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == broken.id)
        ).all()

    wait_until(lambda: len(broken_attempts()) >= 3, 30, "the broken endpoint's retries")
    assert all("BadStatusLine" in a.error and a.status_code is None for a in broken_attempts())
    delivered = db.session.scalar(
        select(func.count()).where(WebhookDelivery.status == DeliveryStatus.DELIVERED)
    )
    assert delivered == 10 and garbage.requests >= 3


def test_a_retry_goes_at_its_time(practitioner, receiver, worker_process):
    """Three failures, retried after 1, 2 and 4 s: all four tries within seconds, where
    waiting for the minute's backstop took one minute a retry."""
    receiver.fail_first = 3
    register_endpoint(practitioner, receiver.url, CREATED)
    queue_events(practitioner.id, 1)
    worker_process.start()
    wait_until(lambda: len(receiver.requests) == 4, 40, "the fourth try")

    def row() -> WebhookDelivery:
        db.session.rollback()  # a fresh snapshot of what the worker wrote
        return db.session.scalar(select(WebhookDelivery))

    wait_until(lambda: row().status == DeliveryStatus.DELIVERED, 10, "delivered")
    assert row().attempts == 4
