"""One entry point that buys any of the five service types: it picks the seed's
BookingFactory pattern from the service's type and checks the caller gave what
that pattern needs (a start time, a session) and nothing it does not."""

from __future__ import annotations

from datetime import datetime

from ..models import Order, Service, ServiceSession, ServiceType, User
from .errors import InvalidInput
from .factory import book_individual_session, book_workshop_seat, buy_credits, enroll_in_course


def _refuse_extra(given: object, field: str, service: Service) -> None:
    if given is not None:
        raise InvalidInput(
            f"{field} does not apply to a {service.service_type.label}.", field=field
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
            raise InvalidInput("Choose a start time for an individual session.", field="start_time")
        return book_individual_session(user, service, start_time, now=now, order=order)
    _refuse_extra(start_time, "start_time", service)
    if kind == ServiceType.WORKSHOP:
        if session is None or session.service_id != service.id:
            raise InvalidInput(
                f"Choose one of the sessions of {service.name}.", field="service_session_id"
            )
        return book_workshop_seat(user, session, now=now, order=order)
    _refuse_extra(session, "service_session_id", service)
    if kind == ServiceType.COURSE:
        return enroll_in_course(user, service, now=now, order=order)
    return buy_credits(user, service, now=now, order=order)
