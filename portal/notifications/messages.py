"""Render an outbox row into an email: text and HTML parts from one template per kind,
in the recipient's timezone, with a link to the page where they act and, for anything
that has a time, an iCalendar invite for the same event the calendar feed shows.

Each kind has one template, `emails/<kind>.txt`, that sets `subject` and writes the
body; the shared layouts turn that body into the text part and the HTML part, so the
two can never say different things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, gettext

from ..database import utcnow
from ..extensions import db
from ..ics import new_calendar, session_event
from ..l10n import DEFAULT_LOCALE, format_moment
from ..models import (
    ACCOUNT_KINDS,
    OPTIONAL_KINDS,
    SEAT_HOLDING,
    Booking,
    CancelReason,
    IntakeRequest,
    Notification,
    NotificationKind,
    NotificationPreferences,
    Order,
    PractitionerProfile,
    Receipt,
    ServiceSession,
    SessionStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from .links import external_url, unsubscribe_token

K = NotificationKind

# Where each message sends its reader to act: an endpoint and the context key its id is.
_ACTION: dict[NotificationKind, tuple[str, dict[str, str]]] = {
    K.BOOKING_CONFIRMED: ("orders.view_order", {"order_id": "order"}),
    K.BOOKING_PENDING_PAYMENT: ("orders.view_order", {"order_id": "order"}),
    K.PAYMENT_RECEIVED: ("orders.view_order", {"order_id": "order"}),
    K.PAYMENT_REFUNDED: ("orders.view_order", {"order_id": "order"}),
    K.FEE_UNPAID: ("orders.view_order", {"order_id": "order"}),
    K.MEMBERSHIP_RENEWED: ("memberships.my_memberships", {}),
    K.MEMBERSHIP_PAYMENT_FAILED: ("memberships.my_memberships", {}),
    K.RECEIPT: ("orders.view_receipt", {"receipt_id": "receipt"}),
    K.BOOKING_CANCELED: ("bookings.index", {}),
    K.BOOKING_RESCHEDULED: ("bookings.index", {}),
    K.SESSION_MOVED: ("bookings.index", {}),
    K.SESSION_CANCELED: ("bookings.index", {}),
    K.REMINDER: ("rooms.join", {"session_id": "session"}),
    K.WAITLIST_OFFER: ("bookings.index", {}),
    K.WAITLIST_OFFER_LAPSED: ("shop.index", {}),
    K.CREDITS_EXPIRING: ("bookings.index", {}),
    K.PRACTITIONER_NEW_BOOKING: ("calendar.show_session", {"session_id": "session"}),
    K.PRACTITIONER_CANCELLATION: ("calendar.show_session", {"session_id": "session"}),
    K.PRACTITIONER_WAITLIST_TAKEN: ("calendar.show_session", {"session_id": "session"}),
    K.DAILY_AGENDA: ("calendar.list_sessions", {}),
}

# Messages about a time carry the event: added or updated, or taken off the calendar.
REQUEST, CANCEL = "REQUEST", "CANCEL"
_INVITES: dict[NotificationKind, str] = {
    K.BOOKING_CONFIRMED: REQUEST,
    K.BOOKING_PENDING_PAYMENT: REQUEST,
    K.PAYMENT_RECEIVED: REQUEST,
    K.BOOKING_RESCHEDULED: REQUEST,
    K.SESSION_MOVED: REQUEST,
    K.REMINDER: REQUEST,
    K.BOOKING_CANCELED: CANCEL,
    K.SESSION_CANCELED: CANCEL,
    # A waitlist offer is not an event until it is taken (the payment's or acceptance's
    # message carries the invite then), so neither the offer nor its lapse carries one:
    # a declined offer leaves nothing in a calendar to take back.
}


@dataclass
class Invite:
    method: str
    session: ServiceSession

    def to_ical(self, organizer: str, attendee: str, join_url: str) -> bytes:
        calendar = new_calendar(self.method, "Invitation")
        canceled = self.method == CANCEL or self.session.status == SessionStatus.CANCELED
        description = f"With {self.session.practitioner.name}"
        if not canceled:
            description += f"\nJoin: {join_url}"
        event = session_event(self.session, canceled=canceled, description=description)
        event.add("organizer", f"mailto:{organizer}", parameters={"CN": _display(organizer)})
        event.add("attendee", f"mailto:{attendee}", parameters={"RSVP": "FALSE"})
        event.add("url", join_url)
        event.add("location", join_url)
        calendar.add_component(event)
        calendar.add_missing_timezones()
        return calendar.to_ical()


def _display(address: str) -> str:
    return address.split("@")[0]


@dataclass
class Subjects:
    """What a message is about, loaded from the ids its row carries."""

    recipient: User | None
    booking: Booking | None = None
    # Every booking the message is about, when it names several (a course's expired hold).
    bookings: list[Booking] = field(default_factory=list)
    order: Order | None = None
    session: ServiceSession | None = None
    entry: WaitlistEntry | None = None
    client: User | None = None
    receipt: Receipt | None = None
    facts: dict = field(default_factory=dict)


def load_subjects(row: Notification) -> Subjects:
    payload = dict(row.payload or {})

    def get(model, key):
        ident = payload.get(key)
        return db.session.get(model, ident) if ident is not None else None

    found = Subjects(recipient=row.user, facts=payload)
    found.booking = get(Booking, "booking_id")
    found.bookings = [
        b for b in (db.session.get(Booking, i) for i in payload.get("booking_ids", [])) if b
    ] or ([found.booking] if found.booking else [])
    found.entry = get(WaitlistEntry, "waitlist_entry_id")
    found.receipt = get(Receipt, "receipt_id")
    found.order = get(Order, "order_id") or (
        found.booking.order
        if found.booking
        else found.entry.order
        if found.entry
        else found.receipt.payment.order
        if found.receipt
        else None
    )
    found.session = get(ServiceSession, "session_id") or (
        found.booking.service_session
        if found.booking
        else found.entry.service_session
        if found.entry
        else _first_dated_session(found.order)
    )
    found.client = get(User, "client_id")
    return found


def _first_dated_session(order: Order | None) -> ServiceSession | None:
    """An order's first seat with a time (a course's first class), if it has one."""
    if order is None:
        return None
    dated = [
        b.service_session
        for b in sorted(order.bookings, key=lambda b: b.id)
        if b.service_session.start_time is not None
    ]
    return min(dated, key=lambda s: cast(datetime, s.start_time)) if dated else None


def skip_reason(row: Notification, subjects: Subjects) -> str | None:
    """Why this message should not go any more, if it should not."""
    preference = OPTIONAL_KINDS.get(row.kind)
    if row.user is not None:
        if not row.user.is_active_account:
            return "the account is deactivated"
        if preference is not None:
            chosen = db.session.get(NotificationPreferences, row.user.id)
            if chosen is not None and not chosen.wants(preference):
                return f"{preference.label} turned off by the recipient"
    if row.kind in ACCOUNT_KINDS and "url" not in subjects.facts:
        # A reset asked for an address without an account writes a row all the same (no
        # link), so that the request does the same work either way; this is where it stops.
        return "no account has this address"
    if row.kind == K.REMINDER:
        if row.user is not None and not row.user.email_verified:
            # Documented rule (README, accounts): no reminders to an unconfirmed address.
            return "the address is not confirmed yet"
        booking, session = subjects.booking, subjects.session
        if booking is None or booking.status not in SEAT_HOLDING:
            return "the booking is no longer held"
        if (
            session is None
            or session.start_time is None
            or session.status != SessionStatus.SCHEDULED
            or session.start_time <= utcnow()
        ):
            return "the session is no longer ahead"
    if row.kind == K.INTAKE_FORM_REQUESTED:
        asked = db.session.get(IntakeRequest, subjects.facts.get("request_id"))
        if asked is None or asked.answered_at is not None:
            return "the form is answered"
        if subjects.booking is None or subjects.booking.status not in SEAT_HOLDING:
            return "the booking is no longer held"
    if row.kind == K.WAITLIST_OFFER and (
        subjects.entry is None or subjects.entry.status != WaitlistStatus.OFFERED
    ):
        return "the offer is no longer open"
    return None


def _zone(user: User | None) -> ZoneInfo:
    return user.zone if user is not None else ZoneInfo("UTC")


def _locale(user: User | None) -> str:
    """The recipient's chosen formats; their browser is not there to ask."""
    return (user.locale if user is not None else None) or DEFAULT_LOCALE


