"""Class pass pages (#21): the practitioner defines a pass and tags workshops; the client buys
one, reads its credits and books a class with it, all with plain forms (no JavaScript)."""

from __future__ import annotations

from sqlalchemy import func, select

from portal import booking
from portal.extensions import db
from portal.models import (
    Booking,
    BookingStatus,
    ClassPass,
    ClassPassTerms,
    Role,
    Service,
    ServiceType,
)
from tests.fixtures.client_portal import full_workshop, text_of
from tests.fixtures.factories import future, make_user
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class
from tests.fixtures.practice import SERVICE_FORM

PASS_FORM = {
    "name": "Breathwork 5-pass",
    "description": "",
    "price": "60.00",
    "currency": "usd",
    "credits": "5",
    "validity_days": "90",
    "payment_policy": "in_full",
    "is_active": "y",
    "tag": "",
    "per_day": "",
    "per_week": "2",
}


def test_the_practitioner_defines_a_pass_for_a_workshop(signed_in, practitioner):
    breathwork = make_group_class(practitioner, name="Breathwork")
    web = signed_in(practitioner)
    form = web.get("/practice/passes/new").text
    assert "Breathwork" in form and 'type="checkbox"' in form

    response = web.post("/practice/passes/new", data={**PASS_FORM, "services": [breathwork.id]})

    assert response.status_code == 302
    service = db.session.scalars(
        select(Service).where(Service.service_type == ServiceType.CLASS_PASS)
    ).one()
    terms = db.session.get(ClassPassTerms, service.id)
    assert (terms.credits, terms.per_week, service.validity_days) == (5, 2, 90)
    assert [s.id for s in terms.eligible_services] == [breathwork.id]
    listing = text_of(web.get("/practice/services/"))
    assert "Breathwork 5-pass" in listing and "5 classes" in listing
    edit = web.get(f"/practice/passes/{service.id}/edit").text
    assert 'value="Breathwork 5-pass"' in edit and "checked" in edit


def test_a_pass_naming_nothing_is_refused_inline(signed_in, practitioner):
    html = signed_in(practitioner).post("/practice/passes/new", data=PASS_FORM).text
    assert "Name the workshops the pass is for, or a tag they carry." in html
    assert db.session.scalar(select(func.count(Service.id))) == 0


