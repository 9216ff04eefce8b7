"""What one attempt may cost and what it must record (#18): a garbage answer is a failed
attempt, retried and never stuck; one deadline covers the lookup, the connection and
the whole answer, and never passes the lease; a deactivated owner's endpoints pause;
addresses that wrap a private IPv4 one are refused. Real receivers on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal import booking
from portal.accounts import deactivate_user, reactivate_user
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from portal.webhooks_out import addresses, delivery
from portal.webhooks_out.addresses import Resolver, UnsafeURL, refusal
from portal.webhooks_out.endpoints import check_url, register_endpoint, send_test
from tests.fixtures.factories import make_user, make_workshop
from tests.fixtures.webhook_receiver import GARBAGE, local_webhooks

app_config = local_webhooks

CREATED = [WebhookEventType.BOOKING_CREATED]


def _rows(endpoint) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id)
        )
    )


def _book(practitioner, count: int = 1, now=None) -> None:
    workshop = make_workshop(practitioner, seats=count + 1)
    for _ in range(count):
        booking.book_workshop_seat(make_user(), workshop, now=now)


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_a_garbage_answer_is_a_failed_attempt_and_the_batch_goes_on(
    practitioner, staff_user, receiver, raw_receivers, garbage
):
    broken = register_endpoint(practitioner, raw_receivers(GARBAGE[garbage]).url, CREATED)
    healthy = register_endpoint(staff_user, receiver.url, CREATED)
    now = utcnow()
    _book(practitioner, 2, now=now)

    result = delivery.deliver_due(now=now)

    # The other endpoint's rows in the same claimed batch are delivered...
    assert [r.status for r in _rows(healthy)] == [DeliveryStatus.DELIVERED] * 2
    assert len(receiver.requests) == 2
    # ...and the broken one's are recorded, backed off, released: not stuck under a lease.
    rows = _rows(broken)
    tried = [r for r in rows if r.attempts == 1]
    assert len(tried) == 1 and tried[0].last_status_code is None and tried[0].last_error
    assert all(r.status == DeliveryStatus.PENDING and r.claimed_until is None for r in rows)
    assert all(r.next_attempt_at > now for r in rows)
    assert result.retrying == 1 and result.put_back == 1
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 3


def test_a_stored_url_http_client_refuses_is_a_failed_attempt(practitioner, receiver):
    """A URL registered before they were normalised (a space in its path)."""
    endpoint = register_endpoint(practitioner, receiver.url, CREATED)
    db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id)
        .values(url=receiver.url + "/a b")
    )
    db.session.commit()
    sent = send_test(endpoint)
    assert sent.status == DeliveryStatus.PENDING and sent.attempts == 1
    assert sent.last_error and len(sent.attempt_log) == 1


def test_urls_are_normalised_at_registration(app):
    assert check_url('http://127.0.0.1:8080/ä"b?x=ü') == "http://127.0.0.1:8080/%C3%A4%22b?x=%C3%BC"
    assert check_url("HTTPS://Hooks.Example.COM:443") == "https://hooks.example.com/"
    assert check_url("https://bücher.example/in") == "https://xn--bcher-kva.example/in"
    assert check_url("https://[2606:4700::1111]:8443/x") == "https://[2606:4700::1111]:8443/x"
    for bad in (
        "https://hooks.example.com/a b",
        "https://exa mple.com/",
        "https://a\nb.example/",
        "https://a..b/",
        "https://x/\x00",
    ):
        with pytest.raises(UnsafeURL):
            check_url(bad)


def test_one_deadline_for_the_whole_attempt_against_a_trickling_answer(
    app, practitioner, raw_receivers
):
    """A byte every 0.2 s: each read is quick, the answer would take 30 s."""
    answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 150 + b"\r\nContent-Length: 0\r\n\r\n"
    slow = raw_receivers(answer, pace=0.2)
    app.config["PORTAL_WEBHOOKS_TIMEOUT_SECONDS"] = 1
    endpoint = register_endpoint(practitioner, slow.url, CREATED)
    sent = send_test(endpoint)
    [attempt] = sent.attempt_log
    assert attempt.status_code is None and "no complete answer within 1 s" in attempt.error
    assert attempt.duration_ms < 5_000  # the whole answer would take 30 s


def test_an_attempt_never_outlives_its_lease(app, practitioner, black_hole):
    app.config["PORTAL_WEBHOOKS_TIMEOUT_SECONDS"] = 60
    register_endpoint(practitioner, black_hole.url, CREATED)
    _book(practitioner)
    _lease, [row_id] = delivery.claim(1, utcnow())
    out = delivery.Outgoing.of(db.session.get(WebhookDelivery, row_id))
    attempt = delivery.send(out, deadline=time.monotonic() + 0.5)
    assert attempt.status_code is None and attempt.duration_ms < 5_000


def test_a_lookup_that_hangs_gives_up_at_the_deadline(app, practitioner, monkeypatch):
    """No real DNS: the resolver's lookup is replaced by one that never answers."""
    app.config["PORTAL_WEBHOOKS_TIMEOUT_SECONDS"] = 1
    hanging = Resolver(lookup=lambda host, port: time.sleep(60) or [], threads=2)
    monkeypatch.setattr(addresses, "resolver", hanging)
    endpoint = register_endpoint(practitioner, "http://hooks.example.invalid/in", CREATED)
    began = time.monotonic()
    # Three attempts with two lookup threads: the third waits for a slot, and gives up too.
    outcomes = [send_test(endpoint) for _ in range(3)]
    assert time.monotonic() - began < 15  # three deadlines of 1 s, not three 60 s lookups
    for sent in outcomes:
        assert sent.last_status_code is None and "no complete answer" in sent.last_error


