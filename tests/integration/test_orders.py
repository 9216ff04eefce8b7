"""The order page, the practitioner's pending orders, marking paid, late payments."""

from __future__ import annotations

from datetime import timedelta

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import BookingStatus, OrderStatus, Role, ServiceType
from tests.fixtures.client_portal import day_at, make_bundle, text_of
from tests.fixtures.factories import make_service, make_user, make_workshop
from tests.fixtures.l10n import read, shown, shown_money


def test_order_page_shows_status_total_hold_in_the_clients_zone_and_instructions(
    signed_in, practitioner
):
    tokyo = make_user(Role.CLIENT, timezone="Asia/Tokyo")
    session = make_workshop(practitioner, seats=5, price_cents=3500)
    order = booking.book_workshop_seat(tokyo, session)
    client = signed_in(tokyo)

    page = text_of(client.get(f"/orders/{order.id}"))

    assert "pending" in page and read(shown_money(3500)) in page
    held_until = shown(order.hold_expires_at, zone=tokyo.zone)
    assert read(f"Seats held until {held_until} (Asia/Tokyo)") in page
    assert "Awaiting payment" in page
    assert f"quoting the reference EST-{order.id:06d}" in page
    assert "Mark paid" not in page


def test_a_workshop_order_still_lists_seats_at_their_time(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=5, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)
    client = signed_in(client_user)

    page = text_of(client.get(f"/orders/{order.id}"))

    assert "Your seat is held until" in page and "Bookings in this order" in page
    assert read(shown(session.start_time, zone=client_user.zone)) in page
    assert "credit" not in page.lower() and "not scheduled yet" not in page


def test_an_order_is_private_to_its_client_and_its_practitioner(signed_in, practitioner):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(make_user(), session)
    other_practitioner = make_user(Role.PRACTITIONER)
    client = signed_in(make_user())
    assert client.get(f"/orders/{order.id}").status_code == 404
    client.post("/auth/logout")
    signed_in(other_practitioner)
    assert client.get(f"/orders/{order.id}").status_code == 404
    assert client.post(f"/orders/{order.id}/mark-paid").status_code == 404


def test_practitioner_lists_only_their_pending_orders_and_marks_one_paid(
    signed_in, practitioner, client_user
):
    mine = make_workshop(practitioner, seats=5, name="Breathwork")
    theirs = make_workshop(make_user(Role.PRACTITIONER), seats=5, name="Pottery")
    order = booking.book_workshop_seat(client_user, mine)
    booking.book_workshop_seat(client_user, theirs)
    client = signed_in(practitioner)

    page = text_of(client.get("/orders/"))
    assert "Breathwork" in page and "Pottery" not in page and client_user.name in page

    response = client.post(f"/orders/{order.id}/mark-paid", data={"reference": "bank 42"})

    assert response.status_code == 302
    db.session.refresh(order)
    assert order.status == OrderStatus.PAID and order.payment_reference == "bank 42"
    assert order.bookings[0].status == BookingStatus.CONFIRMED
    assert "No orders are awaiting payment" in text_of(client.get(response.location))


def test_staff_see_every_pending_order(signed_in, practitioner, client_user, staff_user):
    session = make_workshop(practitioner, seats=5, name="Breathwork")
    booking.book_workshop_seat(client_user, session)
    client = signed_in(staff_user)
    assert "Breathwork" in text_of(client.get("/orders/"))


def test_clients_cannot_open_the_orders_list(signed_in, client_user):
    assert signed_in(client_user).get("/orders/").status_code == 403


def test_late_payment_takes_a_seat_that_is_still_free(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=1)
    order = booking.book_workshop_seat(client_user, session, now=utcnow() - timedelta(hours=1))
    booking.release_expired_holds()
    db.session.refresh(session)
    assert session.current_participants == 0
    client = signed_in(practitioner)
    # The expired order left the awaiting-payment list; the filter still shows it.
    assert "hold expired" in text_of(client.get("/orders/?status=expired"))

    response = client.post(f"/orders/{order.id}/mark-paid", data={"reference": "late"})

    assert response.status_code == 302
    db.session.refresh(order)
    db.session.refresh(session)
    assert order.status == OrderStatus.PAID
    assert session.current_participants == 1


def test_late_payment_for_a_seat_gone_shows_why_and_changes_nothing(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=1)
    order = booking.book_workshop_seat(client_user, session, now=utcnow() - timedelta(hours=1))
    taker = make_user()
    booking.book_workshop_seat(taker, session)  # finds the expired hold and takes the seat
    client = signed_in(practitioner)

    response = client.post(f"/orders/{order.id}/mark-paid", data={"reference": "late"})

    assert response.status_code == 409
    page = text_of(response)
    assert "expired before payment" in page and "is full" in page
    db.session.refresh(order)
    db.session.refresh(session)
    # Its hold expired and its seat is gone: the order is expired (was: left pending).
    assert order.status == OrderStatus.EXPIRED
    assert [b.status for b in order.bookings] == [BookingStatus.CANCELED]
    assert session.current_participants == 1


