"""The practitioner's home: today's and tomorrow's sessions with who is coming, what needs
them, the week at a glance; a bounded number of queries whatever the data size."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from portal import booking
from portal.extensions import db
from portal.models import Booking, OrderStatus, Role, Room, User
from tests.fixtures.client_portal import full_workshop, text_of
from tests.fixtures.factories import future, make_user, make_workshop
from tests.fixtures.practice import count_statements


def local_day_at(practitioner, days: int, hour: int) -> datetime:
    """`hour` o'clock in the practitioner's zone, `days` from their today, as UTC."""
    today = datetime.now(practitioner.zone).date()
    moment = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=practitioner.zone)
    return moment.astimezone(UTC)


def row_of(html: str, session_id: int) -> str:
    """The dashboard's table row that links to the session."""
    for row in re.findall(r"<tr>.*?</tr>", html, re.S):
        if f'href="/calendar/sessions/{session_id}"' in row:
            return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    raise AssertionError(f"no row for session {session_id}")


def seat(user, session, *, paid: bool = True):
    """A seat booked the day before the session (today's may have started by now)."""
    now = min(datetime.now(UTC), session.start_time - timedelta(days=1))
    order = booking.book_workshop_seat(user, session, now=now)
    if paid and order.status != OrderStatus.PAID:
        booking.confirm_payment(order, now=now)
    return order


def test_today_and_tomorrow_show_who_is_coming_first_timers_marked(signed_in, practitioner):
    ana, ben = make_user(name="Ana Returning"), make_user(name="Ben Newcomer")
    earlier = make_workshop(practitioner, seats=4, start=local_day_at(practitioner, -7, 9))
    today = make_workshop(
        practitioner, seats=4, start=local_day_at(practitioner, 0, 12), name="Morning flow"
    )
    tomorrow = make_workshop(
        practitioner, seats=4, start=local_day_at(practitioner, 1, 18), name="Evening flow"
    )
    later = make_workshop(
        practitioner, seats=4, start=local_day_at(practitioner, 3, 9), name="Later flow"
    )
    elsewhere = make_workshop(
        make_user(Role.PRACTITIONER), start=local_day_at(practitioner, 0, 12), name="Not mine"
    )
    seat(ana, earlier)
    seat(ana, today)
    seat(ben, today)
    seat(ben, tomorrow)
    seat(make_user(name="Cleo Canceled"), tomorrow)
    cleo_seat = db.session.scalars(select(Booking).where(Booking.service_session_id == tomorrow.id))
    canceled = [b for b in cleo_seat if b.user.name == "Cleo Canceled"][0]
    # By the practitioner, who may at any hour: tomorrow evening is inside the client's
    # 24-hour window once the practitioner's clock passes 18:00, and CI runs in the evening.
    booking.cancel_booking(canceled, practitioner)

    html = signed_in(practitioner).get("/").text

    page = text_of_html(html)
    assert "Today" in page and "Tomorrow" in page
    morning = row_of(html, today.id)
    assert "Morning flow" in morning
    assert "Ana Returning" in morning and "Ben Newcomer first time" in morning
    assert "Ana Returning first time" not in morning
    evening = row_of(html, tomorrow.id)
    # Ben's first session is today's: tomorrow he is no longer new.
    assert "Ben Newcomer" in evening and "first time" not in evening
    assert "Cleo Canceled" not in evening
    assert "Later flow" not in page and "Not mine" not in page
    assert f'href="/calendar/sessions/{later.id}"' not in html
    assert f'href="/calendar/sessions/{elsewhere.id}"' not in html
    assert '<a class="button primary" href="/calendar/sessions/new">New session</a>' in html