def test_a_lookup_is_checked_like_a_literal_address(app, practitioner, monkeypatch):
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    resolving = Resolver(lookup=lambda host, port: ["93.184.216.34", "64:ff9b::a9fe:a9fe"])
    monkeypatch.setattr(addresses, "resolver", resolving)
    target = addresses.parse_url("http://hooks.example.invalid/in")
    with pytest.raises(UnsafeURL, match="169.254.169.254"):
        addresses.resolve(target, time.monotonic() + 5)


def test_addresses_wrapping_a_private_ipv4_one_are_refused(app):
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    for address in (
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 from 169.254.169.254
        "::ffff:10.0.0.1",  # IPv4-mapped
        "fec0::1",  # site-local
        "64:ff9b:1::a00:1",  # local-use NAT64
    ):
        assert refusal(address), address
        with pytest.raises(UnsafeURL):
            check_url(f"https://[{address}]/in")
    # Public IPv4 behind the same wrappers, and plain public IPv6, stay allowed.
    for address in ("64:ff9b::5db8:d822", "2002:5db8:d822::1", "2606:4700::1111"):
        assert refusal(address) is None, address


def test_a_deactivated_owners_endpoints_pause(practitioner, staff_user, receiver):
    endpoint = register_endpoint(practitioner, receiver.url, CREATED)
    workshop = make_workshop(practitioner)
    now = utcnow()
    booking.book_workshop_seat(make_user(), workshop, now=now)  # queued before
    deactivate_user(practitioner, by=staff_user)
    booking.book_workshop_seat(make_user(), workshop, now=now)  # after: not queued at all
    assert len(_rows(endpoint)) == 1
    assert delivery.deliver_due(now=now).handled == 0
    assert receiver.requests == []
    assert delivery.next_due(now) is None
    # Reactivated, the endpoint takes up where it left off.
    reactivate_user(practitioner, by=staff_user)
    assert delivery.deliver_due(now=now + timedelta(seconds=1)).delivered == 1
    assert len(receiver.requests) == 1
