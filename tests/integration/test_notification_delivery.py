"""The domain's operations reach the right people by email, through a real SMTP server:
a purchase, a payment, a cancel, a reschedule and a waitlist offer each deliver the right
message to the right address, with an iCalendar invite that the icalendar library parses
and that names the same event (UID) at the same revision (SEQUENCE) as the person's
calendar feed."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal import booking
from portal.blueprints.feeds.ics import build_feed
from portal.booking import timetable
from portal.extensions import db
from portal.ics import session_uid
from portal.models import Role, WaitlistEntry
from portal.notifications import delivery
from tests.fixtures.client_portal import day_at, full_workshop
from tests.fixtures.factories import (
    make_course,
    make_service,
    make_user,
    make_workshop,
    open_all_week,
)
from tests.fixtures.smtp import clear_outbox


@pytest.fixture
def app_config(smtp_server):
    return smtp_server.config


def deliver(smtp_server) -> list[EmailMessage]:
    before = len(smtp_server.messages)
    delivery.deliver_due()
    return smtp_server.messages[before:]


def invite_of(message: EmailMessage):
    """The text/calendar alternative: its METHOD and its one event."""
    (part,) = [
        p
        for p in message.walk()
        if p.get_content_type() == "text/calendar" and p.get_content_disposition() is None
    ]
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["method"]) == part.get_param("method")
    return str(calendar["method"]), event


def feed_event(user, session_id: int):
    """The same session's event in the user's calendar feed."""
    db.session.expire_all()
    events = Calendar.from_ical(build_feed(user)).walk("VEVENT")
    (event,) = [
        e for e in events if str(e["uid"]) == f"service-session-{session_id}@estuary-portal"
    ]
    return event


def calendar_parts(message: EmailMessage) -> list[tuple[str, str]]:
    """Every text/calendar part (alternative or attachment): (METHOD, event UID)."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            calendar = Calendar.from_ical(part.get_content())
            found += [(str(calendar["method"]), str(e["uid"])) for e in calendar.walk("VEVENT")]
    return found


def feed_uids(user) -> set[str]:
    db.session.expire_all()
    return {str(e["uid"]) for e in Calendar.from_ical(build_feed(user)).walk("VEVENT")}


def only_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    (message,) = [m for m in messages if m["To"] == address]
    return message


def test_a_purchase_and_its_payment(practitioner, client_user, smtp_server):
    session = make_workshop(practitioner, seats=5)
    order = booking.book_workshop_seat(client_user, session)
    sent = deliver(smtp_server)
    assert sorted(m["To"] for m in sent) == sorted([client_user.email, practitioner.email])
    held = only_to(sent, client_user.email)
    assert held["Subject"].startswith("Payment needed")
    assert "The hold lasts until" in held.get_body(("plain",)).get_content()
    method, event = invite_of(held)
    feed = feed_event(client_user, session.id)
    assert method == "REQUEST"
    assert event["uid"] == feed["uid"] and event["sequence"] == feed["sequence"]
    assert str(event["url"]) == f"http://portal.test/sessions/{session.id}/join"
    notice = only_to(sent, practitioner.email)
    assert notice["Subject"].startswith("New booking")
    assert client_user.name in notice.get_body(("plain",)).get_content()

    booking.confirm_payment(order, reference="cash")
    # One message (#20): the confirmation carries the invite and the numbered receipt.
    [paid] = deliver(smtp_server)
    assert paid["To"] == client_user.email and paid["Subject"].startswith("Payment received")
    assert f"Receipt {practitioner.id}-00001" in paid.get_body(("plain",)).get_content()
    method, event = invite_of(paid)
    assert method == "REQUEST" and event["uid"] == feed_event(client_user, session.id)["uid"]


def test_a_cancel_tells_the_client_with_a_cancel_invite_and_the_practitioner(
    practitioner, client_user, smtp_server
):
    session = make_workshop(practitioner, seats=5)
    booking.confirm_payment(booking.book_workshop_seat(client_user, session))
    clear_outbox()
    seat = session.bookings[0]
    booking.cancel_booking(seat, client_user, client_requested=True)
    sent = deliver(smtp_server)
    canceled = only_to(sent, client_user.email)
    assert canceled["Subject"] == f"Canceled: {session.display_title}"
    method, event = invite_of(canceled)
    feed = feed_event(client_user, session.id)
    assert (method, str(event["status"]), str(feed["status"])) == (
        "CANCEL",
        "CANCELLED",
        "CANCELLED",
    )
    assert event["uid"] == feed["uid"] and event["sequence"] == feed["sequence"]
    notice = only_to(sent, practitioner.email)
    assert notice["Subject"].startswith("Cancellation:")


def test_a_practitioner_removing_a_client_says_who_did_it(practitioner, client_user, smtp_server):
    session = make_workshop(practitioner, seats=5)
    booking.confirm_payment(booking.book_workshop_seat(client_user, session))
    clear_outbox()
    booking.cancel_booking(session.bookings[0], practitioner)
    (told,) = deliver(smtp_server)  # the practitioner is not told of their own act
    assert told["To"] == client_user.email
    assert f"by {practitioner.name}" in told.get_body(("plain",)).get_content()


