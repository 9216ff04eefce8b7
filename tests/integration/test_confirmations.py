"""Destructive actions ask first: the unconfirmed post answers with a confirm page that
changes nothing; its own form, posted, does the deed (#14)."""

from __future__ import annotations

import re

from portal import booking
from portal.extensions import db
from portal.models import BookingStatus, SessionStatus
from tests.fixtures.client_portal import text_of
from tests.fixtures.factories import make_user, make_workshop


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_client_cancel_asks_first_and_the_confirm_page_cancels(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=3, name="Breathwork")
    seat = booking.book_workshop_seat(client_user, session).bookings[0]
    client = signed_in(client_user)

    asked = client.post(f"/bookings/{seat.id}/cancel")

    assert asked.status_code == 200
    assert "Cancel Breathwork on" in text_of(asked)
    db.session.refresh(seat)
    assert seat.status == BookingStatus.PENDING_PAYMENT
    fields = hidden_fields(asked.get_data(as_text=True))
    assert fields["confirmed"] == "y"
    done = client.post(f"/bookings/{seat.id}/cancel", data=fields)
    assert done.status_code == 302
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED


def test_remove_and_late_cancel_carry_their_choice_through_the_confirm_page(
    signed_in, practitioner
):
    session = make_workshop(practitioner, seats=3, cancellation_cutoff_hours=24 * 30)
    ana = make_user(name="Ana Late")
    seat = booking.book_workshop_seat(ana, session).bookings[0]
    web = signed_in(practitioner)
    url = f"/calendar/sessions/{session.id}/attendees/{seat.id}/remove"

    asked = web.post(url, data={"client_requested": "y"})

    assert "Record a late cancel for Ana Late?" in text_of(asked)
    db.session.refresh(seat)
    assert seat.status == BookingStatus.PENDING_PAYMENT
    fields = hidden_fields(asked.get_data(as_text=True))
    assert fields["client_requested"] == "y"
    web.post(url, data=fields)
    db.session.refresh(seat)
    assert seat.status == BookingStatus.CANCELED and seat.late_cancel is True


def test_cancel_session_asks_first_naming_its_bookings(signed_in, practitioner):
    session = make_workshop(practitioner, seats=5, name="Drumming")
    booking.book_workshop_seat(make_user(), session)
    web = signed_in(practitioner)

    asked = web.post(f"/calendar/sessions/{session.id}/cancel", data={"reason": "ill"})

    assert "Cancel Drumming and its 1 booking?" in text_of(asked)
    db.session.refresh(session)
    assert session.status == SessionStatus.SCHEDULED
    fields = hidden_fields(asked.get_data(as_text=True))
    assert fields["reason"] == "ill"
    web.post(f"/calendar/sessions/{session.id}/cancel", data=fields)
    db.session.refresh(session)
    assert session.status == SessionStatus.CANCELED


def test_each_destructive_form_asks_in_a_dialog_with_javascript(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=5, name="Drumming")
    booking.book_workshop_seat(client_user, session)
    roster = signed_in(practitioner).get(f"/calendar/sessions/{session.id}").text
    assert 'hx-confirm="Remove ' in roster
    assert 'hx-confirm="Cancel Drumming and its 1 booking?"' in roster
    # Jinja's xmlattr writes the JSON's quotes as entities; the browser reads them back.
    assert roster.count('hx-vals="{&#34;confirmed&#34;: &#34;y&#34;}"') == 2