def _formatter(zone: ZoneInfo, locale: str):
    def when(moment: datetime | str | None) -> str:
        if moment is None:
            return gettext("not yet scheduled")
        if isinstance(moment, str):  # a time carried in the payload
            moment = datetime.fromisoformat(moment)
        text = format_moment(moment, "long-datetime", zone, locale)
        return f"{text} ({zone.key}, {moment.astimezone(zone).tzname()})"

    return when


def _day_formatter(locale: str):
    def day(value: str) -> str:
        try:
            return format_moment(date.fromisoformat(value), "long-date", locale=locale)
        except ValueError:  # rows written before days were carried as ISO dates
            return value

    return day


def _invites(row: Notification, subjects: Subjects) -> list[Invite]:
    method = _INVITES.get(row.kind)
    if method is None:
        return []
    if row.kind in (K.BOOKING_CONFIRMED, K.BOOKING_PENDING_PAYMENT, K.PAYMENT_RECEIVED) and (
        subjects.order is not None and subjects.booking is None
    ):
        # An order (a course, say) may hold several dated seats: one event each.
        sessions = [
            b.service_session
            for b in sorted(subjects.order.bookings, key=lambda b: b.id)
            if b.status in SEAT_HOLDING and b.service_session.start_time is not None
        ]
    elif len(subjects.bookings) > 1:
        sessions = [b.service_session for b in subjects.bookings]
    else:
        sessions = [subjects.session] if subjects.session is not None else []
    return [Invite(method, s) for s in sessions if s.start_time is not None]


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    invites: list[tuple[str, bytes]]


