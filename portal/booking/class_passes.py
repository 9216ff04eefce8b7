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
from sqlalchemy import ColumnElement, exists, func, insert, literal, or_, select
from sqlalchemy.orm import joinedload

from ..core.errors import (
    CreditExpired,
    NotBookable,
    NotPermitted,
    PassLimitReached,
    PassNotEligible,
    PassUsedUp,
)
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
    class_pass_eligible_services,
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


def nameable_services(practitioner: User) -> list[Service]:
    """What a class pass or a membership plan of this practitioner may name: the choices
    of their forms."""
    return list(
        db.session.scalars(
            select(Service)
            .where(
                Service.primary_practitioner_id == practitioner.id,
                Service.service_type.in_(PASS_SERVICE_TYPES),
            )
            .order_by(Service.name)
        )
    )


def is_eligible(held: ClassPass, service: Service) -> bool:
    """A pass is spent on a service of its own practitioner that it names, or that carries its
    tag, as sold (its copied terms, never the pass's terms as edited since). One query, on the
    seat's path: nothing is loaded to decide it."""
    if (
        service.service_type not in PASS_SERVICE_TYPES
        or service.primary_practitioner_id != held.service.primary_practitioner_id
    ):
        return False
    named: ColumnElement[bool] = exists().where(
        class_pass_eligible_services.c.class_pass_id == held.id,
        class_pass_eligible_services.c.service_id == service.id,
    )
    if held.eligible_tag is not None:
        named = or_(
            named,
            exists().where(
                ServiceTag.service_id == service.id, ServiceTag.tag == held.eligible_tag
            ),
        )
    return bool(db.session.scalar(select(named)))


def usable_passes(user: User, service: Service, now: datetime) -> list[ClassPass]:
    """The client's passes that could pay for a seat of this service now (paid, unexpired,
    with credits left, eligible), oldest first so the first to lapse is offered first: the
    choices a page or the API shows. The seat's path checks again, under the locks."""
    candidates = db.session.scalars(
        select(ClassPass)
        .join(Order, Order.id == ClassPass.order_id)
        .options(joinedload(ClassPass.service), joinedload(ClassPass.order))
        .where(
            ClassPass.user_id == user.id,
            ClassPass.credits_used < ClassPass.credits,
            or_(ClassPass.expires_at.is_(None), ClassPass.expires_at > now),
            Order.status.in_((OrderStatus.PAID, OrderStatus.PENDING)),
        )
        .order_by(ClassPass.expires_at.is_(None), ClassPass.expires_at, ClassPass.id)
    ).all()
    return [held for held in candidates if _paid_enough(held.order) and is_eligible(held, service)]


def pass_expires_at(service: Service, bought_at: datetime) -> datetime | None:
    days = service.validity_days
    return bought_at + timedelta(days=days) if days else None


def issue_pass(
    order: Order,
    user_id: int,
    service: Service,
    terms: ClassPassTerms,
    *,
    credits: int,
    expires_at: datetime | None,
    now: datetime,
    unlimited: bool = False,
) -> ClassPass:
    """A holding of credits on an order (a pass sold, a membership's period granted), with
    its own copy of the terms as they stand now: editing them later changes no holding."""
    held = ClassPass(
        order_id=order.id,
        user_id=user_id,
        service_id=service.id,
        credits=credits,
        unlimited=unlimited,
        eligible_tag=terms.eligible_tag,
        per_day=terms.per_day,
        per_week=terms.per_week,
        expires_at=expires_at,
        created_at=now,
    )
    db.session.add(held)
    db.session.flush()
    # The list as it stands now, copied in the database without loading it.
    db.session.execute(
        insert(class_pass_eligible_services).from_select(
            ["class_pass_id", "service_id"],
            select(literal(held.id), class_pass_services.c.service_id).where(
                class_pass_services.c.pass_service_id == service.id
            ),
        )
    )
    return held


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
    issue_pass(
        order,
        user.id,
        service,
        terms,
        credits=terms.credits,
        expires_at=pass_expires_at(service, now),
        now=now,
    )
    log.info("class pass bought: order %s, service %s, user %s", order.id, service.id, user.id)
    return order


def _paid_enough(order: Order) -> bool:
    """Paid, or pay-later (confirmed while the money is awaited)."""
    return order.status == OrderStatus.PAID or (
        order.confirmed_unpaid and order.status == OrderStatus.PENDING
    )


def is_usable(held: ClassPass, now: datetime) -> bool:
    """Could pay for a seat now, wherever the seat is: paid, unexpired, with credits left."""
    return (
        _paid_enough(held.order)
        and not held.expired(now)
        and held.credits_left > 0
        and not _membership_paused(held)
    )


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
    if not _paid_enough(order):
        raise NotBookable(
            gettext(
                "This pass can be used once its order %(reference)s is paid.",
                reference=payment_reference(order),
            )
        )
    if held.expired(now):
        assert held.expires_at is not None
        raise CreditExpired(
            gettext(
                "This pass expired on %(day)s.",
                day=format_moment(held.expires_at, "date", held.user.zone),
            )
        )
    if held.credits_left <= 0:
        raise PassUsedUp(gettext("This pass has no credits left."))


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


def _check_limits(held: ClassPass, session: ServiceSession) -> None:
    """Under the pass's lock, so two seats at once cannot both slip under the limit."""
    assert session.start_time is not None  # checked upcoming before
    day, week = _span(session.start_time, session, 1), _span(session.start_time, session, 7)
    if held.per_day is not None and _seats_within(held, *day) >= held.per_day:
        raise PassLimitReached(
            ngettext(
                "This pass takes %(num)d class a day.",
                "This pass takes %(num)d classes a day.",
                held.per_day,
            )
        )
    if held.per_week is not None and _seats_within(held, *week) >= held.per_week:
        raise PassLimitReached(
            ngettext(
                "This pass takes %(num)d class a week.",
                "This pass takes %(num)d classes a week.",
                held.per_week,
            )
        )


def check_pass_seat(
    user: User, held: ClassPass | None, locked: ServiceSession | None, now: datetime
) -> ClassPass:
    """May the client take a seat in the locked session with the locked pass? Every rule of a
    seat paid with a credit but the free seat itself (a waitlist offer already holds one)."""
    if held is None or held.user_id != user.id:
        raise NotPermitted(gettext("This pass is not yours."))
    _usable(held, now)
    if locked is None or locked.visibility == Visibility.PRIVATE:
        raise NotBookable(gettext("No such session."))
    if not is_eligible(held, locked.service):
        raise PassNotEligible(
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
    _check_limits(held, locked)
    return held


@unit_of_work
def book_with_pass(
    user: User, class_pass: ClassPass, session: ServiceSession, *, now: datetime | None = None
) -> Booking:
    """Take a seat in a group session with one credit of the client's pass."""
    now = now or utcnow()
    # The session first, then the pass (pass_credits: the order every spender keeps).
    locked = lock_session_with_service(session.id)
    held = check_pass_seat(user, lock_class_pass(class_pass.id), locked, now)
    assert locked is not None  # check_pass_seat refuses a missing session
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
