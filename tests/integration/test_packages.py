"""Packages and bundles: defining one, buying it, the client's credits and scheduling one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import Booking, BookingStatus, Order, Service, ServiceType, SessionStatus
from tests.fixtures.client_portal import day_at, make_bundle, paid_bundle, text_of
from tests.fixtures.factories import make_service, make_user, open_all_week
from tests.fixtures.l10n import read, shown
from tests.fixtures.practice import SERVICE_FORM


def drafts(order) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.order_id == order.id, Booking.status == BookingStatus.DRAFT)
    )


# -- Defining a package or bundle (the practitioner's service form) ----------------------


def test_a_bundle_with_two_different_services_is_refused_inline(signed_in, practitioner):
    a = make_service(practitioner, ServiceType.INDIVIDUAL)
    b = make_service(practitioner, ServiceType.INDIVIDUAL)
    data = {
        **SERVICE_FORM,
        "name": "Ten pack",
        "service_type": "bundle",
        "validity_days": "180",
        "components-0-included": str(a.id),
        "components-0-quantity": "5",
        "components-1-included": str(b.id),
        "components-1-quantity": "5",
    }
    html = signed_in(practitioner).post("/practice/packages/new", data=data).text
    assert "A bundle contains exactly one service." in html
    assert db.session.scalar(select(func.count(Service.id))) == 2


def test_editing_a_package_changes_its_contents(signed_in, practitioner):
    massage = make_service(practitioner, ServiceType.INDIVIDUAL, name="Massage")
    package = make_service(
        practitioner, ServiceType.PACKAGE, name="Reset", components=[(massage, 2)], validity_days=90
    )
    web = signed_in(practitioner)
    form = web.get(f"/practice/packages/{package.id}/edit").text
    assert 'value="Reset"' in form and "disabled" in form
    data = {
        **SERVICE_FORM,
        "name": "Reset",
        "validity_days": "90",
        "components-0-included": str(massage.id),
        "components-0-quantity": "4",
    }
    data.pop("service_type")
    assert web.post(f"/practice/packages/{package.id}/edit", data=data).status_code == 302
    html = web.get("/practice/services/").text
    assert "4 × Massage" in html and "valid 90 days" in html


# -- Buying one -------------------------------------------------------------------------


def test_buying_a_package_gives_unscheduled_credits(signed_in, practitioner, client_user):
    consult = make_service(practitioner, name="Consultation")
    massage = make_service(practitioner, name="Massage")
    package = make_service(
        practitioner,
        ServiceType.PACKAGE,
        name="Starter package",
        components=[(consult, 1), (massage, 3)],
        validity_days=180,
    )
    client = signed_in(client_user)

    page = text_of(client.get(f"/book/services/{package.id}"))
    assert "3 × Massage" in page and "within 180 days" in page

    client.post(f"/book/packages/{package.id}/buy")

    order = db.session.scalars(select(Order)).one()
    assert [b.status for b in order.bookings] == [BookingStatus.DRAFT] * 4
    mine = text_of(client.get("/bookings/"))
    assert "Starter package" in mine and "4 of 4 credits left" in mine


def test_buying_a_bundle_gives_ten_credits(signed_in, practitioner, client_user):
    bundle = make_bundle(practitioner, classes=10)
    client = signed_in(client_user)
    response = client.post(f"/book/packages/{bundle.id}/buy")
    assert response.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert len(order.bookings) == 10
    assert all(b.service_session.status == SessionStatus.DRAFT for b in order.bookings)


def test_a_bundle_order_lists_credits_not_seats(signed_in, practitioner, client_user):
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=2))
    open_all_week(practitioner)
    # Unpaid credits are not the client's yet (#20): none can be scheduled.
    with pytest.raises(booking.NotBookable):
        booking.schedule_credit(order.bookings[0], day_at(5, 10))
    client = signed_in(client_user)

    page = text_of(client.get(f"/orders/{order.id}"))

    assert "Credits held until" in page and "Your credits are held until" in page
    assert "seat" not in page.lower()
    assert "Credits in this order" in page
    assert page.count("not scheduled yet") == 2


# -- The client's credits and scheduling one ----------------------------------------------


def test_scheduling_a_credit_in_the_slot_picker_confirms_it(signed_in, practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=2)
    credit = order.bookings[0]
    client = signed_in(client_user)
    day = day_at(4, 12).astimezone(client_user.zone).date()

    picker = text_of(client.get(f"/bookings/{credit.id}/schedule?day={day.isoformat()}"))
    assert "Schedule Yoga class" in picker and read(shown(day, "long-date")) in picker

    start = day_at(4, 9)
    response = client.post(f"/bookings/{credit.id}/schedule", data={"start": start.isoformat()})

    assert response.status_code == 302
    db.session.refresh(credit)
    assert credit.status == BookingStatus.CONFIRMED and credit.get_start_time() == start
    page = text_of(client.get("/bookings/"))
    assert "1 of 2 credits left" in page
    assert "is scheduled for" in page


def test_a_credit_of_an_unpaid_order_cannot_be_scheduled(signed_in, practitioner, client_user):
    """Until #20 it was scheduled awaiting payment, confirmed to the client, then lost when
    the order lapsed unpaid."""
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=2))
    client = signed_in(client_user)
    response = client.post(
        f"/bookings/{order.bookings[0].id}/schedule", data={"start": day_at(4, 9).isoformat()}
    )
    assert response.status_code == 409
    assert "once its order" in text_of(response)
    db.session.refresh(order.bookings[0])
    assert order.bookings[0].status == BookingStatus.DRAFT


def test_an_expired_credit_cannot_be_scheduled(signed_in, practitioner, client_user):
    bundle = make_bundle(practitioner, classes=2, validity_days=30)
    order = booking.buy_credits(client_user, bundle, now=utcnow() - timedelta(days=31))
    booking.confirm_payment(order, now=utcnow() - timedelta(days=31))
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))
    assert "Expired on" in page and "Schedule" not in page.split("Unscheduled credits")[1]

    credit = order.bookings[0]
    response = client.post(
        f"/bookings/{credit.id}/schedule", data={"start": day_at(4, 9).isoformat()}
    )
    assert response.status_code == 409
    assert "This credit expired on" in text_of(response)
    db.session.refresh(credit)
    assert credit.status == BookingStatus.DRAFT


def test_scheduling_a_used_credit_again_is_refused(signed_in, practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=2)
    credit = order.bookings[0]
    booking.schedule_credit(credit, day_at(4, 9))
    client = signed_in(client_user)
    response = client.post(
        f"/bookings/{credit.id}/schedule", data={"start": day_at(5, 9).isoformat()}
    )
    assert response.status_code == 409
    assert "already been used" in text_of(response)
    db.session.refresh(credit)
    assert credit.get_start_time() == day_at(4, 9)


def test_a_time_taken_meanwhile_re_renders_the_picker(signed_in, practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=2)
    taken = day_at(4, 9)
    booking.book_individual_session(make_user(), make_service(practitioner), taken)
    client = signed_in(client_user)
    response = client.post(
        f"/bookings/{order.bookings[0].id}/schedule", data={"start": taken.isoformat()}
    )
    assert response.status_code == 409
    page = text_of(response)
    assert "That time is no longer available." in page and "Previous day" in page
    assert drafts(order) == 2


def test_canceling_a_credit_inside_the_window_returns_it(signed_in, practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=2)
    credit = order.bookings[0]
    booking.schedule_credit(credit, day_at(5, 9))
    client = signed_in(client_user)

    response = client.post(
        f"/bookings/{credit.id}/cancel", data={"confirmed": "y"}, follow_redirects=True
    )

    page = text_of(response)
    assert "Your credit is returned" in page
    assert "2 of 2 credits left" in page
    assert "Canceled: credit returned" in page
    assert drafts(order) == 2


def test_a_late_cancel_by_the_practitioner_shows_the_credit_forfeited(
    signed_in, practitioner, client_user
):
    order = paid_bundle(client_user, practitioner, classes=2)
    credit = order.bookings[0]
    start = day_at(5, 9)
    booking.schedule_credit(credit, start)
    booking.cancel_booking(
        credit, practitioner, client_requested=True, now=start - timedelta(hours=2)
    )
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))

    assert "Late cancel: credit forfeited" in page
    assert "1 of 2 credits left" in page
