"""flask --app portal <command>: operator commands. They call the domain layer too."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask import Flask
from sqlalchemy import func, select

from . import accounts, audit, booking
from .accounts import create_user
from .booking import ParticipantSnapshot, RoomEvent
from .core.errors import InvalidInput
from .core.transactions import unit_of_work
from .extensions import db
from .models import (
    BillingPeriod,
    ClassPassTerms,
    MembershipPlan,
    Role,
    Service,
    ServiceComponent,
    ServiceType,
    User,
    WeeklyHours,
)
from .webhooks_out import delivery as webhook_delivery


def register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default="client")
    # Others see this name on rosters and reports; an email's local part is no name.
    @click.option("--name", prompt="Full name", help="The name other people see.")
    @click.option("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Lisbon.")
    @click.password_option(help="Prompted for when not given.")
    def create_user_command(email, role, name, timezone, password):
        """Create an account."""
        try:
            user = create_user(email, name, Role(role), password, timezone)
        except InvalidInput as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field) from exc
        click.echo(f"created {user.role.value} {user.email} (id {user.id})")

    @app.cli.command("list-users")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
    def list_users_command(role):
        """List the accounts: id, role, status, email and name."""
        for user in accounts.list_users(Role(role) if role else None):
            status = _status(user)
            role_name = user.role.value
            click.echo(f"{user.id:>6}  {role_name:<12}  {status:<11}  {user.email}  {user.name}")

    @app.cli.command("invite-user")
    @click.argument("email")
    @click.option("--role", type=click.Choice([r.value for r in Role]), default="practitioner")
    @click.option("--name", default=None, help="Display name (defaults to the email's name).")
    @click.option("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Lisbon.")
    def invite_user_command(email, role, name, timezone):
        """Invite someone by email: they choose their own password through the link."""
        try:
            user = accounts.invite_user(
                email, name or email.split("@")[0], Role(role), timezone=timezone
            )
        except InvalidInput as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field) from exc
        click.echo(f"invited {user.role.value} {user.email} (id {user.id})")

    @app.cli.command("deactivate-user")
    @click.argument("email")
    def deactivate_user_command(email):
        """Deactivate an account: its sessions, API tokens and feed stop working at once."""
        user = _existing_user(email)
        accounts.deactivate_user(user)
        click.echo(f"deactivated {user.email} (id {user.id})")

    @app.cli.command("reactivate-user")
    @click.argument("email")
    def reactivate_user_command(email):
        """Let a deactivated account sign in again."""
        user = _existing_user(email)
        accounts.reactivate_user(user)
        click.echo(f"reactivated {user.email} (id {user.id})")

    @app.cli.command("expire-holds")
    def expire_holds_command():
        """Release the seats of unpaid orders whose hold has expired (safe to run from cron)."""
        released = booking.release_expired_holds()
        click.echo(f"released {released} booking(s) whose hold had expired")

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

    audit_group = click.Group("audit", help="The audit log.")
    app.cli.add_command(audit_group)

    @audit_group.command("verify")
    def audit_verify_command():
        """Walk the audit log's hash chain; exit 1 at the first changed or missing entry."""
        result = audit.verify()
        if not result.ok:
            click.echo(f"audit log broken after {result.checked} good entries: {result.problem}")
            raise SystemExit(1)
        click.echo(
            f"audit log intact: {result.checked} entries; head {result.head_seq} {result.head_hash}"
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
    @click.option(
        "--password",
        envvar="PORTAL_DEMO_PASSWORD",
        default=None,
        help="One password for every demo account (default: a new random one for each).",
    )
    @click.option(
        "--force", is_flag=True, help="Seed even though the database holds other accounts."
    )
    def seed_demo_command(password, force):
        """Load demo data (idempotent) and print the demo sign-ins, once."""
        if demo_present():
            click.echo(ALREADY_PRESENT)
            return
        others = db.session.scalar(
            select(func.count(User.id)).where(User.email.not_like(f"%@{DEMO_DOMAIN}"))
        )
        if others and not force:
            raise click.ClickException(
                f"this database holds {others} account(s) that are not demo accounts; "
                "seeding it would add demo people and services beside them. "
                "Use --force if that is what you want."
            )
        passwords = {email: password or secrets.token_urlsafe(12) for email, _role in DEMO_LOGINS}
        if not seed_demo(passwords):
            click.echo(ALREADY_PRESENT)
            return
        click.echo("demo data created; the sign-ins (shown only now):")
        for email, role in DEMO_LOGINS:
            click.echo(f"  {role:<12} {email:<40} password: {passwords[email]}")


ALREADY_PRESENT = "demo data already present (its passwords were printed when it was made)"
DEMO_DOMAIN = "estuary-demo.example.com"


def _status(user: User) -> str:
    if not user.is_active:
        return "deactivated"
    if user.invitation_pending:
        return "invited"
    return "active" if user.email_verified else "unverified"


def _existing_user(email: str) -> User:
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.BadParameter(f"no account has the address {email}", param_hint="email")
    return user


DEMO_LOGINS = [
    (f"practitioner@{DEMO_DOMAIN}", "practitioner"),
    (f"client@{DEMO_DOMAIN}", "client"),
    (f"client2@{DEMO_DOMAIN}", "client"),
    (f"staff@{DEMO_DOMAIN}", "staff"),
]
DEMO_ZONES = {
    "practitioner": "America/New_York",
    "client": "Europe/London",
    "client2": "America/Los_Angeles",
    "staff": "UTC",
}


def demo_present() -> bool:
    return db.session.scalar(select(User.id).where(User.email == DEMO_LOGINS[0][0])) is not None


@unit_of_work
def seed_demo(passwords: dict[str, str]) -> bool:
    """All or nothing: a failed run leaves no half-seeded database behind."""
    if demo_present():  # checked again under the write lock: a concurrent run got there first
        return False
    users = {}
    for email, role in DEMO_LOGINS:
        password = passwords[email]
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
    class_pass = service(
        "Breathwork 5-class pass", ServiceType.CLASS_PASS, 15000, validity_days=120
    )
    class_pass.pass_terms = ClassPassTerms(credits=5, eligible_services=[workshop])
    # Subscribing needs Stripe keys; without them the plan is shown and Subscribe says so.
    membership = service("Breathwork monthly membership", ServiceType.MEMBERSHIP, 6000)
    membership.pass_terms = ClassPassTerms(credits=4, per_week=1, eligible_services=[workshop])
    db.session.flush()
    db.session.add(MembershipPlan(service_id=membership.id, period=BillingPeriod.MONTH))
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
        booking.receive_room_event(item)
    booking.apply_room_events([session.id])
