"""Benchmark: LiveKit webhook ingest, in-process, one worker.

Builds a fresh migrated database (SQLite in a temporary folder, and PostgreSQL with
--postgres URL or TEST_DATABASE_URL: a database of its own, dropped after), a workshop
per room with its booked clients, then signs EVENTS LiveKit events ahead of time (joins
and leaves of the clients, room started/finished) and POSTs them one after another through the Flask
test client, as one gunicorn sync worker would serve them. Reports events/s taken in
(the webhook answers once the event is stored), then the rate at which the worker's
applier applies them (booking.apply_room_events, one call for the whole backlog).
Each figure comes with its rate per CPU-second of this process, which the load of
a shared machine disturbs less than the wall clock.

    .venv/bin/python bench/webhooks.py                  # SQLite (+ TEST_DATABASE_URL's server)
    BENCH_PROFILE=1 .venv/bin/python bench/webhooks.py  # plus the top of a cProfile of the intake
                                                        # (BENCH_SORT=tottime to sort by own time)
    BENCH_EVENTS=2000 BENCH_ROOMS=20 .venv/bin/python bench/webhooks.py --no-sqlite \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

Run by hand; nothing in the suite asserts a time.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import backends  # noqa: E402
from bench.backends import Clock  # noqa: E402
from portal import booking  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Role  # noqa: E402
from tests.fixtures.app import make_app  # noqa: E402
from tests.fixtures.database import _migrate  # noqa: E402
from tests.fixtures.factories import future, make_user, make_workshop  # noqa: E402
from tests.fixtures.livekit import (  # noqa: E402
    LIVEKIT_CONFIG,
    LiveKitWebhooks,
    confirmed_seat,
    serialize,
    sign,
)


def events_for(livekit, sessions, people, count):
    """count events spread over the rooms: per room, start, joins and leaves, finish."""
    bodies = []
    per_room = count // len(sessions)
    for session in sessions:
        start = session.start_time
        room = [livekit.room_started(session, at=start - timedelta(minutes=2))]
        n = 0
        while len(room) < per_room - 1:
            who = people[n % len(people)]
            sid = f"PA_{session.id}_{n}"
            room.append(livekit.joined(session, sid, who, at=start + timedelta(seconds=n)))
            room.append(
                livekit.left(
                    session,
                    sid,
                    who,
                    at=start + timedelta(seconds=n + 30),
                    joined_at=start + timedelta(seconds=n),
                )
            )
            n += 1
        room.append(livekit.room_finished(session, at=start + timedelta(minutes=90)))
        bodies += [serialize(event) for event in room[:per_room]]
    return [(body, sign(body)) for body in bodies]


EVENTS = int(os.environ.get("BENCH_EVENTS", 1000))
ROOMS = int(os.environ.get("BENCH_ROOMS", 10))
PROFILE = bool(os.environ.get("BENCH_PROFILE"))


def run(url: str, backend: str, count: int = EVENTS, rooms: int = ROOMS) -> dict:
    _migrate(url)
    app = make_app(url, **LIVEKIT_CONFIG, SERVER_NAME=None)
    with app.app_context():
        practitioner = make_user(Role.PRACTITIONER)
        people = [make_user() for _ in range(20)]
        sessions = []
        for i in range(rooms):
            session = make_workshop(practitioner, seats=25, start=future(days=3 + i, hour=10))
            for person in people:
                confirmed_seat(person, session)
            sessions.append(session)
        client = app.test_client()
        livekit = LiveKitWebhooks(client)
        signed = events_for(livekit, sessions, people, count)
        db.session.commit()
        # Start as a request does, from an empty session: the requests below share this
        # app context's, and every commit would expire all the objects built above.
        db.session.remove()
        headers = {"Content-Type": "application/webhook+json"}
        profiler = cProfile.Profile() if PROFILE else None
        if profiler:
            profiler.enable()
        with Clock() as ingest:
            for body, authorization in signed:
                response = client.post(
                    "/webhooks/livekit",
                    data=body,
                    headers={**headers, "Authorization": authorization},
                )
                assert response.status_code == 200, response.get_data(as_text=True)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(
                os.environ.get("BENCH_SORT", "cumulative")
            ).print_stats(45)
        with Clock() as applying:
            applied = booking.apply_room_events()
        assert applied == len(signed), (applied, len(signed))
        db.session.remove()
        db.engine.dispose()
    return {
        "backend": backend,
        "events": len(signed),
        "rooms": rooms,
        "taken_in": ingest.rates(len(signed)),
        "applied": applying.rates(applied),
    }


def main() -> None:
    backends.main(run, "webhooks", __doc__)


if __name__ == "__main__":
    main()
