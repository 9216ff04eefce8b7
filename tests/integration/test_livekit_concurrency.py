"""Concurrent deliveries against a real server: LiveKit retries while the first is running."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import ProcessedRoomEvent, RoomParticipant
from tests.fixtures.factories import future, make_workshop
from tests.fixtures.livekit import (
    CONTENT_TYPE,
    LIVEKIT_CONFIG,
    LiveKitWebhooks,
    confirmed_seat,
    serialize,
    sign,
)

START = future(days=2, hour=15)


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


def deliver(url: str, body: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={"Content-Type": CONTENT_TYPE, "Authorization": sign(body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_the_same_events_delivered_concurrently_apply_once(
    app, live_server, practitioner, client_user
):
    session = make_workshop(practitioner, start=START)
    confirmed_seat(client_user, session)
    livekit = LiveKitWebhooks(client=None, room_started_at=START)
    joined_at, left_at = START + timedelta(minutes=1), START + timedelta(minutes=31)
    joined = serialize(livekit.joined(session, "PA_1", client_user, at=joined_at))
    left = serialize(livekit.left(session, "PA_1", client_user, at=left_at, joined_at=joined_at))
    bodies = [joined, left] * 6
    url = f"{live_server.url}/webhooks/livekit"
    gate = threading.Barrier(len(bodies))
    results = []

    def worker(body):
        gate.wait()
        results.append(deliver(url, body))

    threads = [threading.Thread(target=worker, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in results) == [200] * len(bodies)
    outcomes = sorted(answer["status"] for _, answer in results)
    assert outcomes == ["accepted"] * 2 + ["duplicate"] * (len(bodies) - 2)
    db.session.rollback()  # end this test's read snapshot: the server wrote after it began
    booking.apply_room_events()  # what the worker does with them
    assert db.session.scalar(select(func.count()).select_from(ProcessedRoomEvent)) == 2
    (row,) = db.session.scalars(select(RoomParticipant)).all()
    assert (row.joined_at, row.left_at, row.duration_seconds) == (joined_at, left_at, 1800)
