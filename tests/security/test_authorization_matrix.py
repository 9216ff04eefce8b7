"""Who may call what: every registered route × every persona.

The table below has one row per endpoint of `app.url_map`; a route added without a row
fails `test_every_route_has_a_row` by name. Each persona test signs in once, calls every
route with every method it has (GETs first, then POSTs, in table order), with ids that
belong to "client" or "practitioner", and checks:

- the outcome is the one in the table;
- a refused request changed no row of any table, and no GET changed any row;
- the "other" personas and anonymous visitors never read the owners' private data;
- every HTML answer (error pages too) carries the security headers and no markup the
  CSP would block.

Outcomes: OK (reached the view: 200/201/302 elsewhere, or a 4xx the view itself gave for
the empty form, like 409/422), LOGIN (302 to the sign-in page), UNAUTH (401), DENY (403),
HIDDEN (404: existence is private). The HTML routes use the sign-in cookie, the API its
bearer token (api_tokens), the webhook a LiveKit signature; static files need nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from flask import url_for

from portal import api_tokens
from tests.fixtures.client_portal import day_at
from tests.fixtures.livekit import LIVEKIT_CONFIG, LiveKitWebhooks
from tests.fixtures.security import (
    NOTE_TEXT,
    PERSONAS,
    browser,
    changed_tables,
    csp_blocked_markup,
    missing_security_headers,
    sign_in,
    snapshot,
)

OK, LOGIN, UNAUTH, DENY, HIDDEN = "ok", "login", "401", "403", "404"


@dataclass(frozen=True)
class Row:
    endpoint: str
    expected: tuple[str, str, str, str, str, str]  # in PERSONAS order
    args: dict = field(default_factory=dict)  # url argument -> World attribute (its id)
    query: dict = field(default_factory=dict)
    secret_url: bool = False  # the URL itself is the owner's credential


def row(endpoint, anonymous, client, other_client, practitioner, other_practitioner, staff, **kw):
    expected = (anonymous, client, other_client, practitioner, other_practitioner, staff)
    query, secret_url = kw.pop("query", {}), kw.pop("secret_url", False)
    return Row(endpoint, expected, kw, query, secret_url)


SIGNED_IN = (OK, OK, OK, OK, OK)

CLIENTS_ONLY = (OK, OK, DENY, DENY, DENY)
PRACTITIONERS_ONLY = (DENY, DENY, OK, OK, DENY)
PRACTITIONERS_AND_STAFF = (DENY, DENY, OK, OK, OK)
STAFF_ONLY = (DENY, DENY, DENY, DENY, OK)
# The session/course/booking of "practitioner": the other practitioner must not learn it exists.
PRACTITIONER_OWNED = (DENY, DENY, OK, HIDDEN, OK)
PRACTITIONER_WRITES = (DENY, DENY, OK, HIDDEN, DENY)
# Something of "client": only they may touch it, the other client learns nothing.
CLIENT_OWNED = (OK, HIDDEN, DENY, DENY, DENY)
STAFF_ONLY = (DENY, DENY, DENY, DENY, OK)
# Something only "practitioner" owns and no one else reads, staff included.
OWNER_ONLY = (DENY, DENY, OK, HIDDEN, HIDDEN)
# A session note: its author alone, everyone else (its client and staff included) 404.
NOTE_OWNER_ONLY = (HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN)
# Intake answers: the client who gave them and the practitioner who asked.
ANSWERS = (OK, HIDDEN, OK, HIDDEN, HIDDEN)
# The API calendar window around the world's sessions (past, live and coming).
_NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = {
    "start": (_NOW - timedelta(days=30)).isoformat(),
    "end": (_NOW + timedelta(days=60)).isoformat(),
}
# A week of a 1-on-1 service's free times.
SLOT_WINDOW = {"start": _NOW.isoformat(), "end": (_NOW + timedelta(days=7)).isoformat()}

# Order matters inside one persona's run only for state: rows that use up an object
# (cancel, remove, mark paid, logout) come after the rows that need it.
TABLE = [
    # -- public -----------------------------------------------------------------------
    row("home.index", OK, *SIGNED_IN),
    row("home.favicon", OK, *SIGNED_IN),
    row("static", OK, *SIGNED_IN, query={"filename": "css/portal.css"}),
    # Probes and metrics: nothing private, for orchestrators and Prometheus (a deployment
    # may require PORTAL_METRICS_TOKEN for /metrics).
    row("ops.healthz", OK, *SIGNED_IN),
    row("ops.readyz", OK, *SIGNED_IN),
    row("ops.metrics", OK, *SIGNED_IN),
    row("auth.login", OK, *SIGNED_IN),
    # The secret URL is the client's credential: whoever holds it reads their calendar.
    row("feeds.ics_feed", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    # The signed link in a reminder: whoever holds it may turn that one kind of message off.
    row(
        "notifications.confirm_unsubscribe",
        OK,
        *SIGNED_IN,
        token="unsubscribe_token",
        secret_url=True,
    ),
    row("notifications.unsubscribe", OK, *SIGNED_IN, token="unsubscribe_token", secret_url=True),
    row("public.practitioner_page", OK, *SIGNED_IN, slug="practitioner_slug"),
    row("public.brand_stylesheet", OK, *SIGNED_IN, slug="practitioner_slug"),
    # Only a photo some profile shows is served: any other name is no one's.
    row("public.photo", HIDDEN, *(HIDDEN,) * 5, query={"name": "0" * 32 + ".jpg"}),
    row("public.sitemap", OK, *SIGNED_IN),
    row("public.robots", OK, *SIGNED_IN),
    row("shop.service", OK, *SIGNED_IN, service_id="workshop"),
    row("public.choose_timezone", OK, *SIGNED_IN),
    # Account pages reached from the sign-in page or an account email. The links' tokens
    # are their credential; the matrix's token is one they refuse (a 400 "bad link" page).
    row("accounts.sign_up", OK, *SIGNED_IN),
    row("accounts.request_password_reset", OK, *SIGNED_IN),
    row("accounts.verify_email", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    row("accounts.reset_password", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    row("accounts.accept_invitation", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    row("accounts.confirm_email_change", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    row("accounts.restore_email", OK, *SIGNED_IN, token="feed_token", secret_url=True),
    # -- any signed-in user -------------------------------------------------------------
    row("auth.change_password", LOGIN, *SIGNED_IN),
    row("accounts.profile", LOGIN, *SIGNED_IN),
    row("accounts.request_email_change", LOGIN, *SIGNED_IN),
    row("accounts.resend_verification", LOGIN, *SIGNED_IN),
    # Data rights: anyone signed in may have a copy of their data; the emailed link opens
    # only for its owner (the matrix's token is one it refuses, a 400 "bad link" page).
    row("accounts.request_export", LOGIN, *SIGNED_IN),
    row("accounts.download_export", LOGIN, *SIGNED_IN, token="feed_token", secret_url=True),
    row("shop.index", LOGIN, *SIGNED_IN),
    row("shop.practitioner", LOGIN, *SIGNED_IN, practitioner_id="practitioner"),
    row("tokens.list_tokens", LOGIN, *SIGNED_IN),
    row("tokens.create_token", LOGIN, *SIGNED_IN),
    row("notifications.preferences", LOGIN, *SIGNED_IN),
    row("orders.view_order", LOGIN, OK, HIDDEN, OK, HIDDEN, OK, order_id="pending_order"),
    row("rooms.join", LOGIN, OK, DENY, OK, DENY, DENY, session_id="live_session"),
    # -- clients ------------------------------------------------------------------------
    row("bookings.index", LOGIN, *CLIENTS_ONLY),
    # Client accounts are deleted by their owner (password re-entered) or by staff for them.
    row("accounts.request_erasure", LOGIN, *CLIENTS_ONLY),
    row("accounts.cancel_erasure", LOGIN, *CLIENTS_ONLY),
    row("shop.buy", LOGIN, *CLIENTS_ONLY, service_id="workshop"),
    row("shop.join_waitlist", LOGIN, *CLIENTS_ONLY, session_id="full_session"),
    row("shop.confirm", LOGIN, *CLIENTS_ONLY, service_id="workshop"),
    row("packages.buy_package", LOGIN, *CLIENTS_ONLY, service_id="bundle"),
    row("packages.schedule_credit", LOGIN, *CLIENT_OWNED, booking_id="credit"),
    row("passes.buy_pass", LOGIN, *CLIENTS_ONLY, service_id="class_pass_service"),
    row("passes.my_passes", LOGIN, *CLIENTS_ONLY),
    row("passes.view_pass", LOGIN, *CLIENT_OWNED, pass_id="class_pass"),
    row("passes.book_with_pass", LOGIN, *CLIENT_OWNED, pass_id="class_pass"),
    # Without Stripe configured (as here) a subscribe or a change is refused with a flash.
    row("memberships.subscribe", LOGIN, *CLIENTS_ONLY, service_id="membership_plan"),
    row("memberships.my_memberships", LOGIN, *CLIENTS_ONLY),
    row("memberships.cancel_membership", LOGIN, *CLIENT_OWNED, membership_id="membership"),
    row("memberships.keep_membership", LOGIN, *CLIENT_OWNED, membership_id="membership"),
    row("memberships.pause_membership", LOGIN, *CLIENT_OWNED, membership_id="membership"),
    row("memberships.resume_membership", LOGIN, *CLIENT_OWNED, membership_id="membership"),
    row("memberships.change_plan", LOGIN, *CLIENT_OWNED, membership_id="membership"),
    row("bookings.reschedule", LOGIN, *CLIENT_OWNED, booking_id="one_on_one"),
    row("bookings.accept_offer", LOGIN, *CLIENT_OWNED, entry_id="waitlist_entry"),
    row("bookings.accept_offer_with_pass", LOGIN, *CLIENT_OWNED, entry_id="waitlist_entry"),
    row("bookings.leave_waitlist", LOGIN, *CLIENT_OWNED, entry_id="waitlist_entry"),
    row("bookings.cancel", LOGIN, *CLIENT_OWNED, booking_id="one_on_one"),
    row("feeds.manage_feed", LOGIN, OK, OK, OK, OK, DENY),
    row("feeds.rotate", LOGIN, OK, OK, OK, OK, DENY),
    row("feeds.revoke", LOGIN, OK, OK, OK, OK, DENY),
    # -- practitioners (and staff, read-only) ---------------------------------------------
    row("calendar.week", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("calendar.day", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("calendar.month", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("calendar.list_sessions", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("calendar.new_session", LOGIN, *PRACTITIONERS_ONLY),
    row("calendar.show_session", LOGIN, *PRACTITIONER_OWNED, session_id="spare_session"),
    row("calendar.edit_session", LOGIN, *PRACTITIONER_WRITES, session_id="spare_session"),
    row("calendar.add_attendee", LOGIN, *PRACTITIONER_WRITES, session_id="spare_session"),
    row(
        "calendar.remove_attendee",
        LOGIN,
        *PRACTITIONER_WRITES,
        session_id="spare_session",
        booking_id="roster_seat",
    ),
    row("calendar.cancel_session", LOGIN, *PRACTITIONER_WRITES, session_id="spare_session"),
    row("availability.edit_availability", LOGIN, *PRACTITIONERS_ONLY),
    row("availability.save_weekly_hours", LOGIN, *PRACTITIONERS_ONLY),
    row("availability.save_override", LOGIN, *PRACTITIONERS_ONLY),
    row("availability.remove_override", LOGIN, *PRACTITIONERS_ONLY),
    row("availability.save_settings", LOGIN, *PRACTITIONERS_ONLY),
    row("services.list_services", LOGIN, *PRACTITIONERS_ONLY),
    row("services.new_service", LOGIN, *PRACTITIONERS_ONLY),
    row("services.edit_service", LOGIN, *PRACTITIONER_WRITES, service_id="individual"),
    row("packages.new_package", LOGIN, *PRACTITIONERS_ONLY),
    row("public.edit_public_page", LOGIN, *PRACTITIONERS_ONLY),
    row("public.upload_photo", LOGIN, *PRACTITIONERS_ONLY),
    row("public.upload_logo", LOGIN, *PRACTITIONERS_ONLY),
    row("packages.edit_package", LOGIN, *PRACTITIONER_WRITES, service_id="bundle"),
    row("passes.new_pass", LOGIN, *PRACTITIONERS_ONLY),
    row("passes.edit_pass", LOGIN, *PRACTITIONER_WRITES, service_id="class_pass_service"),
    row("memberships.new_plan", LOGIN, *PRACTITIONERS_ONLY),
    row("memberships.edit_plan", LOGIN, *PRACTITIONER_WRITES, service_id="membership_plan"),
    row("memberships.list_members", LOGIN, *PRACTITIONERS_ONLY),
    row("memberships.members_csv", LOGIN, *PRACTITIONERS_ONLY),
    row("courses.list_courses", LOGIN, *PRACTITIONERS_ONLY),
    row("courses.new_course", LOGIN, *PRACTITIONERS_ONLY),
    row("courses.show_course", LOGIN, *PRACTITIONER_OWNED, course_id="course"),
    row("courses.enroll", LOGIN, *PRACTITIONER_WRITES, course_id="course"),
    row("orders.pending_orders", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("orders.mark_paid", LOGIN, *PRACTITIONER_OWNED, order_id="pending_order"),
    row("orders.refund_order", LOGIN, *PRACTITIONER_OWNED, order_id="pending_order"),
    row("orders.pay_balance", LOGIN, OK, HIDDEN, DENY, HIDDEN, DENY, order_id="pending_order"),
    row("orders.waive_fee", LOGIN, *PRACTITIONER_OWNED, order_id="pending_order", fee_id="fee"),
    row("payouts.show_payouts", LOGIN, *PRACTITIONERS_ONLY),
    row("payouts.connect_account", LOGIN, *PRACTITIONERS_ONLY),
    row("payouts.refresh_onboarding", LOGIN, *PRACTITIONERS_ONLY),
    row("orders.mark_fee_paid", LOGIN, *PRACTITIONER_OWNED, order_id="pending_order", fee_id="fee"),
    row(
        "orders.pay_fee",
        LOGIN,
        OK,
        HIDDEN,
        DENY,
        HIDDEN,
        DENY,
        order_id="pending_order",
        fee_id="fee",
    ),
    row("orders.refund_seats", LOGIN, *PRACTITIONER_OWNED, order_id="pending_order"),
    row("orders.revenue_report", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("orders.revenue_report_csv", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("orders.view_receipt", LOGIN, OK, HIDDEN, OK, HIDDEN, OK, receipt_id="receipt"),
    # -- session notes and the client record (#23) ----------------------------------------
    row("notes.show_note", LOGIN, *NOTE_OWNER_ONLY, booking_id="past_booking"),
    row("notes.save_note", LOGIN, *NOTE_OWNER_ONLY, booking_id="past_booking"),
    row("notes.add_addendum", LOGIN, *NOTE_OWNER_ONLY, booking_id="past_booking"),
    row("notes.share_note", LOGIN, *NOTE_OWNER_ONLY, booking_id="past_booking"),
    row("notes.sign_note", LOGIN, *NOTE_OWNER_ONLY, booking_id="past_booking"),
    row("clients.list_clients", LOGIN, *PRACTITIONERS_ONLY),
    row("clients.export_clients", LOGIN, *PRACTITIONERS_ONLY),
    row("clients.show_client", LOGIN, *PRACTITIONER_WRITES, client_id="client"),
    row("clients.save_client", LOGIN, *PRACTITIONER_WRITES, client_id="client"),
    # Intake forms are the practitioner's; answers and their files are health data: the
    # client who gave them and the practitioner who asked, no one else (staff neither).
    row("intake.list_forms", LOGIN, *PRACTITIONERS_ONLY),
    row("intake.new_form", LOGIN, *PRACTITIONERS_ONLY),
    row("intake.edit_form", LOGIN, *PRACTITIONER_WRITES, form_id="intake_form"),
    row("intake.show_answers", LOGIN, *ANSWERS, submission_id="intake_submission"),
    row("intake.download_upload", LOGIN, *ANSWERS, upload_id="intake_upload"),
    # The emailed link is the client's credential (signed, expiring, single-use).
    row("intake.answer_by_link", OK, *SIGNED_IN, token="intake_token", secret_url=True),
    # Each sees the entries of their own: staff all, a practitioner their objects', a
    # client who read their record.
    row("audit.index", LOGIN, *SIGNED_IN),
    # -- staff: accounts of others -------------------------------------------------------
    row("users.list_users", LOGIN, *STAFF_ONLY),
    row("users.invite_user", LOGIN, *STAFF_ONLY),
    row("users.resend_invitation", LOGIN, *STAFF_ONLY, user_id="other_client"),
    # Data rights on a client's behalf: staff only (before deactivation uses the account up).
    row("users.request_export", LOGIN, *STAFF_ONLY, user_id="other_client"),
    row("users.request_erasure", LOGIN, *STAFF_ONLY, user_id="other_client"),
    row("users.cancel_erasure", LOGIN, *STAFF_ONLY, user_id="other_client"),
    row("users.deactivate_user", LOGIN, *STAFF_ONLY, user_id="other_client"),
    row("users.reactivate_user", LOGIN, *STAFF_ONLY, user_id="other_client"),
    # -- attendance and reports ----------------------------------------------------------
    row("attendance.index", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("attendance.noshow_report", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("attendance.noshow_report_csv", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("attendance.courses", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("attendance.course_completion", LOGIN, *PRACTITIONER_OWNED, course_id="course"),
    row("attendance.course_completion_csv", LOGIN, *PRACTITIONER_OWNED, course_id="course"),
    row("attendance.session_attendance", LOGIN, *PRACTITIONER_OWNED, session_id="past_session"),
    row("attendance.override_outcome", LOGIN, *PRACTITIONER_OWNED, booking_id="past_booking"),
    # -- staff ---------------------------------------------------------------------------
    row("outbox.index", LOGIN, *STAFF_ONLY),
    row("outbox.show_message", LOGIN, *STAFF_ONLY, notification_id="notification"),
    row("outbox.resend", LOGIN, *STAFF_ONLY, notification_id="notification"),
    # -- outbound webhooks: each owner's endpoints are theirs alone ----------------------
    row("webhooks_out.list_endpoints", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("webhooks_out.create_endpoint", LOGIN, *PRACTITIONERS_AND_STAFF),
    row("webhooks_out.show_endpoint", LOGIN, *OWNER_ONLY, endpoint_id="webhook_endpoint"),
    row("webhooks_out.test_endpoint", LOGIN, *OWNER_ONLY, endpoint_id="webhook_endpoint"),
    row("webhooks_out.enable_endpoint", LOGIN, *OWNER_ONLY, endpoint_id="webhook_endpoint"),
    # -- the practitioner's own calendars: theirs alone ---------------------------------
    row("connected_calendars.list_calendars", LOGIN, *PRACTITIONERS_ONLY),
    row("connected_calendars.add_ics_calendar", LOGIN, *PRACTITIONERS_ONLY),
    row("connected_calendars.add_caldav_account", LOGIN, *PRACTITIONERS_ONLY),
    row(
        "connected_calendars.update_calendar",
        LOGIN,
        *PRACTITIONER_WRITES,
        calendar_id="external_calendar",
    ),
    row(
        "connected_calendars.refresh_calendar",
        LOGIN,
        *PRACTITIONER_WRITES,
        calendar_id="external_calendar",
    ),
    # -- JSON API (bearer token; never the cookie) ---------------------------------------
    row("api.openapi_spec", OK, *SIGNED_IN),
    row("api.calendar", UNAUTH, *SIGNED_IN, query=WINDOW),
    row("api.services", UNAUTH, *SIGNED_IN, practitioner_id="practitioner"),
    row("api.service_slots", OK, *SIGNED_IN, service_id="individual", query=SLOT_WINDOW),
    row("api.session_detail", UNAUTH, OK, HIDDEN, OK, HIDDEN, OK, session_id="private_session"),
    row("api.create_order", UNAUTH, OK, OK, DENY, DENY, DENY),
    row("api.my_passes", UNAUTH, OK, OK, DENY, DENY, DENY),
    row("api.buy_pass", UNAUTH, OK, OK, DENY, DENY, DENY),
    row("api.book_with_pass", UNAUTH, OK, HIDDEN, DENY, DENY, DENY, pass_id="class_pass"),
    row("api.schedule_booking", UNAUTH, OK, HIDDEN, DENY, HIDDEN, OK, booking_id="api_credit"),
    row("api.mark_order_paid", UNAUTH, DENY, HIDDEN, OK, HIDDEN, OK, order_id="api_pending_order"),
    row("api.cancel_booking", UNAUTH, OK, HIDDEN, OK, HIDDEN, OK, booking_id="api_credit"),
    row("api.list_fees", UNAUTH, *SIGNED_IN),
    row("api.waive_fee", UNAUTH, DENY, HIDDEN, OK, HIDDEN, OK, fee_id="fee"),
    # A client sees only their own entries; a private session's existence stays private.
    row(
        "api.session_attendance",
        UNAUTH,
        OK,
        HIDDEN,
        OK,
        HIDDEN,
        OK,
        session_id="private_session",
    ),
    # Practitioners get their own numbers (the other one's are empty, not someone else's).
    row("api.noshow_report", UNAUTH, DENY, DENY, OK, OK, OK, query=WINDOW),
    row("api.course_completion", UNAUTH, DENY, DENY, OK, HIDDEN, OK, service_id="course"),
    # -- machines --------------------------------------------------------------------------
    # Without STRIPE_WEBHOOK_SECRET (this world) the endpoint does not exist for anyone;
    # signed and unsigned events are tested in tests/integration/test_stripe_payments.py.
    row("webhooks.stripe_event", HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    row("webhooks.livekit", OK, *SIGNED_IN),  # signed as LiveKit signs; unsigned is below
    # -- last: it ends the persona's session -------------------------------------------------
    row("tokens.revoke_token", LOGIN, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, token_id="client_token"),
    row("webhooks_out.delete_endpoint", LOGIN, *OWNER_ONLY, endpoint_id="webhook_endpoint"),
    row(
        "connected_calendars.disconnect_calendar",
        LOGIN,
        *PRACTITIONER_WRITES,
        calendar_id="external_calendar",
    ),
    row("auth.logout", LOGIN, *SIGNED_IN),
    # Signs in afresh (logout has just ended the persona's session) to end every session.
    row("auth.sign_out_everywhere", LOGIN, *SIGNED_IN),
]
ROWS = {r.endpoint: r for r in TABLE}


@pytest.fixture
def app_config():
    return dict(LIVEKIT_CONFIG)


def test_every_route_has_a_row(app):
    registered = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(registered - ROWS.keys())
    assert not missing, (
        f"routes without a row in the authorization matrix: {', '.join(missing)}; "
        "add one to TABLE in tests/security/test_authorization_matrix.py"
    )
    stale = sorted(ROWS.keys() - registered)
    assert not stale, f"rows for routes that no longer exist: {', '.join(stale)}"
    assert len(TABLE) == len(ROWS), "an endpoint has two rows"


def outcome(response) -> str:
    code = response.status_code
    assert code < 500, f"server error {code}"
    assert code != 405, "method not allowed: the table and the url map disagree"
    if code == 302 and "/auth/login?next=" in response.headers["Location"]:
        return LOGIN
    return {401: UNAUTH, 403: DENY, 404: HIDDEN}.get(code, OK)


def world_value(world, name: str):
    if name == "private_session":
        return world.one_on_one.service_session_id
    value = getattr(world, name)
    return value if isinstance(value, str) else value.id


def api_body(endpoint: str, world) -> dict:
    if endpoint == "api.create_order":
        return {"service_id": world.bundle.id}
    if endpoint == "api.schedule_booking":
        return {"start_time": day_at(4, 9).isoformat()}
    if endpoint == "api.buy_pass":
        return {"service_id": world.class_pass_service.id}
    if endpoint == "api.book_with_pass":
        return {"service_session_id": world.spare_session.id}
    return {}


class Caller:
    """Sends one persona's requests with the credential each kind of route takes."""

    def __init__(self, app, world, persona: str):
        self.app = app
        self.world = world
        self.user = user = world.user(persona)
        self.html = sign_in(app, user) if user else browser(app)
        self.token = api_tokens.issue_token(user, "matrix")[1] if user else None
        self.webhooks = LiveKitWebhooks(browser(app))

    def call(self, r: Row, method: str):
        args = {name: world_value(self.world, attr) for name, attr in r.args.items()}
        with self.app.test_request_context():
            path = url_for(r.endpoint, **args, **r.query)
        return self.send(r.endpoint, method, path)

    def send(self, endpoint: str, method: str, path: str):
        if endpoint == "webhooks.livekit":
            return self.webhooks.post(self.webhooks.room_started(self.world.spare_session))
        if endpoint == "auth.sign_out_everywhere" and self.user:
            self.html = sign_in(self.app, self.user)
        if endpoint.startswith("api."):
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            if method == "GET":
                return self.html.get(path, headers=headers)
            return self.html.post(path, json=api_body(endpoint, self.world), headers=headers)
        return self.html.open(path, method=method, data={})


