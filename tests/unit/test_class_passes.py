"""Class passes (#21): a credit is spent by taking a seat in an eligible group session, with
the seat rules of a seat bought with money; a cancel in time gives it back, a late cancel or a
no-show keeps it spent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import booking, reminders
from portal.blueprints.passes import queries as passes_queries
from portal.database import utcnow
from portal.extensions import db
from portal.models import (
    AuditAction,
    AuditEntry,
    Booking,
    BookingStatus,
    ClassPass,
    ClassPassUse,
    Notification,
    NotificationKind,
    OrderStatus,
    Role,
    ServiceType,
)
from tests.fixtures.factories import future, make_user, seat_invariant_violations
from tests.fixtures.passes import held_pass, make_class_pass, make_group_class


def _session(service, days=7, hour=10, **extra):
    return booking.create_session(service, start_time=future(days=days, hour=hour), **extra)


def _credits_used(class_pass) -> int:
    db.session.expire(class_pass)
    return class_pass.credits_used


@pytest.fixture
def breathwork(practitioner):
    return make_group_class(practitioner, name="Breathwork", cancellation_cutoff_hours=24)


def test_a_credit_takes_a_seat_in_an_eligible_workshop(practitioner, client_user, breathwork):
    pass_service = make_class_pass(practitioner, credits=10, services=[breathwork])
    held = held_pass(client_user, pass_service)
    session = _session(breathwork)

    seat = booking.book_with_pass(client_user, held, session)

    assert seat.status == BookingStatus.CONFIRMED
    assert seat.price_charged_cents == 0
    assert seat.order_id == held.order_id
    assert seat.service_id == breathwork.id
    assert _credits_used(held) == 1
    db.session.refresh(session)
    assert session.current_participants == 1
    assert seat_invariant_violations() == []


def test_a_tag_makes_every_class_carrying_it_eligible(practitioner, client_user):
    yoga = make_group_class(practitioner, name="Yoga", tags=["Group  Class"])
    pilates = make_group_class(practitioner, name="Pilates", tags=["group class"])
    other = make_group_class(practitioner, name="Retreat talk")
    held = held_pass(client_user, make_class_pass(practitioner, tag="group class"))

    booking.book_with_pass(client_user, held, _session(yoga, hour=9))
    booking.book_with_pass(client_user, held, _session(pilates, hour=12))
    with pytest.raises(booking.NotBookable, match="cannot be used"):
        booking.book_with_pass(client_user, held, _session(other, hour=15))

    assert _credits_used(held) == 2


def test_a_pass_is_used_only_once_paid(practitioner, client_user, breathwork):
    pass_service = make_class_pass(practitioner, services=[breathwork], price_cents=9000)
    order = booking.buy_class_pass(client_user, pass_service)
    assert order.status == OrderStatus.PENDING
    held = db.session.scalars(select(ClassPass).where(ClassPass.order_id == order.id)).one()
    session = _session(breathwork)

    with pytest.raises(booking.NotBookable, match="once its order"):
        booking.book_with_pass(client_user, held, session)
    booking.confirm_payment(order)
    booking.book_with_pass(client_user, held, session)
    assert _credits_used(held) == 1


def test_someone_elses_pass_is_refused(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    with pytest.raises(booking.NotPermitted):
        booking.book_with_pass(make_user(), held, _session(breathwork))
    assert _credits_used(held) == 0


def test_the_last_credit_is_the_last_seat_and_then_none(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, credits=1, services=[breathwork]))
    booking.book_with_pass(client_user, held, _session(breathwork, days=3))
    with pytest.raises(booking.NotBookable, match="no credits left"):
        booking.book_with_pass(client_user, held, _session(breathwork, days=4))
    assert _credits_used(held) == 1


def test_the_database_refuses_a_pass_spent_past_its_credits(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, credits=1, services=[breathwork]))
    with pytest.raises(Exception, match="class_pass_credits_used"):
        db.session.execute(
            db.update(ClassPass).where(ClassPass.id == held.id).values(credits_used=2)
        )
        db.session.flush()
    db.session.rollback()


def test_a_full_session_or_a_second_seat_spends_nothing(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    small = _session(breathwork, days=2, max_participants=1)
    booking.book_workshop_seat(make_user(), small)
    with pytest.raises(booking.SessionFull):
        booking.book_with_pass(client_user, held, small)
    session = _session(breathwork, days=5)
    booking.book_with_pass(client_user, held, session)
    with pytest.raises(booking.AlreadyBooked):
        booking.book_with_pass(client_user, held, session)
    assert _credits_used(held) == 1
    assert seat_invariant_violations() == []


def test_an_expired_pass_is_refused(practitioner, client_user, breathwork):
    pass_service = make_class_pass(practitioner, services=[breathwork], validity_days=30)
    held = held_pass(client_user, pass_service)
    session = _session(breathwork, days=40)
    with pytest.raises(booking.CreditExpired):
        booking.book_with_pass(client_user, held, session, now=utcnow() + timedelta(days=31))
    assert _credits_used(held) == 0


def test_a_limit_per_day_and_per_week(practitioner, client_user):
    classes = [make_group_class(practitioner, tags=["group"]) for _ in range(4)]
    held = held_pass(client_user, make_class_pass(practitioner, tag="group", per_day=1, per_week=2))
    # Days 14 and 15 from now fall in one week or two; pick a Monday to know which.
    monday = future(days=14)
    monday -= timedelta(days=monday.weekday())
    first = booking.create_session(classes[0], start_time=monday.replace(hour=9))
    same_day = booking.create_session(classes[1], start_time=monday.replace(hour=15))
    tuesday = booking.create_session(classes[2], start_time=monday.replace(hour=9) + timedelta(1))
    wednesday = booking.create_session(classes[3], start_time=monday.replace(hour=9) + timedelta(2))

    booking.book_with_pass(client_user, held, first)
    with pytest.raises(booking.NotBookable, match="1 class a day"):
        booking.book_with_pass(client_user, held, same_day)
    booking.book_with_pass(client_user, held, tuesday)
    with pytest.raises(booking.NotBookable, match="2 classes a week"):
        booking.book_with_pass(client_user, held, wednesday)
    # A seat given back in time no longer counts against the limits.
    seat = db.session.scalars(select(Booking).where(Booking.service_session_id == tuesday.id)).one()
    booking.cancel_booking(seat, client_user)
    booking.book_with_pass(client_user, held, wednesday)
    assert _credits_used(held) == 2


def test_a_cancel_in_time_returns_the_credit(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    seat = booking.book_with_pass(client_user, held, _session(breathwork, days=5))

    booking.cancel_booking(seat, client_user, client_requested=True)

    assert _credits_used(held) == 0
    use = db.session.scalars(select(ClassPassUse).where(ClassPassUse.booking_id == seat.id)).one()
    assert use.returned_at is not None
    entry = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == AuditAction.BOOKING_CANCELED)
        .order_by(AuditEntry.seq.desc())
    ).first()
    assert entry.after["pass_credit_returned"] is True
    told = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.BOOKING_CANCELED)
    ).one()
    assert told.payload["credit_returned"] is True


def test_a_late_cancel_forfeits_the_credit(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    session = _session(breathwork, days=5)
    seat = booking.book_with_pass(client_user, held, session)
    late = session.start_time - timedelta(hours=2)

    # Past the cut-off the client asks the practitioner, who cancels at their request.
    with pytest.raises(booking.CancellationWindowClosed):
        booking.cancel_booking(seat, client_user, client_requested=True, now=late)
    booking.cancel_booking(seat, practitioner, client_requested=True, now=late)

    assert _credits_used(held) == 1


def test_a_no_show_keeps_the_credit_spent(practitioner, client_user, breathwork):
    held = held_pass(client_user, make_class_pass(practitioner, services=[breathwork]))
    session = _session(breathwork, days=1)
    booking.book_with_pass(client_user, held, session)
    booking.start_session(session, at=session.start_time)
    booking.complete_session(session, at=session.end_time)
    booking.record_outcomes([session.id], now=session.end_time + timedelta(hours=2))

    assert _credits_used(held) == 1


def test_a_canceled_session_gives_every_pass_its_credit(practitioner, breathwork):
    pass_service = make_class_pass(practitioner, services=[breathwork])
    holders = [make_user() for _ in range(3)]
    passes = [held_pass(holder, pass_service) for holder in holders]
    session = _session(breathwork)
    for holder, held in zip(holders, passes, strict=True):
        booking.book_with_pass(holder, held, session)

    assert booking.cancel_session(session, practitioner) == 3

    assert [_credits_used(held) for held in passes] == [0, 0, 0]
    assert (
        db.session.scalar(
            select(func.count(ClassPassUse.id)).where(ClassPassUse.returned_at.is_(None))
        )
        == 0
    )


def test_a_pass_names_only_the_practitioners_own_workshops(practitioner):
    one_on_one = make_group_class(practitioner)
    one_on_one.service_type = ServiceType.INDIVIDUAL
    db.session.commit()
    with pytest.raises(booking.InvalidInput, match="own workshops"):
        make_class_pass(practitioner, services=[one_on_one])
    with pytest.raises(booking.InvalidInput, match="or a tag"):
        make_class_pass(practitioner)


def test_a_pass_with_credits_left_is_announced_once_before_it_expires(
    practitioner, client_user, breathwork
):
    pass_service = make_class_pass(practitioner, services=[breathwork], validity_days=30)
    held = held_pass(client_user, pass_service)
    booking.book_with_pass(client_user, held, _session(breathwork, days=2))
    soon = held.expires_at - timedelta(days=3)

    assert reminders.queue_expiring_credits(now=held.expires_at - timedelta(days=20)) == 0
    assert reminders.queue_expiring_credits(now=soon) == 1
    assert reminders.queue_expiring_credits(now=soon) == 0

    told = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.CREDITS_EXPIRING)
    ).one()
    assert (told.user_id, told.payload["count"]) == (client_user.id, 9)


def test_editing_a_pass_after_a_sale_does_not_change_the_sold_pass(practitioner, client_user):
    """A sold pass keeps the terms it was sold on: credits, services, tag and limits."""
    breathwork = make_group_class(practitioner, name="Breathwork")
    yoga = make_group_class(practitioner, name="Yoga", tags=["group"])
    sound = make_group_class(practitioner, name="Sound bath", tags=["evening"])
    pass_service = make_class_pass(
        practitioner, credits=3, services=[breathwork], tag="group", per_day=1
    )
    sold = held_pass(client_user, pass_service)

    booking.save_service(
        practitioner,
        pass_service,
        pass_terms=booking.PassTerms(
            credits=10, service_ids=[sound.id], tag="evening", per_day=None, per_week=1
        ),
        service_type=ServiceType.CLASS_PASS,
        name=pass_service.name,
        price_cents=pass_service.price_cents,
        currency="USD",
    )
    later = held_pass(make_user(), pass_service)

    monday = future(days=14)
    monday -= timedelta(days=monday.weekday())
    breath_monday = booking.create_session(breathwork, start_time=monday.replace(hour=9))
    yoga_monday = booking.create_session(yoga, start_time=monday.replace(hour=15))
    yoga_tuesday = booking.create_session(yoga, start_time=monday.replace(hour=9) + timedelta(1))
    sound_wednesday = booking.create_session(
        sound, start_time=monday.replace(hour=19) + timedelta(2)
    )

    db.session.expire(sold)
    assert (sold.credits, sold.eligible_tag, sold.per_day, sold.per_week) == (3, "group", 1, None)
    assert [s.name for s in sold.eligible_services] == ["Breathwork"]
    # The old list and tag still open the door; the new ones do not.
    booking.book_with_pass(client_user, sold, breath_monday)
    with pytest.raises(booking.NotBookable, match="cannot be used"):
        booking.book_with_pass(client_user, sold, sound_wednesday)
    # The old limit per day holds; the new limit per week does not apply to it.
    with pytest.raises(booking.NotBookable, match="1 class a day"):
        booking.book_with_pass(client_user, sold, yoga_monday)
    booking.book_with_pass(client_user, sold, yoga_tuesday)
    assert _credits_used(sold) == 2
    assert {s.id for s in passes_queries.eligible_sessions(sold, utcnow())} == {
        breath_monday.id,
        yoga_monday.id,
        yoga_tuesday.id,
    }

    # The next buyer gets the terms as edited.
    assert later.credits == 10
    with pytest.raises(booking.NotBookable, match="cannot be used"):
        booking.book_with_pass(later.user, later, breath_monday)
    booking.book_with_pass(later.user, later, sound_wednesday)


def test_a_tag_opens_only_the_pass_practitioners_classes(practitioner, client_user):
    """Tags are free words: another practitioner's class with the same tag is not eligible."""
    other = make_user(Role.PRACTITIONER)
    theirs = make_group_class(other, name="Their yoga", tags=["group"])
    held = held_pass(client_user, make_class_pass(practitioner, tag="group"))

    with pytest.raises(booking.NotBookable, match="cannot be used"):
        booking.book_with_pass(client_user, held, _session(theirs))
    assert _credits_used(held) == 0
