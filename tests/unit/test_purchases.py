"""booking.purchase(): one entry point, the seed's five patterns behind it."""

from __future__ import annotations

import pytest

from portal import booking
from portal.models import BookingStatus, ServiceType, SessionType
from tests.fixtures.factories import future, make_course, make_service, make_workshop


def test_individual_needs_a_start_time_and_no_session(practitioner, client_user):
    service = make_service(practitioner)
    with pytest.raises(booking.InvalidInput) as missing:
        booking.purchase(client_user, service)
    assert missing.value.field == "start_time"
    workshop = make_workshop(practitioner)
    with pytest.raises(booking.InvalidInput) as extra:
        booking.purchase(client_user, service, start_time=future(), session=workshop)
    assert extra.value.field == "service_session_id"

    order = booking.purchase(client_user, service, start_time=future(days=4))
    assert order.bookings[0].service_session.session_type == SessionType.INDIVIDUAL


def test_workshop_needs_one_of_its_own_sessions(practitioner, client_user):
    session = make_workshop(practitioner)
    other = make_workshop(practitioner, start=future(days=9))
    with pytest.raises(booking.InvalidInput) as missing:
        booking.purchase(client_user, session.service)
    assert missing.value.field == "service_session_id"
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, session.service, session=other)
    with pytest.raises(booking.InvalidInput) as extra:
        booking.purchase(client_user, session.service, session=session, start_time=future())
    assert extra.value.field == "start_time"

    order = booking.purchase(client_user, session.service, session=session)
    assert order.bookings[0].service_session_id == session.id


def test_course_package_bundle_take_the_service_alone(practitioner, client_user):
    course = make_course(practitioner, sessions=2)
    yoga = make_service(practitioner)
    package = make_service(practitioner, ServiceType.PACKAGE, components=[(yoga, 2)])
    bundle = make_service(practitioner, ServiceType.BUNDLE, components=[(yoga, 3)])
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, course, start_time=future())
    with pytest.raises(booking.InvalidInput):
        booking.purchase(client_user, package, session=make_workshop(practitioner))

    assert len(booking.purchase(client_user, course).bookings) == 2
    assert len(booking.purchase(client_user, package).bookings) == 2
    credits = booking.purchase(client_user, bundle).bookings
    assert len(credits) == 3 and {b.status for b in credits} == {BookingStatus.DRAFT}
