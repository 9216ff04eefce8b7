"""flask --app portal <command>: operator commands. They call the domain layer too."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask import Flask
from sqlalchemy import select

from . import booking
from .accounts import create_user
from .booking.errors import InvalidInput
from .booking.transactions import unit_of_work
from .extensions import db
from .models import Role, Service, ServiceComponent, ServiceType, User, WeeklyHours
from .webhooks_out import delivery as webhook_delivery


def register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default="client")
    @click.option("--name", default=None, help="Display name (defaults to the email's name).")
    @click.option("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Lisbon.")
    @click.password_option(help="Prompted for when not given.")
    def create_user_command(email, role, name, timezone, password):
        """Create an account."""
        try:
            user = create_user(email, name or email.split("@")[0], Role(role), password, timezone)
        except InvalidInput as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field) from exc
        click.echo(f"created {user.role.value} {user.email} (id {user.id})")

    @app.cli.command("expire-holds")
    def expire_holds_command():
        """Release the seats of unpaid orders whose hold has lapsed (safe to run from cron)."""
        released = booking.release_expired_holds()
        click.echo(f"released {released} booking(s) whose hold had lapsed")

    @app.cli.command("prune-room-events")
    def prune_room_events_command():
        """Forget LiveKit event ids applied before the retention period (safe to run from cron)."""
        try:
            pruned = booking.prune_processed_room_events()
        except InvalidInput as exc:
            raise click.ClickException(exc.message) from exc
        days = app.config["PORTAL_ROOM_EVENT_RETENTION_DAYS"]
        click.echo(f"removed {pruned} processed room event id(s) older than {days} day(s)")

    @app.cli.command("mark-attendance")
    def mark_attendance_command():
        """Complete sessions left open past their end + grace, record attendance (cron-safe)."""
        result = booking.mark_attendance()
        click.echo(
            f"completed {result.completed} session(s) past their end; "
            f"recorded {result.recorded} attendance outcome(s); "
            f"refreshed {result.refreshed} recently ended session(s)"
        )

    @app.cli.command("deliver-webhooks")
    def deliver_webhooks_command():
        """Send every due outbound webhook once (safe to run from cron, or beside a worker)."""
        result = webhook_delivery.deliver_due()
        click.echo(
            f"delivered {result.delivered} webhook(s); {result.retrying} to retry, "
            f"{result.failed} failed for good, {result.disabled} endpoint(s) disabled"
        )

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Load demo data (idempotent) and print the demo sign-ins."""
        created = seed_demo()
        click.echo("demo data " + ("created" if created else "already present"))
        for email, password, role in DEMO_LOGINS:
            click.echo(f"  {role:<12} {email:<32} password: {password}")


DEMO_LOGINS = [
    ("practitioner@estuary-demo.example.com", "demo-practitioner", "practitioner"),
    ("client@estuary-demo.example.com", "demo-client-one", "client"),
    ("client2@estuary-demo.example.com", "demo-client-two", "client"),
    ("staff@estuary-demo.example.com", "demo-staff-user", "staff"),
]
DEMO_ZONES = {
    "practitioner": "America/New_York",
    "client": "Europe/London",
    "client2": "America/Los_Angeles",
    "staff": "UTC",
}


