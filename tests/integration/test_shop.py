"""Clients browse services and buy them (packages and bundles: test_packages.py)."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from portal import booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Role,
    ServiceType,
    WaitlistStatus,
)
from tests.fixtures.client_portal import day_at, full_workshop, text_of
from tests.fixtures.factories import make_course, make_service, make_user, make_workshop
from tests.fixtures.l10n import read, shown, shown_money


def orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def bookings() -> int:
    return db.session.scalar(select(func.count()).select_from(Booking))


def test_client_browses_practitioners_then_their_active_services(
    signed_in, practitioner, client_user
):
    make_service(practitioner, name="Deep tissue massage")
    make_service(practitioner, name="Retired service", is_active=False)
    client = signed_in(client_user)

    index = text_of(client.get("/book/"))
    assert practitioner.name in index and "1 service offered" in index

    page = text_of(client.get(f"/book/practitioners/{practitioner.id}"))
    assert "Deep tissue massage" in page
    assert "Retired service" not in page


def test_an_inactive_service_is_not_found(signed_in, practitioner, client_user):
    service = make_service(practitioner, is_active=False)
    client = signed_in(client_user)
    assert client.get(f"/book/services/{service.id}").status_code == 404
    assert client.post(f"/book/services/{service.id}/buy").status_code == 404


def test_slot_picker_shows_the_day_in_the_clients_timezone(signed_in, practitioner):
    tokyo = make_user(Role.CLIENT, timezone="Asia/Tokyo")
    service = make_service(practitioner, name="Consultation")
    client = signed_in(tokyo)
    day = (day_at(3, 12)).astimezone(ZoneInfo("Asia/Tokyo")).date()

    response = client.get(f"/book/services/{service.id}?day={day.isoformat()}")

    page = text_of(response)
    assert read(shown(day, "long-date")) in page
    assert "Times are shown in your timezone, Asia/Tokyo" in page
    # The practitioner works around the clock in New York; every half hour shows, in Tokyo time.
    assert read(shown(time(0), "time")) in page and read(shown(time(23, 30), "time")) in page
    html = response.get_data(as_text=True)
    midnight_tokyo = f"{day.isoformat()}T00:00:00+09:00"
    assert f'value="{_utc_iso(midnight_tokyo)}"' in html
    assert f"day={(day + timedelta(days=1)).isoformat()}" in html
    assert f"day={(day - timedelta(days=1)).isoformat()}" in html


def _utc_iso(local_iso: str) -> str:
    from datetime import UTC, datetime

    return datetime.fromisoformat(local_iso).astimezone(UTC).isoformat()


def test_slot_picker_answers_htmx_with_the_fragment_only(signed_in, practitioner, client_user):
    service = make_service(practitioner)
    client = signed_in(client_user)
    day = day_at(4, 12).date()
    response = client.get(
        f"/book/services/{service.id}?day={day.isoformat()}", headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="slot-picker" id="slot-picker">')
    assert "<html" not in html
    assert shown(day, "long-date") in html


def test_slot_picker_does_not_go_before_today(signed_in, practitioner, client_user):
    service = make_service(practitioner)
    client = signed_in(client_user)
    page = client.get(f"/book/services/{service.id}?day=2001-01-01").get_data(as_text=True)
    assert 'rel="prev"' not in page
    page = client.get(f"/book/services/{service.id}?day=not-a-day").get_data(as_text=True)
    assert 'rel="next"' in page


def test_buying_an_individual_session_creates_one_order_and_a_held_seat(
    signed_in, practitioner, client_user
):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, price_cents=9000)
    client = signed_in(client_user)
    start = day_at(5, 15)

    response = client.post(f"/book/services/{service.id}/buy", data={"start": start.isoformat()})

    assert response.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert response.location.endswith(f"/orders/{order.id}")
    assert order.status == OrderStatus.PENDING and order.total_cents == 9000
    (seat,) = order.bookings
    assert seat.get_start_time() == start and seat.status == BookingStatus.PENDING_PAYMENT
    page = text_of(client.get(response.location))
    assert "Awaiting payment" in page and read(shown_money(9000)) in page


def test_a_slot_taken_meanwhile_re_renders_with_the_error(signed_in, practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    start = day_at(5, 15)
    booking.book_individual_session(make_user(), service, start)
    client = signed_in(client_user)

    response = client.post(f"/book/services/{service.id}/buy", data={"start": start.isoformat()})

    assert response.status_code == 409
    assert "That time is no longer available." in text_of(response)
    assert orders() == 1


def test_a_forged_or_naive_start_is_a_field_error_not_a_500(signed_in, practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL)
    client = signed_in(client_user)
    for bad in ("tomorrow", "2030-01-01T10:00:00", ""):
        response = client.post(f"/book/services/{service.id}/buy", data={"start": bad})
        assert response.status_code == 422
        page = text_of(response)
        assert "pick one of the slots" in page or "Pick a time." in page
    assert orders() == 0


def test_buying_a_workshop_seat(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3, price_cents=3500)
    client = signed_in(client_user)

    page = text_of(client.get(f"/book/services/{session.service_id}"))
    assert "3 of 3" in page and "Buy a seat" in page

    response = client.post(
        f"/book/services/{session.service_id}/buy", data={"session_id": session.id}
    )
    assert response.status_code == 302
    db.session.refresh(session)
    assert session.current_participants == 1
    page = text_of(client.get(f"/book/services/{session.service_id}"))
    assert "2 of 3" in page and "You have a seat" in page


def test_a_full_workshop_refuses_the_seat_and_offers_the_waitlist(
    signed_in, practitioner, client_user
):
    session, _ = full_workshop(practitioner, seats=1)
    client = signed_in(client_user)

    page = text_of(client.get(f"/book/services/{session.service_id}"))
    assert "Join the waitlist" in page and "Buy a seat" not in page

    response = client.post(
        f"/book/services/{session.service_id}/buy", data={"session_id": session.id}
    )
    assert response.status_code == 409
    assert "is full" in text_of(response)
    assert orders() == 1


def test_a_session_of_another_service_is_refused(signed_in, practitioner, client_user):
    one = make_workshop(practitioner, seats=3)
    other = make_workshop(practitioner, seats=3, start=day_at(9, 10))
    client = signed_in(client_user)
    response = client.post(f"/book/services/{one.service_id}/buy", data={"session_id": other.id})
    assert response.status_code == 422
    assert "Pick one of the sessions." in text_of(response)
    assert orders() == 0


def test_enrolling_in_a_course_books_every_session(signed_in, practitioner, client_user):
    course = make_course(practitioner, sessions=4)
    client = signed_in(client_user)

    page = text_of(client.get(f"/book/services/{course.id}"))
    assert "Enroll in all 4 sessions" in page

    response = client.post(f"/book/services/{course.id}/buy")

    assert response.status_code == 302
    order = db.session.scalars(select(Order)).one()
    assert len(order.bookings) == 4
    assert "You are enrolled" in text_of(client.get(f"/book/services/{course.id}"))


def test_a_course_with_a_full_session_is_refused_whole(signed_in, practitioner, client_user):
    course = make_course(practitioner, sessions=2, seats=1)
    booking.enroll_in_course(make_user(), course)
    client = signed_in(client_user)
    response = client.post(f"/book/services/{course.id}/buy")
    assert response.status_code == 409
    assert "cannot be joined" in text_of(response)
    assert orders() == 1 and bookings() == 2


def test_a_free_service_is_confirmed_at_once(signed_in, practitioner, client_user):
    service = make_service(practitioner, price_cents=0)
    client = signed_in(client_user)
    response = client.post(
        f"/book/services/{service.id}/buy", data={"start": day_at(5, 9).isoformat()}
    )
    page = text_of(client.get(response.location))
    assert "Awaiting payment" not in page and "paid" in page and "Free" in page


def test_only_clients_buy(signed_in, practitioner, staff_user):
    service = make_service(practitioner)
    client = signed_in(staff_user)
    response = client.post(
        f"/book/services/{service.id}/buy", data={"start": day_at(5, 9).isoformat()}
    )
    assert response.status_code == 403
    assert orders() == 0


def test_a_workshop_full_of_expired_holds_shows_its_seats_again(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=1)
    booking.book_workshop_seat(make_user(), session, now=utcnow() - timedelta(hours=1))
    client = signed_in(client_user)

    page = text_of(client.get(f"/book/services/{session.service_id}"))

    assert "1 of 1" in page and "Buy a seat" in page


def _snapshot() -> list:
    """Every row a hold's release would touch, as the database holds it."""
    with db.engine.connect() as conn:
        return [
            conn.execute(text(query)).all()
            for query in (
                "SELECT id, status, cancel_reason, canceled_at FROM bookings ORDER BY id",
                "SELECT id, status, canceled_at FROM orders ORDER BY id",
                "SELECT id, current_participants, revision, updated_at FROM service_sessions "
                "ORDER BY id",
                "SELECT id, status, order_id FROM waitlist_entries ORDER BY id",
                "SELECT count(*) FROM notifications",
            )
        ]


