"""The background worker: a Huey queue and the periodic jobs that replace cron.

`flask --app portal worker` runs Huey's consumer. The queue is an SQLite file in the
instance folder by default (nothing else to run); with PORTAL_WORKER_QUEUE_URL (or
REDIS_URL) set to Redis or PostgreSQL, workers on several machines share one queue.

Delivery is woken after any commit that wrote to the outbox, and a periodic run every
minute catches whatever a wake-up missed (the process died between its commit and the
wake-up, a retry fell due), so a committed message always goes. Wake-ups are coalesced:
a commit schedules one run a moment later, and the commits of that moment ride on it, so
a busy process writes to the queue a few times a second, not once per request. LiveKit
room events stored by the webhook are applied the same way.

Outbound webhooks are sent by threads of their own (portal/webhooks_out/dispatch.py):
their Huey task and backstop only wake those, so an endpoint that never answers holds
none of the queue's threads, and email and the periodic jobs go on. Practitioners' own
calendars are read the same way (portal/external_calendars/refresher.py), and their
sessions written into them (portal/external_calendars/writer.py).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, has_app_context, request
from huey import Huey, MemoryHuey, PostgresHuey, RedisHuey, crontab
from huey.storage import SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.serving import run_simple

from . import booking, privacy, records, reminders
from .accounts.sign_ins import prune_expired_sign_ins
from .booking import (
    PAYMENT_EVENTS_RECEIVED,
    ROOM_EVENTS_RECEIVED,
    WEBHOOKS_WRITTEN,
    prune_expired_keys,
)
from .database import utcnow
from .external_calendars.refresher import Refresher
from .external_calendars.writer import Writer
from .models import Channel
from .notifications import delivery
from .notifications.mailer import deliver_email
from .notifications.outbox import WRITTEN
from .webhooks_out import delivery as webhook_delivery
from .webhooks_out.dispatch import Dispatcher

log = logging.getLogger(__name__)

EXTENSION = "portal_worker"

# Room events come in bursts (a room opens, everyone joins): one run of the applier,
# this long after the first event of a burst, applies every event stored until then.
ROOM_EVENTS_DELAY = 0.5
# Outbox and outbound-webhook deliveries: one run this long after the first commit that
# wrote one delivers every row committed until then. Short, as a person waits on a mail.
DELIVERY_DELAY = 0.2

delivery.register_deliverer(Channel.EMAIL, deliver_email)


class _QueueFile(SqliteStorage):
    """Huey's SQLite queue with synchronous=NORMAL instead of SQLite's FULL (huey offers
    only FULL or OFF). In WAL mode NORMAL stays consistent through a power cut and skips
    the fsync at each commit, which cost a web request 5 ms per wake-up (#19). A power
    cut may lose the last wake-ups; each is a hint the periodic run makes good anyway."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


def build_huey(url: str) -> Huey:
    """The queue named by a URL: sqlite:///path, redis://..., postgresql://..., memory://.
    Nothing reads task results, so none are stored."""
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme == "sqlite":
        return Huey(
            "portal",
            results=False,
            storage_class=_QueueFile,
            filename=url.removeprefix("sqlite:///"),
        )
    if scheme in ("redis", "rediss"):
        return RedisHuey("portal", results=False, url=url)
    if scheme in ("postgresql", "postgres"):
        return PostgresHuey("portal", results=False, dsn="postgresql://" + url.split("://", 1)[1])
    if scheme == "memory":
        return MemoryHuey("portal", results=False)
    raise ValueError(f"PORTAL_WORKER_QUEUE_URL: unknown queue {url!r}")


# Jobs run by every worker once a minute (or as their crontab says). Each is idempotent
# and safe to run concurrently, so several workers running the same one do no harm.
PeriodicJob = tuple[str, crontab, Callable[[], object]]


def _deliver() -> delivery.DeliveryResult:
    return delivery.deliver_due()


def _deliver_webhooks() -> webhook_delivery.DeliveryResult | None:
    """Wake this process's webhook senders; a process without them (the test suite's
    in-process queue) sends the due webhooks itself."""
    dispatcher = current_app.extensions[EXTENSION].dispatcher
    if dispatcher is not None and dispatcher.running:
        dispatcher.wake()
        return None
    return webhook_delivery.deliver_due()


def _prune_expired() -> tuple[int, int]:
    """Sign-ins past their lifetime and purchase keys past their 24 hours."""
    return prune_expired_sign_ins(), prune_expired_keys()


PERIODIC_JOBS: list[PeriodicJob] = [
    ("deliver_outbox_backstop", crontab(minute="*"), _deliver),
    # Outbound webhooks: what a wake-up missed, and retries as they fall due.
    ("deliver_webhooks_backstop", crontab(minute="*"), _deliver_webhooks),
    # An expired hold frees its seat and offers it to the waitlist within the minute.
    ("release_expired_holds", crontab(minute="*"), booking.release_expired_holds),
    ("queue_reminders", crontab(minute="*"), reminders.queue_due_reminders),
    ("queue_expiring_credits", crontab(minute="7"), reminders.queue_expiring_credits),
    ("queue_daily_agendas", crontab(minute="*/15"), reminders.queue_daily_agendas),
    ("queue_intake_requests", crontab(minute="*"), records.queue_intake_requests),
    ("queue_intake_reminders", crontab(minute="*/5"), records.queue_intake_reminders),
    ("mark_attendance", crontab(minute="*/5"), booking.mark_attendance),
    ("prune_room_events", crontab(minute="17", hour="3"), booking.prune_processed_room_events),
    # Room events a wake-up missed (the process died after storing them).
    ("apply_room_events_backstop", crontab(minute="*"), booking.apply_room_events),
    # Payment events a wake-up missed, or whose fetch from the provider failed.
    ("apply_payment_events_backstop", crontab(minute="*"), booking.apply_payment_events),
    ("prune_expired", crontab(minute="41"), _prune_expired),
    # Data rights: exports asked for are built within the minute; links that ran out
    # unused lose their files; accounts past their deletion's grace period are erased.
    ("prepare_exports", crontab(minute="*"), privacy.prepare_exports),
    ("expire_exports", crontab(minute="23"), privacy.expire_exports),
    ("erase_due_accounts", crontab(minute="*/5"), privacy.erase_due_accounts),
    # Old notes and client records, past PORTAL_RETENTION_NOTES_YEARS (off by default).
    ("apply_retention", crontab(minute="53", hour="2"), privacy.apply_retention),
]


class Worker:
    """The app's queue, built on first use so that a web process that never writes to
    the outbox never opens it."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None
        self._lock = threading.Lock()
        self.deliver = None
        self.deliver_webhooks = None
        self.apply_room_events = None
        self.apply_payment_events = None
        # The webhook senders and the calendar readers, in the process that runs
        # `flask worker` only.
        self.dispatcher: Dispatcher | None = None
        self.refresher: Refresher | None = None
        self.writer: Writer | None = None
        # Until when (time.monotonic) a run of each task is already scheduled.
        self._due: dict[str, float] = {}

    @property
    def huey(self) -> Huey:
        with self._lock:
            if self._huey is None:
                self._huey = build_huey(self.app.config["PORTAL_WORKER_QUEUE_URL"])
                self._register(self._huey)
            return self._huey

    def _in_app(self, job: Callable[[], object]) -> Callable[[], object]:
        app = self.app

        def run():
            with app.app_context():
                return job()

        run.__name__ = getattr(job, "__name__", "job")
        return run

    def _register(self, huey: Huey) -> None:
        deliver_now = self._in_app(_deliver)

        @huey.task(name="deliver_outbox")
        def deliver_outbox():
            result = deliver_now()
            if result.next_due_at is not None:
                # Come back when a retry falls due or a dead worker's lease ends, rather
                # than at the next minute's periodic run (which covers anything later).
                delay = (result.next_due_at - utcnow()).total_seconds()
                if 0 < delay < 60:
                    deliver_outbox.schedule(delay=delay + 0.1)
            return result.sent

        self.deliver = deliver_outbox
        self.deliver_webhooks = huey.task(name="deliver_webhooks")(self._in_app(_deliver_webhooks))
        self.apply_room_events = huey.task(name="apply_room_events")(
            self._in_app(booking.apply_room_events)
        )
        self.apply_payment_events = huey.task(name="apply_payment_events")(
            self._in_app(booking.apply_payment_events)
        )
        for name, schedule, job in PERIODIC_JOBS:
            huey.periodic_task(schedule, name=name)(self._in_app(job))

    def kick(self, webhooks: bool = False) -> None:
        """Ask a worker to deliver now (the outbox, or with `webhooks` the outbound
        webhooks). Losing this only delays delivery to the next minute, so a queue that
        is down must not fail the request that committed."""
        try:
            _ = self.huey
            (self.deliver_webhooks if webhooks else self.deliver)()
        except Exception:  # noqa: BLE001 - the periodic run delivers it anyway
            log.warning("could not wake the worker; the periodic run will deliver", exc_info=True)

    def deliver_soon(self, webhooks: bool = False) -> None:
        """`kick`, coalesced: called after a commit that wrote to the outbox (or queued
        webhook deliveries)."""
        self._soon("deliver_webhooks" if webhooks else "deliver", DELIVERY_DELAY)

    def apply_payment_events_soon(self) -> None:
        """Ask a worker to apply the stored payment events shortly (coalesced, as the
        outbox's wake-ups are)."""
        self._soon("apply_payment_events", DELIVERY_DELAY)

    def apply_room_events_soon(self) -> None:
        """Ask a worker to apply the stored room events shortly (readers apply them
        before reading anyway)."""
        self._soon("apply_room_events", ROOM_EVENTS_DELAY)

    def _soon(self, task: str, delay: float) -> None:
        """Schedule a run of `task` in `delay` seconds, unless one is already scheduled
        for later than now: that run sees this commit too, so a burst costs one run.
        Losing this only delays the work to the next minute's periodic run."""
        now = time.monotonic()
        with self._lock:
            if now < self._due.get(task, 0.0):
                return
            self._due[task] = now + delay
        try:
            _ = self.huey
            getattr(self, task).schedule(delay=delay)
        except Exception:  # noqa: BLE001 - the periodic run does it anyway
            log.warning("could not wake the worker; the periodic run will do it", exc_info=True)


@event.listens_for(Session, "after_commit")
def _wake_worker(session) -> None:
    wrote_outbox = session.info.pop(WRITTEN, False)
    wrote_webhooks = session.info.pop(WEBHOOKS_WRITTEN, False)
    stored_room_events = session.info.pop(ROOM_EVENTS_RECEIVED, False)
    stored_payment_events = session.info.pop(PAYMENT_EVENTS_RECEIVED, False)
    worker = current_app.extensions.get(EXTENSION) if has_app_context() else None
    if worker is None:
        return
    if wrote_outbox:
        worker.deliver_soon()
    if wrote_webhooks:
        worker.deliver_soon(webhooks=True)
    if stored_room_events:
        worker.apply_room_events_soon()
    if stored_payment_events:
        worker.apply_payment_events_soon()


@event.listens_for(Session, "after_rollback")
def _forget_outbox_write(session) -> None:
    session.info.pop(WRITTEN, None)
    session.info.pop(WEBHOOKS_WRITTEN, None)
    session.info.pop(ROOM_EVENTS_RECEIVED, None)
    session.info.pop(PAYMENT_EVENTS_RECEIVED, None)


def register_worker(app: Flask) -> None:
    app.extensions[EXTENSION] = worker = Worker(app)

    @app.cli.command("worker")
    @click.option("--threads", type=int, default=None, help="Defaults to PORTAL_WORKER_THREADS.")
    def worker_command(threads):
        """Run the background worker: delivers messages and runs the periodic jobs."""
        consumer = worker.huey.create_consumer(
            workers=threads or app.config["PORTAL_WORKER_THREADS"],
            worker_type="thread",
            periodic=True,
            # An SQLite queue is polled: at most a second between a wake-up and its run.
            max_delay=1.0,
            check_worker_health=True,
        )
        worker.dispatcher = Dispatcher(app)
        worker.dispatcher.start()
        worker.refresher = Refresher(app)
        worker.refresher.start()
        worker.writer = Writer(app)
        worker.writer.start()
        # Whatever a previous worker left behind goes out first.
        worker.deliver()
        try:
            consumer.run()
        finally:
            worker.writer.stop()
            worker.refresher.stop()
            worker.dispatcher.stop()

    @app.cli.command("dev")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", type=int, default=5000)
    def dev_command(host, port):
        """Serve the portal and run the worker beside it (for trying the portal out;
        production runs the web server and `flask --app portal worker` separately)."""
        base = serve_links_from(app, host, port)
        # The worker renders the messages: it must build their links on the same address.
        child = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "portal", "worker"],
            env={**os.environ, "PORTAL_BASE_URL": base},
        )
        # Stopped with SIGTERM (not only Ctrl-C), it still stops its worker on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            run_simple(host, port, app, threaded=True)
        finally:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def dev_base_url(host: str, port: int) -> str:
    """The address a development server on host:port answers at, as a link gives it."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"  # listening everywhere: this machine answers, by its loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve_links_from(app: Flask, host: str, port: int) -> str:
    """PORTAL_BASE_URL for a development server: the address it serves unless the
    environment names one, with a warning (at start and on the first request that came
    another way) when messages would link somewhere else than where it is reached."""
    served = dev_base_url(host, port)
    base = os.environ.get("PORTAL_BASE_URL") or served
    app.config["PORTAL_BASE_URL"] = base
    expected = urlsplit(base).netloc
    if expected != urlsplit(served).netloc:
        log.warning(
            "PORTAL_BASE_URL is %s but this server is at %s: links in messages go to %s",
            base,
            served,
            base,
        )
    warned = threading.Event()

    @app.before_request
    def _warn_on_another_host() -> None:
        if warned.is_set() or request.host == expected:
            return
        warned.set()
        log.warning(
            "this request came to %s but PORTAL_BASE_URL is %s: links in messages go "
            "there; set PORTAL_BASE_URL to the address people use",
            request.host,
            base,
        )

    return base