@unit_of_work
def seed_demo() -> bool:
    """All or nothing: a failed run leaves no half-seeded database behind."""
    if db.session.scalar(select(User).where(User.email == DEMO_LOGINS[0][0])):
        return False
    users = {}
    for email, password, role in DEMO_LOGINS:
        handle = email.split("@")[0]
        name = {"practitioner": "Maya Rivers", "client": "Sam Client", "client2": "Alex Client"}
        users[handle] = create_user(
            email, name.get(handle, "Staff Member"), Role(role), password, DEMO_ZONES[handle]
        )
    maya, sam, alex = users["practitioner"], users["client"], users["client2"]
    zone = ZoneInfo(maya.timezone)
    for weekday in range(5):
        db.session.add_all(
            [
                WeeklyHours(
                    practitioner_id=maya.id, weekday=weekday, start_time=time(9), end_time=time(12)
                ),
                WeeklyHours(
                    practitioner_id=maya.id, weekday=weekday, start_time=time(13), end_time=time(17)
                ),
            ]
        )

    def service(name, kind, price, minutes=60, seats=1, **extra):
        item = Service(
            name=name,
            service_type=kind,
            price_cents=price,
            duration_minutes=minutes,
            max_participants=seats,
            primary_practitioner_id=maya.id,
            **extra,
        )
        db.session.add(item)
        return item

    consult = service("Private consultation", ServiceType.INDIVIDUAL, 9000)
    massage = service("Therapeutic massage", ServiceType.INDIVIDUAL, 11000)
    yoga = service("Private yoga class", ServiceType.INDIVIDUAL, 6000)
    workshop = service("Breathwork workshop", ServiceType.WORKSHOP, 3500, 90, 12)
    course = service("8-Week Mindfulness", ServiceType.COURSE, 20000, 90, 10)
    package = service("Wellness starter package", ServiceType.PACKAGE, 45000, validity_days=180)
    bundle = service("10-class yoga pass", ServiceType.BUNDLE, 50000, validity_days=365)
    db.session.flush()
    package.components = [
        ServiceComponent(included_service_id=consult.id, quantity=1),
        ServiceComponent(included_service_id=massage.id, quantity=3),
        ServiceComponent(included_service_id=yoga.id, quantity=2),
    ]
    bundle.components = [ServiceComponent(included_service_id=yoga.id, quantity=10)]
    db.session.flush()

    today = datetime.now(zone).date()

    def at(day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=zone)

    def next_weekday(start: date, weekday: int) -> date:
        return start + timedelta(days=(weekday - start.weekday()) % 7 or 7)

    upcoming_workshops = [
        booking.create_session(workshop, start_time=at(next_weekday(today, weekday), 18))
        for weekday in (2, 5)
    ]
    first_class = next_weekday(today, 1)
    for week in range(8):
        booking.create_session(
            course, start_time=at(first_class + timedelta(weeks=week), 19), sequence_number=week + 1
        )

    past_workshop = booking.create_session(workshop, start_time=at(today - timedelta(days=7), 18))
    booked_at = at(today - timedelta(days=10), 10)
    for client in (sam, alex):
        order = booking.book_workshop_seat(client, past_workshop, now=booked_at)
        booking.confirm_payment(order, reference="demo", now=booked_at)
    _replay_demo_room(past_workshop, host=maya, attendee=sam)

    order = booking.book_workshop_seat(sam, upcoming_workshops[0])
    booking.confirm_payment(order, reference="demo")
    enrollment = booking.enroll_in_course(alex, course)
    booking.confirm_payment(enrollment, reference="demo")
    credits = booking.buy_credits(sam, bundle)
    booking.confirm_payment(credits, reference="demo")
    booking.buy_credits(alex, package)
    return True


def _replay_demo_room(session, *, host: User, attendee: User) -> None:
    """The past workshop's room as LiveKit would have reported it: the host and one
    client came, the other client never joined (a no-show in the reports)."""
    from .booking.rooms import ParticipantSnapshot, RoomEvent

    start, end = session.start_time, session.end_time
    room = session.livekit_room_name

    def event(kind, at, who=None, sid=""):
        person = (
            ParticipantSnapshot(sid=sid, identity=who.livekit_identity, name=who.name)
            if who
            else None
        )
        return RoomEvent(
            id=f"EV_demo_{kind}_{sid}",
            kind=kind,
            room_name=room,
            occurred_at=at,
            participant=person,
        )

    for item in (
        event("room_started", start - timedelta(minutes=3)),
        event("participant_joined", start - timedelta(minutes=2), host, "PA_demo_host"),
        event("participant_joined", start + timedelta(minutes=4), attendee, "PA_demo_client"),
        event("participant_left", end - timedelta(minutes=5), attendee, "PA_demo_client"),
        event("room_finished", end),
    ):
        booking.record_room_event(item)