def text_of_html(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_what_needs_them_unpaid_orders_and_unanswered_offers(signed_in, practitioner):
    dee = make_user(name="Dee Unpaid")
    workshop = make_workshop(
        practitioner, seats=3, name="Sound bath", price_cents=2500, start=future(5)
    )
    unpaid = seat(dee, workshop, paid=False)
    session, (holder,) = full_workshop(practitioner, seats=1, name="Full class")
    eve = make_user(name="Eve Waiting")
    entry = booking.join_waitlist(eve, session)
    held = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(held, holder)
    other = make_workshop(make_user(Role.PRACTITIONER), price_cents=1000, name="Someone else's")
    seat(make_user(name="Fay Elsewhere"), other, paid=False)

    web = signed_in(practitioner)
    html = web.get("/").text
    page = text_of_html(html)

    # Eve's offer holds a paid seat: her order awaits payment too.
    assert "2 orders awaiting payment" in page
    assert f'href="/orders/{unpaid.id}">Dee Unpaid: Sound bath</a>' in html
    assert f'href="/orders/{entry.order_id}">Eve Waiting: Full class</a>' in html
    assert "1 waitlist offer not yet answered" in page
    assert f'href="/calendar/sessions/{session.id}">Eve Waiting: Full class</a>' in html
    assert "answer by" in page
    assert "Fay Elsewhere" not in page and "Nothing waits for you." not in page
    assert web.get(f"/orders/{unpaid.id}").status_code == 200


def test_a_session_under_way_whose_room_nobody_opened_needs_them(signed_in, practitioner):
    now = datetime.now(UTC)
    under_way = make_workshop(practitioner, seats=3, start=now - timedelta(minutes=10), name="Yin")
    seat(make_user(), under_way)
    # Someone else's, and one of theirs with nobody booked: neither is theirs to open.
    seat(
        make_user(), make_workshop(make_user(Role.PRACTITIONER), start=now - timedelta(minutes=10))
    )
    make_workshop(practitioner, seats=3, start=now + timedelta(minutes=95), name="Later")
    web = signed_in(practitioner)

    html = web.get("/").text
    page = text_of_html(html)
    assert "1 session under way with its room still closed" in page
    todo = html.split("room still closed")[1].split("</ul>")[0]
    assert f'href="/calendar/sessions/{under_way.id}">Yin</a>' in todo
    assert "Nothing waits for you." not in page

    # LiveKit reported the room (the practitioner went in): nothing to do any more.
    db.session.add(
        Room(name=under_way.livekit_room_name, service_session_id=under_way.id, livekit_sid="RM_1")
    )
    db.session.commit()
    page = text_of(web.get("/"))
    assert "room still closed" not in page and "Nothing waits for you." in page


def test_nothing_to_do_says_so(signed_in, practitioner):
    page = text_of(signed_in(practitioner).get("/"))
    assert "Nothing waits for you." in page
    assert page.count("Nothing scheduled.") == 2


def test_the_week_at_a_glance_counts_bookings_and_money_received(signed_in, practitioner):
    workshop = make_workshop(practitioner, seats=5, price_cents=2500, start=future(5))
    seat(make_user(), workshop)
    seat(make_user(), workshop)
    seat(make_user(), workshop, paid=False)
    seat(make_user(), make_workshop(make_user(Role.PRACTITIONER), price_cents=9900))

    page = text_of(signed_in(practitioner).get("/"))

    assert "Bookings 3" in page
    assert "Revenue $50.00" in page


def test_the_dashboard_does_not_grow_with_the_data(signed_in, practitioner):
    web, practitioner_id = signed_in(practitioner), practitioner.id

    seen_last: list[str] = []

    def statements() -> int:
        db.session.remove()
        with count_statements() as seen:
            assert web.get("/").status_code == 200
        seen_last[:] = [" ".join(x.split())[:160] for x in seen]
        return len(seen)

    def add_day(n: int) -> None:
        practitioner = db.session.get(User, practitioner_id)
        for days in (0, 1):
            session = make_workshop(
                practitioner,
                seats=6,
                start=local_day_at(practitioner, days, 8 + 2 * n),
                price_cents=0,
            )
            for _ in range(3):
                seat(make_user(), session)
        unpaid = make_workshop(practitioner, seats=2, price_cents=500, start=future(5, 8 + 2 * n))
        seat(make_user(), unpaid, paid=False)
        full, (holder,) = full_workshop(practitioner, seats=1, start=future(6, 8 + 2 * n))
        booking.join_waitlist(make_user(), full)
        held = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
        booking.cancel_booking(held, holder)

    add_day(0)
    few = statements()
    for n in range(1, 6):
        add_day(n)
    many = statements()
    assert few == many
    # BEGIN, the signed-in user, 4 for the agenda, 1 for first-timers, 4 + 4 for the
    # to-dos (rows, their loads, a count), 1 for sessions whose room is closed, 1 (+ 2
    # loads when any) for the bookings missing a required intake form, 2 for the week.
    assert many <= 20, "\n".join(seen_last)
