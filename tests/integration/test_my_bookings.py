"""My bookings: sections, rescheduling, canceling, joining, waitlist (credits: test_packages.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.fixtures.client_portal import day_at, full_workshop, paid_bundle, text_of
from tests.fixtures.factories import make_course, make_service, make_user, make_workshop
from tests.fixtures.l10n import read, shown

# The confirm step answered: the browser's dialog (htmx) or the confirm page sends this.
CONFIRMED = {"confirmed": "y"}


def test_sections_show_upcoming_past_and_credits(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=5, name="Breathwork")
    booking.confirm_payment(booking.book_workshop_seat(client_user, session))
    past = make_workshop(practitioner, seats=5, name="Old workshop", start=day_at(-7, 10))
    booked_at = utcnow() - timedelta(days=20)
    booking.confirm_payment(booking.book_workshop_seat(client_user, past, now=booked_at))
    paid_bundle(client_user, practitioner, classes=3, validity_days=30)
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))

    upcoming = page.split("Upcoming", 1)[1].split("Unscheduled credits", 1)[0]
    assert "Breathwork" in upcoming and "Old workshop" not in upcoming
    assert "Old workshop" in page.split("Past", 1)[1]
    credits = page.split("Unscheduled credits", 1)[1].split("Past", 1)[0]
    assert "3-class yoga pass" in credits and "3 of 3 credits left" in credits
    order = db.session.scalars(select(Booking).where(Booking.status == "draft")).first().order
    expires = booking.credit_expires_at(order)
    assert read(f"Use by {shown(expires, 'date', client_user.zone)}") in credits
    # One pass with its count and one way to schedule the next class (was one button per credit).
    assert credits.count("Schedule") == 1 and "3 × Yoga class (60 min)" in credits


def test_reschedule_inside_the_window(signed_in, practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=1)
    credit = order.bookings[0]
    booking.schedule_credit(credit, day_at(4, 9))
    client = signed_in(client_user)
    assert "Reschedule" in text_of(client.get("/bookings/"))

    new_start = day_at(6, 14)
    response = client.post(
        f"/bookings/{credit.id}/reschedule", data={"start": new_start.isoformat()}
    )

    assert response.status_code == 302
    db.session.refresh(credit)
    assert credit.get_start_time() == new_start
    assert credit.service_session.revision >= 1
    assert "is moved for" in text_of(client.get("/bookings/"))


def test_past_the_cut_off_the_buttons_say_why_and_the_post_is_refused(
    signed_in, practitioner, client_user
):
    service = make_service(practitioner, cancellation_cutoff_hours=48)
    start = day_at(1, 23)
    order = booking.book_individual_session(client_user, service, start)
    booking.confirm_payment(order)
    seat = order.bookings[0]
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))
    assert "Reschedule unavailable: Online changes closed 48 hours before the start" in page
    assert "Cancel unavailable" not in page  # one reason covers both buttons
    assert f'action="/bookings/{seat.id}/cancel"' not in client.get("/bookings/").get_data(
        as_text=True
    )

    response = client.post(f"/bookings/{seat.id}/cancel", data=CONFIRMED)
    assert response.status_code == 409
    assert "can be canceled online up to 48 hours" in text_of(response)
    response = client.post(
        f"/bookings/{seat.id}/reschedule", data={"start": day_at(7, 10).isoformat()}
    )
    assert response.status_code == 409
    assert "can be rescheduled online up to 48 hours" in text_of(response)
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CONFIRMED and seat.get_start_time() == start


def test_a_workshop_seat_says_it_cannot_be_rescheduled(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    client = signed_in(client_user)
    page = text_of(client.get("/bookings/"))
    assert "Reschedule unavailable: A seat in a workshop cannot be moved" in page
    assert "Cancel" in page
    response = client.post(
        f"/bookings/{seat.id}/reschedule", data={"start": day_at(9, 10).isoformat()}
    )
    assert response.status_code == 409
    assert "cannot be moved to another time" in text_of(response)


def test_inside_the_cut_off_a_workshop_seat_still_says_it_never_moves(
    signed_in, practitioner, client_user
):
    session = make_workshop(
        practitioner, seats=3, start=day_at(1, 23), cancellation_cutoff_hours=48
    )
    booking.book_workshop_seat(client_user, session)
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))
    assert "Reschedule unavailable: A seat in a workshop cannot be moved" in page
    assert "Online changes closed 48 hours" not in page.split("Cancel unavailable")[0]
    assert "Cancel unavailable: Online changes closed 48 hours before the start" in page


def test_an_expired_hold_shows_as_such(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    booking.book_workshop_seat(client_user, session, now=utcnow() - timedelta(hours=1))
    booking.release_expired_holds()
    page = text_of(signed_in(client_user).get("/bookings/"))
    assert "Hold expired before payment" in page


def test_someone_elses_booking_is_not_found(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    seat = booking.book_workshop_seat(make_user(), session).bookings[0]
    client = signed_in(client_user)
    assert client.post(f"/bookings/{seat.id}/cancel", data=CONFIRMED).status_code == 404
    assert client.get(f"/bookings/{seat.id}/reschedule").status_code == 404


def _starting_soon(practitioner, client_user):
    session = make_workshop(practitioner, seats=3, start=utcnow() + timedelta(minutes=10))
    booking.confirm_payment(booking.book_workshop_seat(client_user, session))
    return session


def test_join_links_to_the_room_shortly_before_start(app, signed_in, practitioner, client_user):
    session = _starting_soon(practitioner, client_user)
    later = make_workshop(practitioner, seats=3, start=day_at(8, 10))
    booking.confirm_payment(booking.book_workshop_seat(client_user, later))

    html = signed_in(client_user).get("/bookings/").get_data(as_text=True)

    assert f'href="/sessions/{session.id}/join"' in html
    assert f'href="/sessions/{later.id}/join"' not in html


def test_waitlist_through_the_pages(signed_in, practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0)
    client = signed_in(client_user)

    response = client.post(f"/book/sessions/{session.id}/waitlist", follow_redirects=True)
    assert "You are on the waitlist" in text_of(response)
    assert "On the waitlist" in text_of(client.get("/bookings/"))

    seat = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(seat, holder)

    page = text_of(client.get("/bookings/"))
    assert "A seat is held for you" in page and "Accept the seat" in page
    entry = db.session.scalars(select(WaitlistEntry)).one()
    response = client.post(f"/bookings/waitlist/{entry.id}/accept", follow_redirects=True)
    assert "The seat is yours" in text_of(response)
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.CLAIMED


def test_joining_the_waitlist_of_a_workshop_with_seats_is_refused(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=2)
    response = signed_in(client_user).post(f"/book/sessions/{session.id}/waitlist")
    assert response.status_code == 409
    assert "has seats left: book one directly" in text_of(response)
    assert db.session.scalars(select(WaitlistEntry)).all() == []


def test_declining_a_paid_offer_passes_it_on(signed_in, practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    nxt = booking.join_waitlist(make_user(), session)
    seat = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(seat, holder)
    client = signed_in(client_user)
    page = text_of(client.get("/bookings/"))
    assert "Pay for it to claim it" in page and "Accept the seat" not in page

    response = client.post(f"/bookings/waitlist/{entry.id}/leave", follow_redirects=True)

    assert "You declined the seat." in text_of(response)
    db.session.refresh(nxt)
    assert nxt.status == WaitlistStatus.OFFERED


def test_accepting_an_expired_offer_shows_the_hold_expired_message(
    signed_in, practitioner, client_user
):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0)
    entry = booking.join_waitlist(client_user, session)
    seat = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(seat, holder, now=utcnow() - timedelta(hours=3))
    client = signed_in(client_user)

    response = client.post(f"/bookings/waitlist/{entry.id}/accept")

    assert response.status_code == 409
    assert "This offer has lapsed" in text_of(response)
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.OFFERED


def test_rescheduling_a_booking_whose_hold_expired_says_so(signed_in, practitioner, client_user):
    service = make_service(practitioner)
    order = booking.book_individual_session(
        client_user, service, day_at(5, 10), now=utcnow() - timedelta(hours=1)
    )
    seat = order.bookings[0]
    client = signed_in(client_user)

    response = client.post(
        f"/bookings/{seat.id}/reschedule", data={"start": day_at(6, 10).isoformat()}
    )

    assert response.status_code == 409
    assert "The hold on this booking expired before payment" in text_of(response)
    db.session.refresh(seat)
    assert seat.status == BookingStatus.PENDING_PAYMENT
    assert seat.get_start_time() == day_at(5, 10)


def test_canceling_twice_says_it_is_already_canceled(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3)
    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    client = signed_in(client_user)
    assert client.post(f"/bookings/{seat.id}/cancel", data=CONFIRMED).status_code == 302

    response = client.post(f"/bookings/{seat.id}/cancel", data=CONFIRMED)

    assert response.status_code == 409
    assert "This booking is already canceled." in text_of(response)


def test_a_course_is_one_group_and_canceling_a_session_says_only_that_session(
    signed_in, practitioner, client_user
):
    course = make_course(practitioner, sessions=3, name="Spring Yin course")
    booking.confirm_payment(booking.enroll_in_course(client_user, course))
    client = signed_in(client_user)

    page = text_of(client.get("/bookings/"))
    upcoming = page.split("Upcoming", 1)[1].split("Unscheduled credits", 1)[0]
    assert upcoming.count("Spring Yin course with") == 1
    assert upcoming.count("cannot be moved") == 1
    assert all(f"Spring Yin course · session {n}" in upcoming for n in (1, 2, 3))

    second = db.session.scalars(
        select(Booking).where(Booking.user_id == client_user.id).order_by(Booking.id)
    ).all()[1]
    response = client.post(f"/bookings/{second.id}/cancel", data=CONFIRMED, follow_redirects=True)

    page = text_of(response)
    assert "Your seat in Spring Yin course · session 2 on" in page
    assert "your other Spring Yin course sessions stay booked" in page
    assert "Spring Yin course is canceled" not in page
