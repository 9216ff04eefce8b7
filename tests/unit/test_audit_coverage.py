"""The operations that #23 added to the audit log each write their entry, in the same unit
of work, naming the client and the practitioner it concerns and holding ids, never text."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from portal import audit, booking
from portal.database import utcnow
from portal.extensions import db
from portal.models import AttendanceStatus, AuditAction, AuditEntry, ServiceType
from tests.fixtures.attendance import book_past_session, finish, past
from tests.fixtures.client_portal import full_workshop, paid_bundle
from tests.fixtures.factories import future, make_service, make_user, make_workshop


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
    )


def _one(action: AuditAction, client_id: int, practitioner_id: int) -> AuditEntry:
    (entry,) = _entries(action)
    assert (entry.client_id, entry.practitioner_id) == (client_id, practitioner_id)
    assert audit.verify().ok
    return entry


def test_a_reschedule_is_audited_with_both_times(practitioner, client_user):
    service = make_service(practitioner, ServiceType.INDIVIDUAL, cancellation_cutoff_hours=24)
    order = booking.book_individual_session(client_user, service, future(days=5))
    seat = order.bookings[0]
    booking.reschedule_booking(seat, client_user, future(days=6, hour=14))
    entry = _one(AuditAction.BOOKING_RESCHEDULED, client_user.id, practitioner.id)
    assert entry.object_id == seat.id and entry.actor_id == client_user.id
    assert entry.before == {"start_time": future(days=5).isoformat()}
    assert entry.after["start_time"] == future(days=6, hour=14).isoformat()


def test_scheduling_a_credit_is_audited(practitioner, client_user):
    order = paid_bundle(client_user, practitioner, classes=1)
    (credit,) = order.bookings
    booking.schedule_credit(credit, future(days=4))
    entry = _one(AuditAction.CREDIT_SCHEDULED, client_user.id, practitioner.id)
    assert entry.object_id == credit.id
    assert entry.before == {"status": "draft"} and entry.after["status"] == "confirmed"


def test_an_expired_hold_is_audited_per_order(practitioner, client_user):
    session = make_workshop(practitioner, price_cents=2000)
    order = booking.book_workshop_seat(client_user, session)
    assert booking.release_expired_holds(now=utcnow() + timedelta(days=1)) == 1
    entry = _one(AuditAction.HOLD_EXPIRED, client_user.id, practitioner.id)
    assert entry.object_id == order.id
    assert entry.after == {"bookings_released": [order.bookings[0].id]}


def test_waitlist_offers_made_accepted_and_lapsed_are_audited(practitioner):
    session, (holder,) = full_workshop(practitioner, price_cents=2000)
    first, second = make_user(), make_user()
    entry_first = booking.join_waitlist(first, session)
    entry_second = booking.join_waitlist(second, session)

    booking.cancel_booking(session.bookings[0], practitioner)
    made = _one(AuditAction.WAITLIST_OFFER_MADE, first.id, practitioner.id)
    assert made.object_id == entry_first.id

    # The first lets the offer lapse: the seat goes to the second, who pays and claims it.
    db.session.refresh(entry_first)
    later = entry_first.offer_expires_at + timedelta(minutes=1)
    booking.release_expired_holds(now=later)
    lapsed = _one(AuditAction.WAITLIST_OFFER_LAPSED, first.id, practitioner.id)
    assert lapsed.object_id == entry_first.order_id
    assert _entries(AuditAction.HOLD_EXPIRED) == []
    db.session.refresh(entry_second)
    booking.confirm_payment(entry_second.order, now=later)
    accepted = _one(AuditAction.WAITLIST_OFFER_ACCEPTED, second.id, practitioner.id)
    assert accepted.object_id == entry_second.id
    assert holder.id not in {e.client_id for e in _entries(AuditAction.WAITLIST_OFFER_MADE)}


def test_an_attendance_override_is_audited_without_its_reason(practitioner, client_user):
    session = finish(book_past_session(practitioner, [client_user], past(2)))
    seat = session.bookings[0]
    booking.override_outcome(
        seat, AttendanceStatus.ATTENDED, practitioner, reason="Joined by phone, said Ann"
    )
    entry = _one(AuditAction.ATTENDANCE_OVERRIDDEN, client_user.id, practitioner.id)
    assert entry.object_id == seat.id and entry.actor_id == practitioner.id
    assert entry.before == {"outcome": "no_show"} and entry.after == {"outcome": "attended"}
    assert "Ann" not in json.dumps([entry.before, entry.after])