def requests_in_order(app):
    """(row, method) for every method of every route: GETs first, then POSTs, table order."""
    methods = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    gets = [(r, "GET") for r in TABLE if "GET" in methods[r.endpoint]]
    posts = [(r, "POST") for r in TABLE if "POST" in methods[r.endpoint]]
    return gets + posts


@pytest.mark.parametrize("persona", PERSONAS)
def test_authorization_matrix(app, world, persona):
    caller = Caller(app, world, persona)
    column = PERSONAS.index(persona)
    nosy = persona in ("anonymous", "other_client", "other_practitioner")
    failures, seen = [], []
    state = snapshot()
    for r, method in requests_in_order(app):
        where = f"{method} {r.endpoint} as {persona}"
        response = caller.call(r, method)
        got, wanted = outcome(response), r.expected[column]
        seen.append(f"{where}: {response.status_code}")
        if got != wanted:
            failures.append(f"{where}: expected {wanted}, got {got} ({response.status_code})")
        after = snapshot()
        changed = changed_tables(state, after)
        if changed and (method == "GET" or got != OK):
            failures.append(f"{where}: refused or read-only, yet changed {', '.join(changed)}")
        state = after
        body = response.get_data(as_text=True)
        response.close()
        if response.mimetype == "text/html":
            for problem in missing_security_headers(response) + csp_blocked_markup(body):
                failures.append(f"{where}: {problem}")
        if nosy and not r.secret_url:
            leaked = [m for m in world.markers if m in body]
            if leaked:
                failures.append(f"{where}: shows the owners' data {leaked}")
    print("\n".join(seen))
    assert not failures, "\n".join(failures)