def reason_label(facts: dict) -> str:
    """A cancel reason in the recipient's words: the domain's reasons by their label (read
    in the locale the message is written in), a person's own words as they typed them."""
    if "reason" not in facts:
        # Rows queued before reasons were kept as codes carry their text.
        return facts.get("reason_label") or ""
    member = CancelReason.of(facts["reason"])
    return str(member.label) if member is not None else facts["reason"]


def action_url(row: Notification, subjects: Subjects) -> str | None:
    if "url" in subjects.facts:
        return subjects.facts["url"]
    endpoint, args = _ACTION.get(row.kind, (None, {}))
    if endpoint is None:
        return None
    values = {}
    for name, key in args.items():
        target = getattr(subjects, key)
        if target is None:
            return external_url("home.index")
        values[name] = target.id
    return external_url(endpoint, **values)


def _brand(subjects: Subjects) -> PractitionerProfile | None:
    """The public profile of the practitioner the message is about, if any."""
    if subjects.session is not None:
        practitioner = subjects.session.practitioner
    elif subjects.order is not None:
        practitioner = subjects.order.service.primary_practitioner
    else:
        return None
    return practitioner.profile


def brand_color(subjects: Subjects) -> str | None:
    """The accent of the practitioner the message is about (checked for contrast against
    white when chosen, so white text on it reads), or None for the portal's own."""
    profile = _brand(subjects)
    return profile.accent_color if profile is not None and profile.accent_color else None


def brand_logo(subjects: Subjects) -> tuple[str, str] | None:
    """Their logo's address and its alt text, for the top of the message, or None."""
    profile = _brand(subjects)
    if profile is None or not profile.logo:
        return None
    alt = gettext("Logo of %(name)s", name=profile.user.name)
    return external_url("public.photo", name=profile.logo), alt


def render(row: Notification, subjects: Subjects) -> Rendered:
    # Money and plurals in the templates follow the recipient's locale too.
    with force_locale(_locale(row.user)):
        return _render(row, subjects)


def _render(row: Notification, subjects: Subjects) -> Rendered:
    zone = _zone(row.user)
    headers: dict[str, str] = {}
    unsubscribe = None
    preference = OPTIONAL_KINDS.get(row.kind)
    if preference is not None and row.user is not None:
        unsubscribe = external_url(
            "notifications.unsubscribe", token=unsubscribe_token(row.user.id, preference)
        )
        # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to this URL.
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    context = {
        "kind": row.kind,
        "recipient": row.user,
        "subjects": subjects,
        "booking": subjects.booking,
        "order": subjects.order,
        "session": subjects.session,
        "entry": subjects.entry,
        "client": subjects.client,
        "receipt": subjects.receipt,
        "facts": subjects.facts,
        "reason_label": reason_label(subjects.facts),
        "when": _formatter(zone, _locale(row.user)),
        "day": _day_formatter(_locale(row.user)),
        "zone": zone,
        "address": row.recipient_address,
        "action_url": action_url(row, subjects),
        "accent": brand_color(subjects),
        "logo": brand_logo(subjects),
        # Account mail is about no time and cannot be turned off: no footer about either.
        "preferences_url": (
            None if row.kind in ACCOUNT_KINDS else external_url("notifications.preferences")
        ),
        "unsubscribe_url": unsubscribe,
        "join_url": (
            external_url("rooms.join", session_id=subjects.session.id)
            if subjects.session is not None
            else None
        ),
    }
    template = current_app.jinja_env.get_template(f"emails/{row.kind.value}.txt")
    # Its attributes are the template's top-level {% set %}s (subject, action_label).
    module: Any = template.make_module(context)
    # Template tags leave blank lines behind; a paragraph break is one blank line.
    body = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", str(module)).strip()
    subject = " ".join(str(module.subject).split())
    action_label = " ".join(
        str(getattr(module, "action_label", gettext("Open the portal"))).split()
    )
    parts = {"body": body, "subject": subject, "action_label": action_label, **context}
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    invites = [
        (
            invite.method,
            invite.to_ical(
                sender,
                row.recipient_address,
                external_url("rooms.join", session_id=invite.session.id),
            ),
        )
        for invite in _invites(row, subjects)
    ]
    return Rendered(
        subject=subject,
        text=render_template("emails/_layout.txt", **parts),
        html=render_template("emails/_layout.html", **parts),
        headers=headers,
        invites=invites,
    )


def message_id_header(row: Notification) -> str:
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2]
    return f"<{row.message_id}@{domain or 'estuary.invalid'}>"


def build_email(row: Notification, rendered: Rendered) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = row.recipient_address
    message["Date"] = format_datetime(row.created_at)
    # The same id on every attempt: a re-send after a crash is recognisably the same mail.
    message["Message-ID"] = message_id_header(row)
    for name, value in rendered.headers.items():
        message[name] = value
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    for index, (method, ics) in enumerate(rendered.invites):
        if index == 0:
            # Calendar clients act on the text/calendar alternative (with its method).
            message.add_alternative(ics.decode(), subtype="calendar", params={"method": method})
    for index, (method, ics) in enumerate(rendered.invites):
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename=f"invite-{index + 1}.ics" if index else "invite.ics",
            params={"method": method},
        )
    return message