def test_a_reschedule_updates_the_same_event(practitioner, client_user, smtp_server):
    open_all_week(practitioner)
    service = make_service(practitioner, name="Private session")
    order = booking.book_individual_session(client_user, service, day_at(5, 14))
    booking.confirm_payment(order)
    seat = order.bookings[0]
    clear_outbox()
    booking.reschedule_booking(seat, client_user, day_at(6, 15))
    (moved,) = deliver(smtp_server)
    assert moved["To"] == client_user.email and moved["Subject"].startswith("Moved:")
    text = moved.get_body(("plain",)).get_content()
    assert "(it was " in text and "Europe/London" in text
    method, event = invite_of(moved)
    feed = feed_event(client_user, seat.service_session_id)
    assert method == "REQUEST"
    assert event["uid"] == feed["uid"] and event["sequence"] == feed["sequence"]
    assert event["dtstart"].dt == feed["dtstart"].dt == day_at(6, 15)


def test_a_freed_seat_is_offered_to_the_waitlist_by_email(practitioner, smtp_server):
    session, (holder,) = full_workshop(practitioner, seats=1)
    waiting = make_user(Role.CLIENT, timezone="America/Los_Angeles")
    booking.join_waitlist(waiting, session)
    clear_outbox()
    booking.cancel_booking(session.bookings[0], holder)
    sent = deliver(smtp_server)
    offer = only_to(sent, waiting.email)
    assert offer["Subject"] == f"A seat is free: {session.display_title}"
    text = offer.get_body(("plain",)).get_content()
    assert "(America/Los_Angeles, P" in text and "http://portal.test/bookings/" in text
    # An offer is not an event until it is taken: no invite, nothing in the feed.
    assert calendar_parts(offer) == []
    assert feed_uids(waiting) == set()
    assert {m["To"] for m in sent} == {waiting.email, holder.email, practitioner.email}


def test_an_expired_course_hold_cancels_every_class_it_held(practitioner, client_user, smtp_server):
    course = make_course(practitioner, sessions=4, name="Breathwork course")
    order = booking.enroll_in_course(client_user, course)
    uids = {session_uid(b.service_session) for b in order.bookings}
    clear_outbox()
    released = booking.release_expired_holds(now=order.hold_expires_at + timedelta(minutes=1))
    assert released == 4
    (told,) = deliver(smtp_server)
    assert told["To"] == client_user.email
    assert told["Subject"] == "Canceled: Breathwork course"
    text = told.get_body(("plain",)).get_content()
    assert "Your 4 bookings of Breathwork course are canceled because their hold expired" in text
    assert sum(line.startswith("- ") for line in text.splitlines()) == 4
    # One CANCEL per class, as an attachment each; the first also as the alternative.
    attached = [
        (method, uid) for part in told.iter_attachments() for method, uid in calendar_parts(part)
    ]
    assert sorted(attached) == sorted(("CANCEL", uid) for uid in uids)
    assert invite_of(told)[0] == "CANCEL"


def test_a_declined_offer_leaves_nothing_to_take_back_and_a_taken_one_is_invited(
    practitioner, smtp_server
):
    session, (holder,) = full_workshop(practitioner, seats=1, price_cents=0)
    first, second = make_user(Role.CLIENT), make_user(Role.CLIENT)
    booking.join_waitlist(first, session)
    booking.join_waitlist(second, session)
    booking.cancel_booking(session.bookings[0], holder)

    def entry_of(user) -> WaitlistEntry:
        return db.session.scalar(select(WaitlistEntry).filter_by(user_id=user.id))

    entry = entry_of(first)
    offer = only_to(deliver(smtp_server), first.email)
    assert calendar_parts(offer) == []
    booking.leave_waitlist(entry)
    sent = deliver(smtp_server)
    assert [m for m in sent if m["To"] == first.email] == []
    assert feed_uids(first) == set()
    # The seat passed to the next in line, who takes it: now it is an event.
    assert calendar_parts(only_to(sent, second.email)) == []
    booking.accept_offer(entry_of(second))
    taken = only_to(deliver(smtp_server), second.email)
    assert calendar_parts(taken) == [("REQUEST", session_uid(session))] * 2
    assert feed_uids(second) == {session_uid(session)}


def test_a_client_added_by_their_practitioner_is_told_with_the_invite(
    practitioner, client_user, smtp_server
):
    session = make_workshop(practitioner, seats=5)
    clear_outbox()
    timetable.add_client_to_session(session, client_user, practitioner)
    (told,) = deliver(smtp_server)  # the practitioner is not told of their own act
    assert told["To"] == client_user.email and told["Subject"].startswith("Booked:")
    method, event = invite_of(told)
    assert (method, str(event["uid"])) == ("REQUEST", session_uid(session))