# Ids the shop publishes to every signed-in user: a practitioner, an active service,
# a listed workshop session (which a client may join the waitlist of).
PUBLIC_IDS = {
    "shop.practitioner",
    "shop.service",
    "shop.buy",
    "shop.join_waitlist",
    "packages.buy_package",
    "passes.buy_pass",
    "memberships.subscribe",
    "shop.confirm",
    "public.practitioner_page",
    # The public page's own stylesheet (the practitioner's accent colour).
    "public.brand_stylesheet",
    "api.service_slots",
}


def test_no_one_else_reaches_an_id_of_the_owners(app):
    """IDOR: on every URL carrying an id (or secret) of "client" or "practitioner", the
    other client and the other practitioner are refused, unless the shop publishes it."""
    opened = []
    for rule in app.url_map.iter_rules():
        r = ROWS[rule.endpoint]
        if not rule.arguments or rule.endpoint == "static" or rule.endpoint in PUBLIC_IDS:
            continue
        for persona in ("other_client", "other_practitioner"):
            expected = r.expected[PERSONAS.index(persona)]
            if expected == OK and not r.secret_url:
                opened.append(f"{rule.endpoint} is open to {persona}")
    assert not opened, "\n".join(opened)


@pytest.mark.parametrize("persona", ["other_client", "other_practitioner"])
def test_a_public_session_shows_others_only_its_seat_count(app, world, persona):
    """A public workshop is visible through the API to every signed-in user, but its
    attendee list is the practitioner's and staff's to read."""
    caller = Caller(app, world, persona)
    response = caller.html.get(
        f"/api/v1/sessions/{world.live_session.id}",
        headers={"Authorization": f"Bearer {caller.token}"},
    )
    assert response.status_code == 200
    event = response.get_json()
    assert event["attendee_count"] == 1
    assert event["attendees"] == []
    assert not [m for m in world.markers if m in response.get_data(as_text=True)]


