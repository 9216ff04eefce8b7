"""One entry point that buys any of the five service types: it picks the seed's
BookingFactory pattern from the service's type and checks the caller gave what
that pattern needs (a start time, a session) and nothing it does not."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext

from ..core.errors import InvalidInput, NotBookable
from ..core.transactions import inside_unit_of_work, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import Order, Service, ServiceSession, ServiceType, User, Visibility
from . import express
from .class_passes import buy_class_pass
from .factory import (
    book_individual_session,
    book_workshop_seat,
    buy_credits,
    enroll_in_course,
    take_workshop_seat,
)
from .locks import lock_session_with_service


def _refuse_extra(given: object, field: str, service: Service) -> None:
    if given is not None:
        raise InvalidInput(
            gettext(
                "%(field)s does not apply to a %(service_type_label)s.",
                field=field,
                service_type_label=service.service_type.label,
            ),
            field=field,
        )


def purchase(
    user: User,
    service: Service,
    *,
    start_time: datetime | None = None,
    session: ServiceSession | None = None,
    now: datetime | None = None,
    order: Order | None = None,
) -> Order:
    """Buy `service` for `user`; with `order`, the bookings join that existing order."""
    kind = service.service_type
    if kind == ServiceType.INDIVIDUAL:
        _refuse_extra(session, "service_session_id", service)
        if start_time is None:
            raise InvalidInput(
                gettext("Choose a start time for an individual session."), field="start_time"
            )
        return book_individual_session(user, service, start_time, now=now, order=order)
    _refuse_extra(start_time, "start_time", service)
    if kind == ServiceType.WORKSHOP:
        if session is None or session.service_id != service.id:
            raise InvalidInput(
                gettext(
                    "Choose one of the sessions of %(service_name)s.", service_name=service.name
                ),
                field="service_session_id",
            )
        return book_workshop_seat(user, session, now=now, order=order)
    _refuse_extra(session, "service_session_id", service)
    if kind == ServiceType.COURSE:
        return enroll_in_course(user, service, now=now, order=order)
    if kind == ServiceType.CLASS_PASS:
        return buy_class_pass(user, service, now=now, order=order)
    if kind == ServiceType.MEMBERSHIP:
        # Billed every period by Stripe: subscribed to on Checkout, never bought as an order.
        raise NotBookable(
            gettext("Subscribe to %(service_name)s from its page.", service_name=service.name)
        )
    return buy_credits(user, service, now=now, order=order)


def _no_such(field: str, what: str) -> InvalidInput:
    return InvalidInput(gettext("No such %(what)s.", what=what), field=field)


def purchase_by_ids(
    user: User,
    service_id: int,
    *,
    service_session_id: int | None = None,
    start_time: datetime | None = None,
    now: datetime | None = None,
    unless: express.Unless | None = None,
) -> Order | express.Sale:
    """`purchase` for a caller that holds ids (an API body): unknown ids are
    InvalidInput on their field. A workshop seat takes the express path when it can
    (express.py: the busiest request of all when a workshop opens), which answers with
    the Sale it wrote instead of the Order (read it by the Sale's id if needed). With
    `unless`, its refusal is raised before anything is bought if its clause holds."""
    if service_session_id is not None:
        if start_time is None and not inside_unit_of_work():
            # Its own unit of work, which a lost seat rolls back as a whole (express.py):
            # inside a caller's unit (an idempotent purchase) it could not, so that one
            # locks first.
            try:
                sale = _express_seat(user, service_id, service_session_id, now, unless)
            except express.SeatGone:
                sale = None
            if sale is not None:
                return sale
        return _seat_by_ids(user, service_id, service_session_id, start_time, now, unless)
    if unless is not None and unless.holds():
        raise unless.refusal()
    service = db.session.get(Service, service_id)
    if service is None:
        raise _no_such("service_id", "service")
    return purchase(user, service, start_time=start_time, now=now)


@unit_of_work
def _express_seat(
    user: User,
    service_id: int,
    session_id: int,
    now: datetime | None,
    unless: express.Unless | None,
) -> express.Sale | None:
    """The seat bought with its session row read unlocked (express.py), or None when the
    express path does not take it."""
    now = now or utcnow()
    row = express.read_seat(session_id, unless)
    if row is None or not express.takes(row, service_id, now):
        return None
    return express.sell_seat(user, row, now)


@unit_of_work
def _seat_by_ids(
    user: User,
    service_id: int,
    session_id: int,
    start_time: datetime | None,
    now: datetime | None,
    unless: express.Unless | None,
) -> Order | express.Sale:
    now = now or utcnow()
    row = express.lock_seat(session_id, unless)
    if row is not None and start_time is None and express.takes(row, service_id, now):
        return express.sell_seat(user, row, now)
    locked = lock_session_with_service(session_id)
    if locked is not None and locked.visibility == Visibility.PRIVATE:
        # A private session is its practitioner's to fill: to a buyer it does not exist,
        # as on the shop's pages.
        locked = None
    if (
        locked is not None
        and locked.service_id == service_id
        and locked.service.service_type == ServiceType.WORKSHOP
        and start_time is None
    ):
        return take_workshop_seat(user, locked, now=now)
    # Anything else is refused by purchase() with the message it always gives.
    service = db.session.get(Service, service_id)
    if service is None:
        raise _no_such("service_id", "service")
    if locked is None:
        raise _no_such("service_session_id", "session")
    return purchase(user, service, start_time=start_time, session=locked, now=now)