def test_the_service_page_releases_no_hold_it_shows_as_free(signed_in, practitioner, client_user):
    """A GET writes nothing: the worker releases expired holds; the page counts them free."""
    session = make_workshop(practitioner, seats=1)
    booking.book_workshop_seat(make_user(), session, now=utcnow() - timedelta(hours=1))
    client = signed_in(client_user)
    db.session.commit()
    before = _snapshot()

    page = text_of(client.get(f"/book/services/{session.service_id}"))

    assert "1 of 1" in page and "Buy a seat" in page
    assert _snapshot() == before


def test_an_expired_hold_with_someone_waiting_is_not_shown_as_free(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=1)
    booking.book_workshop_seat(make_user(), session, now=utcnow() - timedelta(hours=1))
    entry = booking.join_waitlist(make_user(), session, now=utcnow() - timedelta(minutes=50))
    client = signed_in(client_user)
    db.session.commit()
    before = _snapshot()

    page = text_of(client.get(f"/book/services/{session.service_id}"))

    assert "0 of 1" in page and "Buy a seat" not in page
    assert _snapshot() == before
    db.session.refresh(entry)
    assert entry.status == WaitlistStatus.WAITING


def test_a_refused_buyer_still_hands_an_expired_hold_to_the_waitlist(
    signed_in, practitioner, client_user
):
    session = make_workshop(practitioner, seats=1)
    booking.book_workshop_seat(make_user(), session, now=utcnow() - timedelta(hours=1))
    waiter = make_user()
    entry = booking.join_waitlist(waiter, session, now=utcnow() - timedelta(minutes=50))
    client = signed_in(client_user)

    response = client.post(
        f"/book/services/{session.service_id}/buy", data={"session_id": session.id}
    )

    assert response.status_code == 409 and "is full" in text_of(response)
    db.session.refresh(entry)
    assert entry.status.value == "offered"


def test_a_seat_in_a_past_session_is_refused_with_a_reason(signed_in, practitioner, client_user):
    session = make_workshop(practitioner, seats=3, start=day_at(-2, 10))
    client = signed_in(client_user)
    response = client.post(
        f"/book/services/{session.service_id}/buy", data={"session_id": session.id}
    )
    assert response.status_code == 409
    assert "has already started" in text_of(response)
    response = client.post(f"/book/sessions/{session.id}/waitlist")
    assert response.status_code == 409
    assert "is not open for booking" in text_of(response)
    assert orders() == 0