# One object read through a page and through the API: (page, API, World attribute).
PAGE_AND_API = [
    ("attendance.session_attendance", "api.session_attendance", "live_session"),
    ("attendance.session_attendance", "api.session_attendance", "private_session"),
    ("attendance.course_completion", "api.course_completion", "course"),
]


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_the_api_hides_what_the_pages_hide(app, world, persona):
    """Where a page answers 404 (existence is private), the API must not answer 403."""
    caller = Caller(app, world, persona)
    failures = []
    for page, api, attr in PAGE_AND_API:
        paths = {}
        for endpoint in (page, api):
            (argument,) = ROWS[endpoint].args
            with app.test_request_context():
                paths[endpoint] = url_for(endpoint, **{argument: world_value(world, attr)})
        got = {e: outcome(caller.send(e, "GET", path)) for e, path in paths.items()}
        if got[page] == HIDDEN and got[api] != HIDDEN:
            failures.append(f"{api} on {attr}: the page is 404, the API {got[api]}")
    assert not failures, "\n".join(failures)


# Beyond a 32-bit id column: PostgreSQL refuses such a value in a query ("integer out of
# range"), so it must be turned away before any query runs.
HUGE_ID = 2**31
SENTINEL = 987654321


@pytest.mark.parametrize("persona", ["anonymous", "staff"])
def test_an_id_no_row_can_have_is_a_404_on_every_route(app, world, persona):
    caller = Caller(app, world, persona)
    methods = {}
    for rule in app.url_map.iter_rules():
        methods.setdefault(rule.endpoint, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    failures = []
    for rule in app.url_map.iter_rules():
        ids = [name for name in rule.arguments if name.endswith("_id")]
        if not ids:
            continue
        args = {name: world_value(world, attr) for name, attr in ROWS[rule.endpoint].args.items()}
        for method in sorted(methods[rule.endpoint]):
            for name in ids:
                with app.test_request_context():
                    path = url_for(rule.endpoint, **{**args, name: SENTINEL})
                path = path.replace(str(SENTINEL), str(HUGE_ID))
                response = caller.send(rule.endpoint, method, path)
                if response.status_code != 404:
                    failures.append(f"{method} {path}: {response.status_code}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("query", [{"practitioner": HUGE_ID}, {"page": 10**20}])
def test_a_huge_number_in_the_calendar_query_is_not_a_server_error(app, world, query):
    caller = Caller(app, world, "staff")
    for endpoint in ("calendar.day", "calendar.week", "calendar.month", "calendar.list_sessions"):
        with app.test_request_context():
            path = url_for(endpoint, **query)
        assert caller.html.get(path).status_code in (200, 404), path


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_the_api_never_shows_a_session_note(app, world, persona):
    """Notes are not exposed through the API at all: no route names them, and what the API
    says about the noted booking's session carries none of the note's words."""
    assert not [
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("api.") and "note" in r.rule
    ]
    caller = Caller(app, world, persona)
    with app.test_request_context():
        paths = [
            url_for("api.session_detail", session_id=world.past_session.id),
            url_for("api.session_attendance", session_id=world.past_session.id),
            url_for("api.calendar", **WINDOW),
        ]
    for path in paths:
        body = caller.send("api.session_detail", "GET", path).get_data(as_text=True)
        assert NOTE_TEXT not in body, path
