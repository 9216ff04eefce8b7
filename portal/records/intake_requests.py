"""Intake forms sent by email: a signed link before the client's first session with the
form, and one reminder 24 hours before it if the form is still unanswered.

A periodic job (the worker, every minute, like portal/reminders.py) finds coming bookings
whose service asks a form the client has not answered, and writes one request and its
message through the outbox in one transaction; a unique (form, client) row makes the
request once however many workers run. Forms asked while booking are sent this way too
when the booking was made where no form is shown (added by the practitioner, the API).

The link is signed (SECRET_KEY), expires (PORTAL_INTAKE_LINK_MAX_AGE) and works once: the
answer marks its request answered with a conditional UPDATE, so a second submit through
the same link (or a race of two) finds it used.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import CursorResult, exists, select, update
from sqlalchemy.exc import IntegrityError

from ..core.errors import InvalidTransition
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    IntakeRequest,
    IntakeSubmission,
    NotificationKind,
    ServiceSession,
    SessionStatus,
    User,
    service_intake_forms,
)
from ..notifications.links import external_url
from ..notifications.outbox import notify
from .intake import Answers, submit_answers

log = logging.getLogger(__name__)

_SALT = "portal-intake-link"
REMIND_BEFORE = timedelta(hours=24)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def link_token(request: IntakeRequest) -> str:
    return _serializer().dumps(request.id)


def link_url(request: IntakeRequest) -> str:
    return external_url("intake.answer_by_link", token=link_token(request))


def request_for_token(token: str) -> IntakeRequest | None:
    """The request a link stands for, or None: altered, expired or naming nothing."""
    try:
        request_id = _serializer().loads(
            token, max_age=current_app.config["PORTAL_INTAKE_LINK_MAX_AGE"]
        )
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(request_id, int):
        return None
    return db.session.get(IntakeRequest, request_id)


def _tell(request: IntakeRequest, *, reminder: bool) -> None:
    notify(
        NotificationKind.INTAKE_FORM_REQUESTED,
        request.client_id,
        dedup_key=f"intake:{request.id}:{'reminder' if reminder else 'sent'}",
        request_id=request.id,
        booking_id=request.booking_id,
        form_title=request.form.title,
        reminder=reminder,
        url=link_url(request),
    )


def _unanswered_pairs(now: datetime) -> list[tuple[int, int, int]]:
    """(form, client, first coming booking) for every form a coming session's service asks
    that its client has neither answered nor been sent."""
    rows = db.session.execute(
        select(service_intake_forms.c.form_id, Booking.user_id, Booking.id)
        .join(ServiceSession, ServiceSession.id == Booking.service_session_id)
        .join(
            service_intake_forms,
            service_intake_forms.c.service_id == ServiceSession.service_id,
        )
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.status == SessionStatus.SCHEDULED,
            ServiceSession.start_time > now,
            ~exists().where(
                IntakeSubmission.form_id == service_intake_forms.c.form_id,
                IntakeSubmission.client_id == Booking.user_id,
            ),
            ~exists().where(
                IntakeRequest.form_id == service_intake_forms.c.form_id,
                IntakeRequest.client_id == Booking.user_id,
            ),
        )
        .order_by(ServiceSession.start_time, Booking.id)
    ).all()
    first: dict[tuple[int, int], int] = {}
    for form_id, client_id, booking_id in rows:
        first.setdefault((form_id, client_id), booking_id)
    return [(form, client, booking) for (form, client), booking in first.items()]


@unit_of_work
def queue_intake_requests(now: datetime | None = None) -> int:
    """Send each missing form's link once; returns how many went into the outbox."""
    now = now or utcnow()
    written = 0
    for form_id, client_id, booking_id in _unanswered_pairs(now):
        try:
            with db.session.begin_nested():
                request = IntakeRequest(
                    form_id=form_id, client_id=client_id, booking_id=booking_id, sent_at=now
                )
                db.session.add(request)
                db.session.flush()
                _tell(request, reminder=False)
        except IntegrityError:
            # Another worker sent it first.
            continue
        written += 1
        log.info("intake form %s sent to client %s (booking %s)", form_id, client_id, booking_id)
    return written


@unit_of_work
def queue_intake_reminders(now: datetime | None = None) -> int:
    """One reminder, with a fresh link, for each request still unanswered 24 hours before
    its session."""
    now = now or utcnow()
    due = db.session.scalars(
        select(IntakeRequest)
        .join(Booking, Booking.id == IntakeRequest.booking_id)
        .join(ServiceSession, ServiceSession.id == Booking.service_session_id)
        .where(
            IntakeRequest.answered_at.is_(None),
            IntakeRequest.reminded_at.is_(None),
            Booking.status == BookingStatus.CONFIRMED,
            ServiceSession.status == SessionStatus.SCHEDULED,
            ServiceSession.start_time > now,
            ServiceSession.start_time <= now + REMIND_BEFORE,
            ~exists().where(
                IntakeSubmission.form_id == IntakeRequest.form_id,
                IntakeSubmission.client_id == IntakeRequest.client_id,
            ),
        )
    ).all()
    written = 0
    for request in due:
        claimed = db.session.execute(
            update(IntakeRequest)
            .where(IntakeRequest.id == request.id, IntakeRequest.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult, claimed).rowcount != 1:
            continue
        _tell(request, reminder=True)
        written += 1
    if written:
        log.info("queued %d intake reminder(s)", written)
    return written


@unit_of_work
def answer_by_link(request: IntakeRequest, answers: Answers) -> IntakeSubmission:
    """The client's answers through their link; the link is used up with them."""
    used = db.session.execute(
        update(IntakeRequest)
        .where(IntakeRequest.id == request.id, IntakeRequest.answered_at.is_(None))
        .values(answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, used).rowcount != 1:
        raise InvalidTransition(gettext("This link was used already: the form is answered."))
    client = db.session.get(User, request.client_id)
    assert client is not None
    return submit_answers(client, answers, booking_id=request.booking_id)
