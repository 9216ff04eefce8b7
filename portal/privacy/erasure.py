"""Erasing a client's account (GDPR art. 17).

The request starts a grace period (PORTAL_ERASURE_GRACE_DAYS) in which the client may
cancel it; the worker then erases the account in one unit of work: their bookings still
to come (and unused credits) are canceled under each service's cancellation policy (past
the cut-off it is a late cancel, nothing comes back), their waitlist places given up, then
every registered holder erases or anonymises its part (portal/privacy/holders.py), the
account row last, which stays as a tombstone so orders, payments and attendance keep
their amounts and counts.

Erasing and canceling race on one row: each is a conditional UPDATE of the request's
status from pending, so exactly one of them wins and the other sees it lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from flask_babel import gettext
from sqlalchemy import CursorResult, select, update

from .. import audit, booking
from ..core.errors import InvalidInput, InvalidTransition, NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import (
    WAITLIST_OPEN,
    AuditAction,
    Booking,
    BookingStatus,
    CancelReason,
    ErasureRequest,
    ErasureStatus,
    NotificationKind,
    ServiceSession,
    SessionStatus,
    User,
    WaitlistEntry,
)
from ..models.users import new_livekit_identity
from ..notifications import outbox
from ..notifications.links import external_url
from .registry import HOLDERS, Erasure

log = logging.getLogger(__name__)


def grace_period() -> timedelta:
    return timedelta(days=int(current_app.config["PORTAL_ERASURE_GRACE_DAYS"]))


def tombstone_name(user_id: int) -> str:
    """What stands for an erased client wherever a row must keep someone (reports, rosters):
    the same words in every language's report, so it is not translated."""
    return f"Deleted client {user_id}"


def pending_erasure(user: User) -> ErasureRequest | None:
    return db.session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.user_id == user.id, ErasureRequest.status == ErasureStatus.PENDING
        )
    )


def pending_erasures() -> set[int]:
    """The accounts whose deletion waits out its grace period (staff's user list)."""
    return set(
        db.session.scalars(
            select(ErasureRequest.user_id).where(ErasureRequest.status == ErasureStatus.PENDING)
        )
    )


def _audit(action: AuditAction, request: ErasureRequest, actor_id: int | None, **after) -> None:
    audit.record(
        action,
        "erasure_request",
        request.id,
        client_id=request.user_id,
        actor_id=actor_id,
        after={"user_id": request.user_id, **after},
    )


@unit_of_work
def request_erasure(
    user: User, *, by: User | None = None, now: datetime | None = None
) -> ErasureRequest:
    """Schedule the account's erasure after the grace period (the caller checked the
    password, or is staff acting for the client) and tell the owner how to stop it."""
    if not user.is_client:
        raise NotPermitted(
            gettext("Only client accounts are deleted here; ask staff to close this account.")
        )
    if pending_erasure(user) is not None:
        raise InvalidInput(gettext("Your account is already scheduled for deletion."))
    now = now or utcnow()
    request = ErasureRequest(
        user_id=user.id,
        requested_by_id=(by or user).id,
        requested_at=now,
        due_at=now + grace_period(),
    )
    db.session.add(request)
    db.session.flush()
    outbox.notify(
        NotificationKind.ERASURE_SCHEDULED,
        user,
        url=external_url("accounts.profile"),
        due_at=request.due_at.isoformat(),
    )
    _audit(AuditAction.ERASURE_REQUESTED, request, (by or user).id, due_at=request.due_at)
    log.info("erasure scheduled: user %s, request %s, due %s", user.id, request.id, request.due_at)
    return request


@unit_of_work
def cancel_erasure(user: User, *, by: User | None = None, now: datetime | None = None) -> None:
    request = pending_erasure(user)
    canceled = db.session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.user_id == user.id, ErasureRequest.status == ErasureStatus.PENDING)
        .values(status=ErasureStatus.CANCELED, canceled_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if request is None or cast(CursorResult, canceled).rowcount != 1:
        raise InvalidTransition(gettext("No deletion of this account is scheduled."))
    _audit(AuditAction.ERASURE_CANCELED, request, (by or user).id)
    log.info("erasure canceled: user %s, request %s", user.id, request.id)


def erase_due_accounts(*, now: datetime | None = None) -> int:
    """Erase every account whose grace period is over; each in its own unit of work."""
    now = now or utcnow()
    due = db.session.scalars(
        select(ErasureRequest.id)
        .where(ErasureRequest.status == ErasureStatus.PENDING, ErasureRequest.due_at <= now)
        .order_by(ErasureRequest.id)
    ).all()
    return sum(erase_account(request_id, now=now) for request_id in due)


def _cancel_what_is_ahead(user: User, now: datetime) -> int:
    coming = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == user.id,
            Booking.status.in_(
                (BookingStatus.DRAFT, BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)
            ),
            ServiceSession.status.in_((SessionStatus.DRAFT, SessionStatus.SCHEDULED)),
            # Unscheduled credits have no time: they are ahead too.
            (ServiceSession.start_time.is_(None)) | (ServiceSession.start_time > now),
        )
        .order_by(Booking.id)
    ).all()
    for seat in coming:
        booking.cancel_booking(
            seat,
            user,
            reason=CancelReason.BY_CLIENT,
            client_requested=True,
            closing_account=True,
            now=now,
        )
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.user_id == user.id, WaitlistEntry.status.in_(WAITLIST_OPEN)
        )
    ).all()
    for entry in entries:
        booking.leave_waitlist(entry, now=now)
    return len(coming)


@unit_of_work
def erase_account(request_id: int, *, now: datetime | None = None) -> bool:
    """Erase the account of a due request, unless it was canceled first. Whether it did."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(ErasureRequest)
        .where(
            ErasureRequest.id == request_id,
            ErasureRequest.status == ErasureStatus.PENDING,
            ErasureRequest.due_at <= now,
        )
        .values(status=ErasureStatus.DONE, erased_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, claimed).rowcount != 1:
        return False
    request = db.session.get(ErasureRequest, request_id)
    assert request is not None
    user = request.user
    canceled = _cancel_what_is_ahead(user, now)
    db.session.flush()
    erasure = Erasure(
        user=user,
        name=user.name,
        email=user.email,
        livekit_identity=user.livekit_identity,
        tombstone_name=tombstone_name(user.id),
        tombstone_identity=new_livekit_identity(),
        now=now,
    )
    for holder in HOLDERS:
        if holder.erase is not None:
            holder.erase(erasure)
    db.session.flush()
    _audit(AuditAction.ACCOUNT_ERASED, request, None, bookings_canceled=canceled)
    log.info(
        "account erased: user %s, request %s, %s bookings canceled", user.id, request_id, canceled
    )
    return True
