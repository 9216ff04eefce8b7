"""Crash safety: a gunicorn worker killed with SIGKILL in the middle of a load of course
enrollments leaves no half-written order behind. Each enrollment writes an order and
one booking per course session in one transaction; the database must hold all of
them or none, and the seat counters must still match the bookings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import api_tokens
from portal.extensions import db
from portal.models import SEAT_HOLDING, Booking, Order, Role, User
from tests.fixtures.factories import make_course, seat_invariant_violations
from tests.fixtures.http_load import Call, outcome, send

pytestmark = pytest.mark.process

pytest.importorskip("gunicorn", reason="gunicorn is not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
SESSIONS = 12
ENROLLMENTS = 90
SEATS = 60  # fewer than the enrollments: some are refused whole, which must write nothing
CLIENT_THREADS = 16
KILLS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def workers_of(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


@pytest.fixture
def gunicorn_portal(database_url, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "crash-test-secret",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "error",
        "portal:create_app()",
    ]
    # Not from the repository root: gunicorn would load the production gunicorn.conf.py
    # there, whose checks want a shared rate-limit store this test has no use for.
    master = subprocess.Popen(command, cwd=tmp_path, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while len(workers_of(master)) < WORKERS or not _answers(port):
        if master.poll() is not None or time.monotonic() > deadline:
            master.kill()
            pytest.fail("gunicorn did not start")
        time.sleep(0.2)
    yield master, url
    master.send_signal(signal.SIGTERM)
    try:
        master.wait(timeout=30)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait()


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def fast_client(n: int) -> User:
    # No password: hashing one per client would dominate the test's time.
    user = User(
        email=f"crash{n}@example.com",
        name=f"Crash {n}",
        password_hash="!",
        role=Role.CLIENT,
        # Made by the test, as an operator would: a confirmed address may hold API tokens.
        email_verified_at=datetime.now(UTC),
    )
    db.session.add(user)
    return user


def orders_so_far(course_id: int) -> int:
    db.session.commit()
    return db.session.scalar(select(func.count(Order.id)).where(Order.service_id == course_id))


def test_killing_a_worker_mid_enrollment_leaves_every_order_whole(gunicorn_portal, practitioner):
    master, url = gunicorn_portal
    course = make_course(practitioner, sessions=SESSIONS, seats=SEATS)
    clients = [fast_client(n) for n in range(ENROLLMENTS)]
    db.session.commit()
    calls = [
        Call(
            "POST",
            "/api/v1/orders",
            api_tokens.issue_token(c, "crash")[1],
            {"service_id": course.id},
        )
        for c in clients
    ]
    course_id = course.id
    db.session.commit()

    pending = iter(calls)
    lock = threading.Lock()
    seen: Counter = Counter()

    def enroll():
        while True:
            with lock:
                call = next(pending, None)
            if call is None:
                return
            try:
                result = outcome(*send(url, call, timeout=60))
            except Exception as exc:  # noqa: BLE001 - the killed worker's clients lose the line
                result = f"dropped {type(exc).__name__}"
            with lock:
                seen[result] += 1

    threads = [threading.Thread(target=enroll) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    killed = []
    for round_ in range(KILLS):
        # Strike while the workers are busy: after some enrollments have landed.
        target = (round_ + 1) * ENROLLMENTS // (KILLS + 2)
        deadline = time.monotonic() + 60
        while orders_so_far(course_id) < min(target, SEATS // 2) and time.monotonic() < deadline:
            time.sleep(0.02)
        victim = workers_of(master)[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        time.sleep(0.3)
    for thread in threads:
        thread.join(timeout=300)

    dropped = sum(n for key, n in seen.items() if key.startswith("dropped"))
    assert dropped >= 1, f"no request was cut off by the kills: {seen}"
    assert set(seen) <= {"201", "409 session_full"} | {k for k in seen if k.startswith("dropped")}
    deadline = time.monotonic() + 60
    while len(workers_of(master)) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert master.poll() is None and len(workers_of(master)) == WORKERS
    assert not set(killed) & set(workers_of(master)), "gunicorn did not replace the killed workers"

    db.session.commit()
    bookings_per_order = db.session.execute(
        select(Order.id, func.count(Booking.id))
        .outerjoin(Booking, Booking.order_id == Order.id)
        .where(Order.service_id == course_id)
        .group_by(Order.id)
    ).all()
    assert bookings_per_order, "no enrollment got through"
    assert {n for _order, n in bookings_per_order} == {SESSIONS}
    # Every answered 201 is in the database; a cut-off request may or may not have committed.
    assert seen["201"] <= len(bookings_per_order) <= seen["201"] + dropped
    assert len(bookings_per_order) <= SEATS
    seat_holders = select(func.count(Booking.id)).where(Booking.status.in_(SEAT_HOLDING))
    assert db.session.scalar(seat_holders) == len(bookings_per_order) * SESSIONS
    assert seat_invariant_violations() == []
    # The restarted workers serve as before.
    spare = fast_client(ENROLLMENTS)
    db.session.commit()
    token = api_tokens.issue_token(spare, "after")[1]
    status, body = send(url, Call("GET", "/api/v1/services/", token))
    assert status == 200 and any(s["id"] == course_id for s in body["services"])
