"""The LiveKit webhook stores an event and answers; the worker, or the next reader of
attendance, applies each room's pending events in order (#15 defect 8)."""

from __future__ import annotations

import multiprocessing
import queue
import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal import booking
from portal.blueprints.webhooks.views import room_event
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AttendanceOutcome,
    ProcessedRoomEvent,
    Room,
    RoomParticipant,
    ServiceSession,
    SessionStatus,
)
from portal.worker import EXTENSION
from tests.fixtures.app import make_app
from tests.fixtures.attendance import attended_seconds
from tests.fixtures.concurrency import THREADS
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.livekit import LIVEKIT_CONFIG, confirmed_seat, room_storm
from tests.fixtures.worker import worker_settings

START = future(days=3, hour=10)
CLIENTS = 8


def at(minutes: float):
    return START + timedelta(minutes=minutes)


@pytest.fixture
def app_config(tmp_path):
    return {
        **LIVEKIT_CONFIG,
        # One connection per racing thread.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": THREADS + 5, "max_overflow": 0},
        # Wake-ups go to a queue a worker process can read.
        **worker_settings(tmp_path),
    }


@pytest.fixture
def livekit(livekit):
    livekit.room_started_at = START - timedelta(minutes=2)
    return livekit


@pytest.fixture
def workshop(practitioner):
    return make_workshop(practitioner, seats=25, start=START)


@pytest.fixture
def booked(workshop, client_user):
    confirmed_seat(client_user, workshop)
    return client_user


def count(*criteria, model=ProcessedRoomEvent) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*criteria))


def pending() -> int:
    return count(ProcessedRoomEvent.applied_at.is_(None))


def a_visit(livekit, session, who, sid="PA_1"):
    """A stay of 40 minutes and the room's finish at the session's end (90 minutes), in
    the order LiveKit would send them."""
    return [
        livekit.room_started(session),
        livekit.joined(session, sid, who, at=at(0)),
        livekit.left(session, sid, who, at=at(40), joined_at=at(0)),
        livekit.room_finished(session, at=at(90)),
    ]


def storm(livekit, session, people, *, seed: int):
    """room_storm's events of one session, its times relative to the session's start."""
    livekit.room_started_at = session.start_time - timedelta(minutes=2)
    return room_storm(
        livekit,
        session,
        people,
        lambda minutes: session.start_time + timedelta(minutes=minutes),
        random.Random(seed),
    )


def twin_rooms(livekit, practitioner, *, seed: int):
    """Two workshops with the same clients and the same storm of room events: the first
    one's delivered and applied one at a time, the second one's only made (a list)."""
    people = [make_user() for _ in range(CLIENTS)]
    twins = [
        make_workshop(practitioner, seats=25, start=START + timedelta(hours=h)) for h in (0, 3)
    ]
    for session in twins:
        for who in people:
            confirmed_seat(who, session)
    applied, other = twins
    for event in storm(livekit, applied, people, seed=seed):
        livekit.post(event)
    return applied, other, storm(livekit, other, people, seed=seed)


def records(session_id: int) -> dict:
    """What the events decided for one session, free of its ids."""
    db.session.expire_all()
    session = db.session.get(ServiceSession, session_id)
    room = db.session.scalar(select(Room).where(Room.service_session_id == session_id))
    stays = db.session.scalars(
        select(RoomParticipant).where(RoomParticipant.room_id == room.id)
    ).all()
    outcomes = db.session.scalars(
        select(AttendanceOutcome)
        .join(AttendanceOutcome.booking)
        .where(AttendanceOutcome.booking.property.mapper.class_.service_session_id == session_id)
    ).all()
    start = session.start_time

    def since(moment):
        return None if moment is None else moment - start

    return {
        "status": session.status,
        "actual": (since(session.actual_start_time), since(session.actual_end_time)),
        "room": (since(room.started_at), since(room.finished_at)),
        "stays": sorted(
            (
                p.participant_sid,
                p.identity,
                since(p.joined_at),
                since(p.left_at),
                p.duration_seconds,
            )
            for p in stays
        ),
        "outcomes": sorted((o.booking.user_id, o.outcome, o.total_seconds) for o in outcomes),
    }


def test_the_webhook_stores_the_event_and_applies_nothing(livekit, workshop, booked):
    responses = [livekit.post(e, apply=False) for e in a_visit(livekit, workshop, booked)]

    assert [r.json["status"] for r in responses] == ["accepted"] * 4
    assert pending() == 4
    assert count(model=RoomParticipant) == 0
    db.session.expire_all()
    assert workshop.status == SessionStatus.SCHEDULED


def test_the_attendance_api_applies_pending_events_before_it_answers(
    livekit, api_as, workshop, booked, practitioner
):
    for event in a_visit(livekit, workshop, booked):
        livekit.post(event, apply=False)

    body = api_as(practitioner).get(f"/api/v1/sessions/{workshop.id}/attendance").json

    assert body["status"] == "completed"
    assert body["attended"] == [booked.id]
    assert [p["duration_seconds"] for p in body["participants"]] == [40 * 60]
    assert pending() == 0


def test_the_attendance_page_applies_pending_events_before_it_shows(
    livekit, client, auth, workshop, booked, practitioner
):
    for event in a_visit(livekit, workshop, booked):
        livekit.post(event, apply=False)
    auth.login(practitioner)

    page = client.get(f"/attendance/sessions/{workshop.id}")

    assert page.status_code == 200
    assert pending() == 0
    assert attended_seconds(workshop) == {booked.id: 40 * 60}