def test_a_late_individual_slot_taken_by_another_is_refused(signed_in, practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = day_at(5, 11)
    order = booking.book_individual_session(
        client_user, service, start, now=utcnow() - timedelta(hours=1)
    )
    booking.book_individual_session(make_user(), service, start)
    client = signed_in(practitioner)

    response = client.post(f"/orders/{order.id}/mark-paid", data={})

    assert response.status_code == 409
    assert "That time is no longer available." in text_of(response)
    db.session.refresh(order)
    # Its hold expired and released its slot: expired (was: left pending).
    assert order.status == OrderStatus.EXPIRED


def test_marking_an_already_paid_order_is_refused(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=2)
    order = booking.book_workshop_seat(client_user, session)
    booking.confirm_payment(order)
    client = signed_in(practitioner)
    response = client.post(f"/orders/{order.id}/mark-paid", data={"reference": "again"})
    assert response.status_code == 409
    assert "not awaiting payment" in text_of(response)


def test_an_overlong_reference_is_a_field_error(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=2)
    order = booking.book_workshop_seat(client_user, session)
    client = signed_in(practitioner)
    response = client.post(f"/orders/{order.id}/mark-paid", data={"reference": "x" * 121})
    assert response.status_code == 422
    assert "under 120 characters" in text_of(response)
    db.session.refresh(order)
    assert order.status == OrderStatus.PENDING


def test_the_manual_provider_is_the_default_and_registered(app):
    provider = booking.get_provider(app.config["PORTAL_PAYMENT_PROVIDER"])
    assert provider.name == "manual"


def test_an_unpaid_order_canceled_by_its_client_leaves_the_pending_list(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=2, name="Breathwork")
    order = booking.book_workshop_seat(client_user, session)
    booking.cancel_booking(order.bookings[0], client_user)
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELED
    page = text_of(signed_in(practitioner).get("/orders/"))
    assert "No orders are awaiting payment" in page


def test_the_order_page_follows_its_provider(
    redirect_provider, signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    order = booking.book_workshop_seat(client_user, session)

    html = signed_in(client_user).get(f"/orders/{order.id}").get_data(as_text=True)

    assert "Pay by card on the next page." in html
    assert f'href="https://pay.example.com/checkout/{order.id}"' in html


def test_marking_a_bundle_paid_says_its_credits_await_scheduling(
    signed_in, practitioner, client_user
):
    order = booking.buy_credits(client_user, make_bundle(practitioner, classes=10))
    client = signed_in(practitioner)

    response = client.post(
        f"/orders/{order.id}/mark-paid", data={"reference": "bank 7"}, follow_redirects=True
    )

    page = text_of(response)
    assert f"its 10 credits are ready for {client_user.name} to schedule" in page
    assert "is marked paid; its bookings are confirmed" not in page
    db.session.refresh(order)
    assert order.status == OrderStatus.PAID
    assert {b.status for b in order.bookings} == {BookingStatus.DRAFT}


def test_an_order_whose_hold_expired_expires_and_leaves_the_awaiting_payment_list(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=2)
    order = booking.book_workshop_seat(client_user, session, now=utcnow() - timedelta(hours=1))
    client = signed_in(practitioner)
    assert f"order-{order.id}" in client.get("/orders/").text

    assert booking.release_expired_holds() == 1

    db.session.refresh(order)
    assert order.status == OrderStatus.EXPIRED
    assert f"order-{order.id}" not in client.get("/orders/").text
    expired = client.get("/orders/?status=expired").text
    assert f"order-{order.id}" in expired and "Orders whose hold expired" in expired
    # Releasing again finds nothing: an expired order is no longer pending.
    assert booking.release_expired_holds() == 0
    db.session.refresh(order)
    assert order.status == OrderStatus.EXPIRED


def test_a_credit_order_whose_hold_expired_lapses_and_its_page_says_so(
    signed_in, practitioner, client_user
):
    order = booking.buy_credits(
        client_user, make_bundle(practitioner, classes=2), now=utcnow() - timedelta(hours=1)
    )
    booking.release_expired_holds()
    db.session.refresh(order)
    # Its credits lapse for real, as held seats do (#20): none is left to schedule.
    assert order.status == OrderStatus.EXPIRED
    assert {b.status for b in order.bookings} == {BookingStatus.CANCELED}
    assert "the credits were released" in signed_in(client_user).get(f"/orders/{order.id}").text
