"""Outbound webhooks: the domain writes events in its unit of work, the delivery run
signs and sends them to a real receiver on 127.0.0.1, retries, disables, and never
sends one row twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from portal import booking
from portal.core.transactions import unit_of_work
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AttendanceStatus,
    DeliveryStatus,
    Notification,
    NotificationKind,
    Role,
    ServiceType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
)
from portal.notifications.messages import load_subjects, render
from portal.webhooks_out import delivery
from portal.webhooks_out.addresses import UnsafeURL, refusal
from portal.webhooks_out.endpoints import (
    check_url,
    delete_endpoint,
    enable_endpoint,
    register_endpoint,
    send_test,
)
from tests.fixtures.attendance import book_past_session, finish, join, past
from tests.fixtures.factories import future, make_service, make_user, make_workshop
from tests.fixtures.webhook_receiver import local_webhooks

app_config = local_webhooks

ALL = list(WebhookEventType)[:-1]


def _endpoint(owner, url, types=ALL) -> WebhookEndpoint:
    return register_endpoint(owner, url, types, description="test")


def _events(event_type=None) -> list[WebhookEvent]:
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    if event_type is not None:
        query = query.where(WebhookEvent.event_type == event_type)
    return list(db.session.scalars(query))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- The domain writes the events ---------------------------------------------------------


def test_each_domain_operation_writes_its_event(practitioner, client_user, receiver):
    _endpoint(practitioner, receiver.url)
    individual = make_service(practitioner, cancellation_cutoff_hours=0)
    order = booking.purchase(client_user, individual, start_time=future(days=3))
    seat = order.bookings[0]
    booking.confirm_payment(order, reference="cash")
    booking.reschedule_booking(seat, practitioner, future(days=4))
    booking.cancel_booking(seat, practitioner)
    workshop = make_workshop(practitioner, seats=5)
    booking.purchase(client_user, workshop.service, session=workshop)
    booking.cancel_session(workshop, practitioner)

    kinds = [e.event_type for e in _events()]
    assert kinds == [
        WebhookEventType.BOOKING_CREATED,
        WebhookEventType.BOOKING_CONFIRMED,
        WebhookEventType.BOOKING_RESCHEDULED,
        WebhookEventType.BOOKING_CANCELED,
        WebhookEventType.BOOKING_CREATED,
        WebhookEventType.BOOKING_CANCELED,
        WebhookEventType.SESSION_CANCELED,
    ]
    created, confirmed, moved = (e.payload for e in _events()[:3])
    assert created["type"] == "booking.created"
    assert created["data"]["booking_id"] == seat.id
    assert created["data"]["status"] == "pending_payment"
    assert confirmed["data"]["status"] == "confirmed"
    assert moved["data"]["start_time"] == future(days=4).isoformat()
    assert moved["data"]["previous_start_time"] == future(days=3).isoformat()
    assert _events(WebhookEventType.SESSION_CANCELED)[0].payload["data"][
        "canceled_booking_ids"
    ] == [workshop.bookings[0].id]
    assert _count(WebhookDelivery) == 7


def test_attendance_recorded_carries_the_no_show(practitioner, receiver):
    _endpoint(practitioner, receiver.url, [WebhookEventType.ATTENDANCE_RECORDED])
    came, missed = make_user(), make_user()
    session = book_past_session(practitioner, [came, missed], past(days=1))
    join(session, came, 0, 60)
    finish(session)
    by_client = {e.payload["data"]["client_id"]: e.payload["data"] for e in _events()}
    assert by_client[came.id]["no_show"] is False
    assert by_client[missed.id]["no_show"] is True
    assert by_client[missed.id]["outcome"] == "no_show"
    # Recording again finds nothing new: no second event.
    booking.record_outcomes([session.id])
    assert len(_events()) == 2
    seat = next(b for b in session.bookings if b.user_id == missed.id)
    booking.override_outcome(seat, AttendanceStatus.ATTENDED, practitioner, reason="phoned in")
    last = _events()[-1].payload["data"]
    assert (last["client_id"], last["no_show"], last["overridden"]) == (missed.id, False, True)


def test_who_receives_what(practitioner, client_user, staff_user, receiver):
    other = make_user(Role.PRACTITIONER)
    mine = _endpoint(practitioner, receiver.url)
    theirs = _endpoint(other, receiver.url)
    everything = _endpoint(staff_user, receiver.url)
    only_cancels = _endpoint(staff_user, receiver.url, [WebhookEventType.BOOKING_CANCELED])
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    receivers = set(db.session.scalars(select(WebhookDelivery.endpoint_id)))
    assert receivers == {mine.id, everything.id}
    assert theirs.id not in receivers and only_cancels.id not in receivers


def test_a_seat_sold_by_ids_writes_the_same_event(practitioner, client_user, receiver):
    """The express path (booking/express.py, the API's seat) writes booking.created from
    the values it holds, as the general path does from its objects."""
    _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner, seats=5, price_cents=1500)
    sale = booking.purchase_by_ids(client_user, workshop.service_id, service_session_id=workshop.id)
    assert isinstance(sale, booking.Sale)
    (event,) = _events(WebhookEventType.BOOKING_CREATED)
    assert event.payload["data"] == {
        "booking_id": sale.bookings[0].id,
        "status": "pending_payment",
        "client_id": client_user.id,
        "order_id": sale.id,
        "service_id": workshop.service_id,
        "session_id": workshop.id,
        "practitioner_id": practitioner.id,
        "start_time": workshop.start_time.isoformat(),
        "end_time": workshop.end_time.isoformat(),
    }
    assert _count(WebhookDelivery) == 1


def test_nobody_listening_writes_no_event(practitioner, client_user):
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    assert _count(WebhookEvent) == 0


def test_a_rolled_back_purchase_sends_nothing(practitioner, client_user, receiver):
    _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)

    @unit_of_work
    def purchase_then_fail():
        booking.purchase(client_user, workshop.service, session=workshop)
        assert _count(WebhookDelivery) == 1  # written, inside the unit
        raise RuntimeError("payment page crashed")

    with pytest.raises(RuntimeError):
        purchase_then_fail()
    assert _count(WebhookEvent) == 0 and _count(WebhookDelivery) == 0
    assert delivery.deliver_due().handled == 0
    assert receiver.requests == []


# --- Delivery -------------------------------------------------------------------------------


def test_signature_verifies_on_the_receiving_side_and_a_tampered_body_does_not(
    practitioner, client_user, receiver
):
    endpoint = _endpoint(practitioner, receiver.url)
    secret = endpoint.secret
    assert secret.startswith("whsec_")
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)

    result = delivery.deliver_due()

    assert result.delivered == 1
    [request] = receiver.requests
    event = _events()[0]
    assert request.headers["webhook-id"] == event.message_id
    payload = Webhook(secret).verify(request.body, request.headers)
    assert payload["type"] == "booking.created"
    assert payload["data"]["session_id"] == workshop.id
    tampered = request.body.replace(b'"status":"pending_payment"', b'"status":"confirmed"')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request.body, request.headers)
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 1
    [attempt] = row.attempt_log
    assert attempt.status_code == 204 and attempt.duration_ms >= 0


def test_an_endpoint_answering_500_is_retried_with_backoff_then_disabled(
    practitioner, client_user, receiver
):
    receiver.status = 500
    endpoint = _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    start = utcnow()
    booking.purchase(client_user, workshop.service, session=workshop, now=start)
    row = db.session.scalar(select(WebhookDelivery))

    now, waits = start, []
    for _ in range(30):
        result = delivery.deliver_due(now=now)
        db.session.refresh(row)
        if row.status != DeliveryStatus.PENDING:
            break
        assert result.retrying == 1
        waits.append(row.next_attempt_at - now)
        # Not due a moment before its time: nothing is sent.
        assert delivery.deliver_due(now=row.next_attempt_at - timedelta(seconds=1)).handled == 0
        now = row.next_attempt_at

    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert row.status == DeliveryStatus.FAILED
    assert now == start + timedelta(hours=24)
    assert result.disabled == 1
    assert len(receiver.requests) == row.attempts == _count(WebhookAttempt)
    assert len(set(receiver.ids())) == 1  # every retry under the same webhook-id
    db.session.refresh(endpoint)
    assert endpoint.is_disabled and "24 hours" in endpoint.disabled_reason
    # Its owner is told by email, once, with a link to the endpoint's page.
    (notice,) = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.WEBHOOK_ENDPOINT_DISABLED)
    )
    assert notice.user_id == practitioner.id
    mail = render(notice, load_subjects(notice))
    assert "Webhook endpoint disabled" in mail.subject
    assert receiver.url in mail.text and "24 hours" in mail.text
    assert f"/settings/webhooks/{endpoint.id}" in mail.text
    # A disabled endpoint is sent nothing new...
    booking.purchase(make_user(), workshop.service, session=workshop, now=now)
    assert _count(WebhookDelivery) == 1
    # ...until its owner enables it again.
    receiver.status = 200
    enable_endpoint(endpoint)
    booking.purchase(make_user(), workshop.service, session=workshop, now=now)
    assert delivery.deliver_due(now=now).delivered == 1


def test_a_success_in_between_keeps_the_endpoint_enabled(practitioner, client_user, receiver):
    receiver.status = 500
    endpoint = _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner, seats=5)
    start = utcnow()
    booking.purchase(client_user, workshop.service, session=workshop, now=start)
    delivery.deliver_due(now=start)
    db.session.refresh(endpoint)
    assert endpoint.failing_since == start
    receiver.status = 200
    delivery.deliver_due(now=start + timedelta(hours=1))
    db.session.refresh(endpoint)
    assert endpoint.failing_since is None and not endpoint.is_disabled


def test_a_private_address_is_refused_without_the_setting(app, practitioner, client_user, receiver):
    endpoint = _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False

    result = delivery.deliver_due()

    assert result.retrying == 1 and receiver.requests == []
    row = db.session.scalar(select(WebhookDelivery))
    assert "refused" in row.last_error and "127.0.0.1" in row.last_error
    for address in (
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fd00::1",
        "100.64.0.1",
        "0.0.0.0",
    ):
        assert refusal(address), address
    assert refusal("93.184.216.34") is None
    # Registration refuses what it can see without DNS.
    for url in (receiver.url, "https://localhost/x", "https://[::1]/x", "https://10.0.0.1/"):
        with pytest.raises(UnsafeURL):
            check_url(url)
    assert endpoint.id


def test_only_https_without_the_setting(app):
    app.config["PORTAL_WEBHOOKS_ALLOW_HTTP"] = False
    with pytest.raises(UnsafeURL, match="https"):
        check_url("http://hooks.example.com/in")
    for url in ("https://user:pw@hooks.example.com/", "ftp://x/", "https:///nohost"):
        with pytest.raises(UnsafeURL):
            check_url(url)
    assert check_url(" https://hooks.example.com/in?x=1 ") == "https://hooks.example.com/in?x=1"


def test_a_redirect_is_not_followed(practitioner, receiver):
    receiver.status, receiver.location = 302, "http://127.0.0.1:1/elsewhere"
    endpoint = _endpoint(practitioner, receiver.url)
    sent = send_test(endpoint)
    assert len(receiver.requests) == 1
    assert sent.status == DeliveryStatus.PENDING and sent.last_status_code == 302
    assert "not followed" in sent.last_error


def test_test_ping_is_sent_at_once_and_logged(practitioner, receiver):
    endpoint = _endpoint(practitioner, receiver.url, [WebhookEventType.BOOKING_CREATED])
    sent = send_test(endpoint)
    assert sent.status == DeliveryStatus.DELIVERED
    payload = Webhook(endpoint.secret).verify(
        receiver.requests[0].body, receiver.requests[0].headers
    )
    assert payload["type"] == "webhook.ping"


def test_deleting_an_endpoint_removes_its_queue(practitioner, client_user, receiver):
    endpoint = _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    delete_endpoint(endpoint)
    assert _count(WebhookDelivery) == 0
    assert delivery.deliver_due().handled == 0


def test_a_lost_lease_records_nothing_and_the_row_goes_again_with_its_id(
    practitioner, client_user, receiver
):
    """A worker that died after sending: its lease runs out, another sends the row again
    under the same webhook-id (at least once), and the dead one's late answer is ignored."""
    _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    now = utcnow()
    lease, [row_id] = delivery.claim(10, now)
    row = delivery.Outgoing.of(db.session.get(WebhookDelivery, row_id))
    late = delivery.send(row)  # sent, then "crashed" before recording
    later = lease + timedelta(seconds=1)
    assert delivery.deliver_due(now=later).delivered == 1
    delivery._record(delivery.DeliveryResult(), row, lease, late, now)
    assert receiver.ids()[0] == receiver.ids()[1]
    assert _count(WebhookAttempt) == 1


def test_two_concurrent_delivery_runs_never_send_one_row_twice(app, practitioner, receiver):
    _endpoint(practitioner, receiver.url, [WebhookEventType.BOOKING_CREATED])
    service = make_service(practitioner, ServiceType.WORKSHOP, price_cents=0, max_participants=80)
    session = booking.create_session(service, start_time=future())
    for _ in range(60):
        booking.book_workshop_seat(make_user(), session)
    app.config["PORTAL_WEBHOOKS_BATCH"] = 5
    db.session.commit()
    barrier = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            barrier.wait(timeout=30)
            results.append(delivery.deliver_due())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    ids = receiver.ids()
    assert len(ids) == 60 == len(set(ids))
    assert sum(r.delivered for r in results) == 60
    assert all(r.delivered > 0 for r in results), [r.delivered for r in results]
    assert (
        db.session.scalar(
            select(func.count()).where(WebhookDelivery.status == DeliveryStatus.DELIVERED)
        )
        == 60
    )


def test_a_commit_wakes_the_worker_which_delivers(app, practitioner, client_user, receiver):
    """The worker's wake-up after the commit (a run scheduled a moment later), then its
    task run as the consumer runs it."""
    huey = app.extensions["portal_worker"].huey
    huey.flush()
    _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    wake = [task for task in huey.pending() if task.name == "deliver_webhooks"]
    assert len(wake) == 1
    # Run when it falls due, as the consumer runs it.
    huey.execute(wake[0], timestamp=wake[0].eta)
    assert receiver.ids() == [_events()[0].message_id]


def test_the_deliver_webhooks_command(app, practitioner, client_user, receiver):
    _endpoint(practitioner, receiver.url)
    workshop = make_workshop(practitioner)
    booking.purchase(client_user, workshop.service, session=workshop)
    result = app.test_cli_runner().invoke(args=["deliver-webhooks"])
    assert "delivered 1 webhook(s); 0 to retry" in result.output
    assert len(receiver.requests) == 1