def test_marking_attendance_applies_pending_events_first(livekit, workshop, booked):
    for event in a_visit(livekit, workshop, booked):
        livekit.post(event, apply=False)

    booking.mark_attendance(now=at(24 * 60))

    # Completed by its room_finished at the real end, not by the job at end + grace.
    db.session.expire_all()
    assert (workshop.status, workshop.actual_end_time) == (SessionStatus.COMPLETED, at(90))
    assert count(model=AttendanceOutcome) == 1


@pytest.mark.process
def test_a_worker_process_applies_what_the_webhook_stored(
    livekit, workshop, booked, worker_process
):
    """Nobody reads attendance: the worker, woken by the webhook's commits, applies."""
    worker_process.start()
    for event in a_visit(livekit, workshop, booked):
        livekit.post(event, apply=False)

    deadline = time.monotonic() + 60
    while pending():
        assert time.monotonic() < deadline, f"still pending:\n{worker_process.log()}"
        time.sleep(0.2)
        db.session.rollback()  # a fresh snapshot of what the worker wrote

    assert attended_seconds(workshop) == {booked.id: 40 * 60}
    db.session.expire_all()
    assert workshop.status == SessionStatus.COMPLETED


def test_a_burst_of_events_wakes_the_worker_once_and_its_run_applies_them_all(
    app, livekit, workshop, booked, monkeypatch
):
    # However slow this machine, the whole burst falls within one wake-up's delay.
    monkeypatch.setattr("portal.worker.ROOM_EVENTS_DELAY", 3600)
    worker = app.extensions[EXTENSION]
    for event in a_visit(livekit, workshop, booked):
        livekit.post(event, apply=False)

    (wake_up,) = [task for task in worker.huey.pending() if task.name == "apply_room_events"]
    worker.huey.execute(wake_up, timestamp=wake_up.eta)  # when it falls due

    db.session.rollback()  # end this test's snapshot: the worker wrote after it began

    assert pending() == 0
    assert attended_seconds(workshop) == {booked.id: 40 * 60}


def test_pending_events_apply_in_batches_like_one_at_a_time(livekit, practitioner, monkeypatch):
    """A room's events stored shuffled and applied in small batches end as the same
    events applied one at a time as they came."""
    one_by_one, batched, stormed = twin_rooms(livekit, practitioner, seed=7)
    random.Random(8).shuffle(stormed)
    monkeypatch.setattr(booking.rooms, "APPLY_BATCH", 3)
    for event in stormed:
        livekit.post(event, apply=False)

    assert booking.apply_room_events() == len(stormed)

    assert records(batched.id) == records(one_by_one.id)


def test_pruning_never_forgets_a_pending_event(livekit, workshop, booked):
    (event, *_) = a_visit(livekit, workshop, booked)
    livekit.post(event, apply=False)
    db.session.execute(
        update(ProcessedRoomEvent).values(processed_at=utcnow() - timedelta(days=400))
    )
    db.session.commit()

    assert booking.prune_processed_room_events() == 0
    assert pending() == 1


def _apply_until_told(app, arriving, totals) -> None:
    """An applier: apply whatever is pending, again and again, until the events stop
    arriving, then once more; puts how many it applied on `totals`."""
    applied = 0
    with app.app_context():
        try:
            while True:
                done = not arriving.is_set()
                applied += booking.apply_room_events()
                if done:
                    break
        finally:
            db.session.remove()
    totals.put(applied)


def _applier_process(database_url: str, arriving, totals) -> None:
    """An applier in a process of its own, as a second worker machine would run it."""
    app = make_app(database_url, **LIVEKIT_CONFIG)
    try:
        _apply_until_told(app, arriving, totals)
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    "appliers", ["threads", pytest.param("processes", marks=pytest.mark.process)]
)
def test_appliers_racing_arriving_events_apply_each_event_once(
    app, database_url, livekit, practitioner, appliers
):
    """Events arrive in several threads while three appliers (threads, or processes)
    run: every event is applied exactly once, and the room ends as the same events
    applied one at a time."""
    serial, raced, events = twin_rooms(livekit, practitioner, seed=11)
    items = [room_event(e) for e in events]
    senders = 4
    failures: list[BaseException] = []
    db.session.commit()

    def send(share):
        with app.app_context():
            try:
                for item in share:
                    booking.receive_room_event(item)
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                db.session.remove()

    if appliers == "threads":
        arriving, totals = threading.Event(), queue.Queue()
        running = [
            threading.Thread(target=_apply_until_told, args=(app, arriving, totals))
            for _ in range(3)
        ]
    else:
        spawn = multiprocessing.get_context("spawn")
        arriving, totals = spawn.Event(), spawn.Queue()
        running = [
            spawn.Process(target=_applier_process, args=(database_url, arriving, totals))
            for _ in range(3)
        ]
    arriving.set()
    for runner in running:
        runner.start()
    sending = [threading.Thread(target=send, args=(items[i::senders],)) for i in range(senders)]
    for thread in sending:
        thread.start()
    for thread in sending:
        thread.join(timeout=300)
    arriving.clear()
    counts = [totals.get(timeout=300) for _ in running]
    for runner in running:
        runner.join(timeout=60)

    assert failures == []
    db.session.rollback()
    assert pending() == 0
    assert sum(counts) == len(events) == count(ProcessedRoomEvent.service_session_id == raced.id)
    assert records(raced.id) == records(serial.id)
