"""Slow clients against the production recipe's gunicorn: connections that trickle their
request in a byte at a time must not starve the health probes (nor anyone else)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from tests.fixtures.gunicorn import gunicorn_instances

# One process (in-memory rate limits need no Redis then) and more slow clients than it
# has: sync workers, one request per process, would keep every probe waiting behind them.
WORKERS = 1
SLOW_CLIENTS = 4
TRICKLE_SECONDS = 12
PROBES = 12


def trickle(url: str, stop: threading.Event, opened: list) -> None:
    """A request's first line, then one header byte every half second until stopped."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: portal\r\n")
        opened.append(sock)
        while not stop.wait(0.5):
            sock.sendall(b"X")


@pytest.fixture
def portal(database_url):
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "slow-clients"}
    with gunicorn_instances(env, workers=WORKERS) as [url]:
        yield url


def test_health_probes_answer_while_slow_clients_trickle(portal):
    stop, opened = threading.Event(), []
    slow = [
        threading.Thread(target=trickle, args=(portal, stop, opened), daemon=True)
        for _ in range(SLOW_CLIENTS)
    ]
    for thread in slow:
        thread.start()
    try:
        deadline = time.monotonic() + 5
        while len(opened) < SLOW_CLIENTS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(opened) == SLOW_CLIENTS
        time.sleep(1)  # every slow client is now inside a worker, reading
        answered, started = [], time.monotonic()
        for _ in range(PROBES):
            try:
                answered.append(requests.get(f"{portal}/healthz", timeout=2).status_code)
            except requests.Timeout:
                answered.append("timeout")
            time.sleep(max(0.0, (TRICKLE_SECONDS / PROBES) - 0.1))
        assert time.monotonic() - started < TRICKLE_SECONDS + 30
        assert answered == [200] * PROBES
        assert requests.get(f"{portal}/readyz", timeout=2).status_code == 200
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=5)
