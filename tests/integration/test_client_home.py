"""The client's home: upcoming sessions with join and reschedule, credits left with a Book
button each, orders awaiting payment, seats offered with their deadline, their practitioners."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Booking, Role, User
from tests.fixtures.client_portal import day_at, full_workshop, paid_bundle, text_of
from tests.fixtures.factories import make_service, make_user, make_workshop
from tests.fixtures.practice import count_statements


def test_the_client_home_shows_what_they_have_and_owe(signed_in, practitioner, client_user):
    consultation = make_service(practitioner, name="Consultation", price_cents=0)
    one_on_one = booking.book_individual_session(client_user, consultation, day_at(4, 15))
    seat = one_on_one.bookings[0]
    group = make_workshop(practitioner, name="Group breath", price_cents=0, start=day_at(5, 15))
    booking.book_workshop_seat(client_user, group)
    paid_bundle(client_user, practitioner, classes=3)
    unpaid = booking.book_workshop_seat(
        client_user, make_workshop(practitioner, name="Sound bath", start=day_at(6, 15))
    )
    full, (holder,) = full_workshop(practitioner, seats=1, name="Full flow", start=day_at(7, 15))
    booking.join_waitlist(client_user, full)
    held = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(held, holder)
    stranger = make_user(Role.PRACTITIONER, name="Never Booked")
    make_workshop(stranger, name="Not theirs")
    someone = make_user(name="Someone Else")
    booking.book_workshop_seat(someone, make_workshop(stranger, start=day_at(9, 9)))

    html = signed_in(client_user).get("/").text
    page = text_of_html(html)

    assert "Consultation" in page and "Group breath" in page
    # The 1-on-1 moves; a group seat meets at its set time.
    assert f'href="/bookings/{seat.id}/reschedule"' in html
    assert html.count("/reschedule") == 1
    assert "3 × Yoga class (3-class yoga pass)" in page
    credit = re.search(r'href="(/bookings/\d+/schedule)">Book<', html)
    assert credit, "no Book button for the credits"
    assert signed_in(client_user).get(credit.group(1)).status_code == 200
    assert "Awaiting your payment" in page
    assert f'href="/orders/{unpaid.id}">Sound bath: $50.00</a>' in html
    assert "Seats offered to you" in page and "Full flow" in page and "answer by" in page
    assert f'<a href="/book/practitioners/{practitioner.id}">{practitioner.name}</a>' in html
    assert "Never Booked" not in page and "Not theirs" not in page
    assert "Someone Else" not in page


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_client_with_nothing_sees_where_to_book(signed_in, client_user):
    page = text_of(signed_in(client_user).get("/"))
    assert "You have no upcoming sessions." in page and "No credits to use." in page
    assert "Book a session" in page
    assert "Awaiting your payment" not in page and "Seats offered to you" not in page


def test_the_client_home_does_not_grow_with_the_data(signed_in, practitioner, client_user):
    web, client_id = signed_in(client_user), client_user.id

    def statements() -> int:
        db.session.remove()
        with count_statements() as seen:
            assert web.get("/").status_code == 200
        return len(seen)

    def add(n: int) -> None:
        client, other = db.session.get(User, client_id), make_user(Role.PRACTITIONER)
        for who in (practitioner, other):
            who = db.session.merge(who)
            paid_bundle(client, who, classes=2)
            booking.book_workshop_seat(client, make_workshop(who, start=day_at(3 + n, 9)))

    add(0)
    few = statements()
    for n in range(1, 5):
        add(n)
    many = statements()
    assert few == many