def test_tags_put_on_a_workshop_let_a_pass_name_it(signed_in, practitioner, client_user):
    yoga = make_group_class(practitioner, name="Yoga flow")
    web = signed_in(practitioner)
    data = {
        **SERVICE_FORM,
        "name": "Yoga flow",
        "max_participants": "12",
        "tags": "Group Class, mat",
    }
    data.pop("service_type")
    assert web.post(f"/practice/services/{yoga.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Service, yoga.id).tag_names == ["group class", "mat"]
    assert 'value="group class, mat"' in web.get(f"/practice/services/{yoga.id}/edit").text

    pass_service = make_class_pass(practitioner, tag="group class")
    session = booking.create_session(yoga, start_time=future(days=3))
    held = held_pass(client_user, pass_service)
    booking.book_with_pass(client_user, held, session)


def test_the_client_buys_a_pass_sees_its_credits_and_books_a_class(
    signed_in, practitioner, client_user
):
    breathwork = make_group_class(practitioner, name="Breathwork")
    pass_service = make_class_pass(
        practitioner, services=[breathwork], credits=10, price_cents=0, name="Breath pass"
    )
    session = booking.create_session(breathwork, start_time=future(days=4))
    web = signed_in(client_user)

    offer = text_of(web.get(f"/book/services/{pass_service.id}"))
    assert "10 classes: Breathwork" in offer and "Buy Breath pass" in offer
    bought = web.post(f"/book/passes/{pass_service.id}/buy")
    assert bought.status_code == 302 and "/orders/" in bought.location
    order_page = text_of(web.get(bought.location))
    assert "Book a class with your pass" in order_page

    mine = text_of(web.get("/passes"))
    assert "Breath pass" in mine and "10 credits left" in mine
    held = db.session.scalars(select(ClassPass)).one()
    page = web.get(f"/passes/{held.id}").text
    assert f'name="session_id" value="{session.id}"' in page
    assert "For: Breathwork." in text_of(web.get(f"/passes/{held.id}"))

    booked = web.post(f"/passes/{held.id}/book", data={"session_id": session.id})

    assert booked.status_code == 302
    after = text_of(web.get(booked.location))
    assert "You have a seat" in after and "9 credits left" in after
    assert "1 of 10 used" in after


def test_a_refused_seat_re_renders_the_pass_with_the_reason(signed_in, practitioner, client_user):
    breathwork = make_group_class(practitioner, name="Breathwork")
    held = held_pass(
        client_user, make_class_pass(practitioner, services=[breathwork], credits=1, price_cents=0)
    )
    first = booking.create_session(breathwork, start_time=future(days=2))
    second = booking.create_session(breathwork, start_time=future(days=3))
    elsewhere = booking.create_session(
        make_group_class(make_user(Role.PRACTITIONER), name="Elsewhere"), start_time=future(days=5)
    )
    web = signed_in(client_user)
    refused = web.post(f"/passes/{held.id}/book", data={"session_id": elsewhere.id})
    assert refused.status_code == 409 and "cannot be used for Elsewhere" in refused.text
    booking.book_with_pass(client_user, held, first)

    refused = web.post(f"/passes/{held.id}/book", data={"session_id": second.id})

    assert refused.status_code == 409
    assert "This pass has no credits left." in refused.text
    gone = web.post(f"/passes/{held.id}/book", data={"session_id": 999999})
    assert gone.status_code == 409
    assert "no longer be booked with this pass" in gone.text


def test_another_clients_pass_does_not_exist_for_them(signed_in, practitioner, client_user):
    breathwork = make_group_class(practitioner)
    held = held_pass(
        client_user, make_class_pass(practitioner, services=[breathwork], price_cents=0)
    )
    web = signed_in(make_user())
    assert web.get(f"/passes/{held.id}").status_code == 404
    assert web.post(f"/passes/{held.id}/book", data={"session_id": 1}).status_code == 404


def test_a_waitlist_offer_is_taken_with_a_pass_from_my_bookings(
    signed_in, practitioner, client_user
):
    session, (holder,) = full_workshop(practitioner, seats=1, name="Breathwork")
    entry = booking.join_waitlist(client_user, session)
    other = make_group_class(practitioner, name="Other class")
    usable = held_pass(
        client_user,
        make_class_pass(practitioner, services=[session.service], credits=3, name="Breath pass"),
    )
    held_pass(client_user, make_class_pass(practitioner, services=[other], name="Other pass"))
    web = signed_in(client_user)
    assert "Take it with" not in text_of(web.get("/bookings/"))
    seat = db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one()
    booking.cancel_booking(seat, holder)

    page = web.get("/bookings/").text
    # Only the pass that may pay for this class is offered, with its credits.
    assert f'name="pass_id" value="{usable.id}"' in page
    assert "Other pass" not in text_of(web.get("/bookings/"))
    assert "Take it with Breath pass · 3 credits left" in text_of(web.get("/bookings/"))
    unpicked = web.post(f"/bookings/waitlist/{entry.id}/accept-with-pass", data={})
    assert unpicked.status_code == 422 and "Pick one of your class passes." in unpicked.text

    taken = web.post(f"/bookings/waitlist/{entry.id}/accept-with-pass", data={"pass_id": usable.id})

    assert taken.status_code == 302
    after = text_of(web.get(taken.location))
    assert "your booking is confirmed with a credit of Breath pass" in after
    assert "A seat is held for you" not in after
    db.session.expire_all()
    assert db.session.get(ClassPass, usable.id).credits_used == 1
    mine = db.session.scalars(
        select(Booking).where(
            Booking.user_id == client_user.id, Booking.status == BookingStatus.CONFIRMED
        )
    ).one()
    assert mine.order_id == usable.order_id
    # Taken already: a second post is refused on the offer's row, nothing spent.
    again = web.post(f"/bookings/waitlist/{entry.id}/accept-with-pass", data={"pass_id": usable.id})
    assert again.status_code == 409
    assert db.session.get(ClassPass, usable.id).credits_used == 1


def test_someone_elses_pass_cannot_take_an_offer(signed_in, practitioner, client_user):
    session, (holder,) = full_workshop(practitioner, seats=1)
    entry = booking.join_waitlist(client_user, session)
    theirs = held_pass(make_user(), make_class_pass(practitioner, services=[session.service]))
    booking.cancel_booking(
        db.session.scalars(select(Booking).where(Booking.user_id == holder.id)).one(), holder
    )

    response = signed_in(client_user).post(
        f"/bookings/waitlist/{entry.id}/accept-with-pass", data={"pass_id": theirs.id}
    )

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ClassPass, theirs.id).credits_used == 0


def test_a_pass_edited_after_a_sale_shows_its_buyer_the_terms_they_bought(
    signed_in, practitioner, client_user
):
    breathwork = make_group_class(practitioner, name="Breathwork")
    sound = make_group_class(practitioner, name="Sound bath")
    pass_service = make_class_pass(
        practitioner, services=[breathwork], credits=5, per_day=1, name="Studio pass"
    )
    held = held_pass(client_user, pass_service)
    booking.create_session(breathwork, start_time=future(days=3))
    booking.create_session(sound, start_time=future(days=4))

    booking.save_service(
        practitioner,
        pass_service,
        pass_terms=booking.PassTerms(credits=5, service_ids=[sound.id]),
        service_type=ServiceType.CLASS_PASS,
        name="Studio pass",
        price_cents=pass_service.price_cents,
        currency="USD",
    )

    web = signed_in(client_user)
    mine = text_of(web.get(f"/passes/{held.id}"))
    assert "For: Breathwork. At most 1 class a day." in mine
    assert "0 of 5 used" in mine
    assert "Sound bath" not in mine
    offer = text_of(web.get(f"/book/services/{pass_service.id}"))
    assert "5 classes: Sound bath" in offer and "At most 1 class a day." not in offer
