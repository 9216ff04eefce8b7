"""Class passes: buying one, and taking a seat in a group session with one of its credits.

A seat taken with a pass follows the seat rules of a seat bought with money (the session's
lock, its open and full checks with expired holds released, the capacity CHECK, one seat per
person); it belongs to the pass's order at no charge, and one credit pays for it
(pass_credits). A cancel in time or a canceled session gives the credit back
(cancellation.py); a late cancel or a no-show keeps it spent.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from flask_babel import gettext, ngettext
from sqlalchemy import ColumnElement, exists, func, or_, select

from ..core.errors import CreditExpired, NotBookable, NotPermitted
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..extensions import db
from ..l10n import format_moment
from ..models import (
    SEAT_HOLDING,
    Booking,
    BookingStatus,
    ClassPass,
    ClassPassTerms,
    ClassPassUse,
    Membership,
    MembershipPeriod,
    MembershipStatus,
    Order,
    OrderStatus,
    Service,
    ServiceSession,
    ServiceTag,
    ServiceType,
    User,
    Visibility,
    class_pass_services,
)
from . import notices
from .holds import ensure_seat_available
from .locks import lock_session_with_service
from .pass_credits import lock_class_pass, spend_credit
from .payment_providers import payment_reference
from .seats import add_booking, open_order

log = logging.getLogger(__name__)

# The services a pass may name: group sessions the practitioner schedules, a seat at a time.
PASS_SERVICE_TYPES = frozenset({ServiceType.WORKSHOP})


def is_eligible(terms: ClassPassTerms, service: Service) -> bool:
    """A pass is spent on a service it names, or on one carrying its tag (one query, on the
    seat's path: nothing is loaded to decide it)."""
    if service.service_type not in PASS_SERVICE_TYPES:
        return False
    named: ColumnElement[bool] = exists().where(
        class_pass_services.c.pass_service_id == terms.service_id,
        class_pass_services.c.service_id == service.id,
    )
    if terms.eligible_tag is not None:
        named = or_(
            named,
            exists().where(
                ServiceTag.service_id == service.id, ServiceTag.tag == terms.eligible_tag
            ),
        )
    return bool(db.session.scalar(select(named)))


def pass_expires_at(service: Service, bought_at: datetime) -> datetime | None:
    days = service.validity_days
    return bought_at + timedelta(days=days) if days else None


@unit_of_work
def buy_class_pass(
    user: User, service: Service, *, now: datetime | None = None, order: Order | None = None
) -> Order:
    """The order for a pass, and the pass itself: usable once the order is paid."""
    now = now or utcnow()
    terms = service.pass_terms
    if service.service_type != ServiceType.CLASS_PASS or terms is None:
        raise NotBookable(
            gettext("%(service_name)s is not a class pass.", service_name=service.name)
        )
    if not service.is_active:
        raise NotBookable(
            gettext("%(service_name)s is not currently offered.", service_name=service.name)
        )
    order = open_order(user, service, now, order)
    db.session.add(
        ClassPass(
            order_id=order.id,
            user_id=user.id,
            service_id=service.id,
            credits=terms.credits,
            expires_at=pass_expires_at(service, now),
            created_at=now,
        )
    )
    db.session.flush()
    log.info("class pass bought: order %s, service %s, user %s", order.id, service.id, user.id)
    return order


def _membership_paused(held: ClassPass) -> bool:
    """A membership's period spends only while the membership is paid up (a renewal past
    due, a pause, an end stop it); a pass bought outright costs no query here."""
    if held.service.service_type != ServiceType.MEMBERSHIP:
        return False
    status = db.session.scalar(
        select(Membership.status)
        .join(MembershipPeriod, MembershipPeriod.membership_id == Membership.id)
        .where(MembershipPeriod.class_pass_id == held.id)
    )
    return status != MembershipStatus.ACTIVE


def _usable(held: ClassPass, now: datetime) -> None:
    if _membership_paused(held):
        raise NotBookable(
            gettext("Your membership's credits can be used again once it is paid up and active.")
        )
    order = held.order
    if order.status != OrderStatus.PAID and not (
        order.confirmed_unpaid and order.status == OrderStatus.PENDING
    ):
        raise NotBookable(
            gettext(
                "This pass can be used once its order %(reference)s is paid.",
                reference=payment_reference(order),
            )
        )
    if held.expires_at is not None and now >= held.expires_at:
        raise CreditExpired(
            gettext(
                "This pass expired on %(day)s.",
                day=format_moment(held.expires_at, "date", held.user.zone),
            )
        )
    if held.credits_left <= 0:
        raise NotBookable(gettext("This pass has no credits left."))


def _span(moment: datetime, session: ServiceSession, days: int) -> tuple[datetime, datetime]:
    """The local day (days=1) or week, Monday first (days=7), that holds the moment, in UTC."""
    local = moment.astimezone(session.zone).date()
    first = local - timedelta(days=local.weekday() if days == 7 else 0)
    start = datetime.combine(first, time(0), session.zone)
    return start, datetime.combine(first + timedelta(days=days), time(0), session.zone)


def _seats_within(held: ClassPass, start: datetime, end: datetime) -> int:
    return (
        db.session.scalar(
            select(func.count(ClassPassUse.id))
            .join(Booking, Booking.id == ClassPassUse.booking_id)
            .join(ServiceSession, ServiceSession.id == Booking.service_session_id)
            .where(
                ClassPassUse.class_pass_id == held.id,
                ClassPassUse.returned_at.is_(None),
                Booking.status.in_(SEAT_HOLDING),
                ServiceSession.start_time >= start,
                ServiceSession.start_time < end,
            )
        )
        or 0
    )


def _check_limits(held: ClassPass, terms: ClassPassTerms, session: ServiceSession) -> None:
    """Under the pass's lock, so two seats at once cannot both slip under the limit."""
    assert session.start_time is not None  # checked upcoming before
    day, week = _span(session.start_time, session, 1), _span(session.start_time, session, 7)
    if terms.per_day is not None and _seats_within(held, *day) >= terms.per_day:
        raise NotBookable(
            ngettext(
                "This pass takes %(num)d class a day.",
                "This pass takes %(num)d classes a day.",
                terms.per_day,
            )
        )
    if terms.per_week is not None and _seats_within(held, *week) >= terms.per_week:
        raise NotBookable(
            ngettext(
                "This pass takes %(num)d class a week.",
                "This pass takes %(num)d classes a week.",
                terms.per_week,
            )
        )


@unit_of_work
def book_with_pass(
    user: User, class_pass: ClassPass, session: ServiceSession, *, now: datetime | None = None
) -> Booking:
    """Take a seat in a group session with one credit of the client's pass."""
    now = now or utcnow()
    # The session first, then the pass (pass_credits: the order every spender keeps).
    locked = lock_session_with_service(session.id)
    held = lock_class_pass(class_pass.id)
    if held is None or held.user_id != user.id:
        raise NotPermitted(gettext("This pass is not yours."))
    _usable(held, now)
    terms = held.service.pass_terms
    if locked is None or locked.visibility == Visibility.PRIVATE or terms is None:
        raise NotBookable(gettext("No such session."))
    if not is_eligible(terms, locked.service):
        raise NotBookable(
            gettext(
                "%(pass_name)s cannot be used for %(display_title)s.",
                pass_name=held.service.name,
                display_title=locked.display_title,
            )
        )
    if locked.start_time is None or locked.start_time <= now:
        raise NotBookable(
            gettext("%(display_title)s has already started.", display_title=locked.display_title)
        )
    _check_limits(held, terms, locked)
    ensure_seat_available(locked, now)
    seat = add_booking(user, locked.service, locked, held.order, BookingStatus.CONFIRMED, 0, now)
    spend_credit(held, seat, now)
    notices.credit_scheduled(seat)
    log.info(
        "seat taken with a pass: booking %s, pass %s, session %s, user %s",
        seat.id,
        held.id,
        locked.id,
        user.id,
    )
    return seat
