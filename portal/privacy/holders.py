"""The places the portal itself keeps personal data about a client, registered in the
order an erasure visits them (rows that point at others first, the account row last).

What each keeps after an erasure: orders, payments, bookings and attendance outcomes keep
their amounts, statuses and counts, pointing at the account row, which becomes a
tombstone; so the practitioner's revenue and no-show figures stay true while naming no one.

Session notes: the export lists each note about the client (when, by whom, signed or not,
how many addenda) but not its words. They are the practitioner's clinical record, which
the practitioner (the controller of it) may have to review before disclosing (art. 15(4):
notes can name third parties; health-record law may require it); the export tells the
client to ask the practitioner for the text. The practitioner's private "about this
client" note and tags are left out the same way. All of them are erased with the account.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, delete, func, or_, select, update

from .. import records
from ..extensions import db
from ..models import (
    ApiToken,
    AttendanceOutcome,
    Booking,
    BookingStatus,
    CalendarFeed,
    ClientRecord,
    ClientTag,
    IdempotentPurchase,
    Membership,
    MembershipPeriod,
    NoteAddendum,
    Notification,
    NotificationPreferences,
    Order,
    Payment,
    ProcessedRoomEvent,
    RoomParticipant,
    ServiceSession,
    SessionNote,
    SignIn,
    User,
    WaitlistEntry,
)
from ..models.users import hash_password
from ..notifications.outbox import without_link
from .exports import forget_exports
from .registry import Erasure, Holder, columns, plain, register


def _account(user: User) -> dict:
    preferences = db.session.get(NotificationPreferences, user.id)
    return {
        **columns(user, leave_out=("password_hash", "email_version", "email_restored_version")),
        "notification_preferences": columns(preferences) if preferences else None,
    }


def _tombstone(erasure: Erasure) -> None:
    user = erasure.user
    user.name = erasure.tombstone_name
    # Unique, undeliverable (.invalid, RFC 2606) and names no one.
    user.email = f"deleted-{user.id}@erased.invalid"
    # Nobody knows it: the account can never be signed in to again.
    user.password_hash = hash_password(secrets.token_urlsafe(32))
    user.livekit_identity = erasure.tombstone_identity
    user.timezone = "UTC"
    user.locale = None
    user.is_active_account = False
    user.email_verified_at = None
    user.invited_at = None
    db.session.execute(
        delete(NotificationPreferences).where(NotificationPreferences.user_id == user.id)
    )


def _session_facts(session: ServiceSession) -> dict:
    return {
        "title": session.display_title,
        "practitioner": session.practitioner.name,
        "start_time": plain(session.start_time),
        "end_time": plain(session.end_time),
        "session_status": plain(session.status),
    }


def _bookings_of(user: User, *, credits: bool) -> list[dict]:
    status = Booking.status == BookingStatus.DRAFT
    seats = db.session.scalars(
        select(Booking)
        .where(Booking.user_id == user.id, status if credits else ~status)
        .order_by(Booking.id)
    )
    return [{**columns(b), **_session_facts(b.service_session)} for b in seats]


def _forget_cancel_notes(erasure: Erasure) -> None:
    # Whatever a practitioner typed when removing them may name or describe them.
    db.session.execute(
        update(Booking).where(Booking.user_id == erasure.user.id).values(cancel_note="")
    )


def _orders(user: User) -> list[dict]:
    orders = db.session.scalars(select(Order).where(Order.user_id == user.id).order_by(Order.id))
    return [{**columns(o), "service": o.service.name} for o in orders]


def _forget_typed_references(erasure: Erasure) -> None:
    """A reference typed when marking an order paid may name the payer; one that is the
    provider's own id (a Stripe charge) is bookkeeping and stays."""
    provider_ids = select(Payment.provider_object_id).where(
        Payment.order_id == Order.id, Payment.provider_object_id.is_not(None)
    )
    db.session.execute(
        update(Order)
        .where(Order.user_id == erasure.user.id, Order.payment_reference.not_in(provider_ids))
        .values(payment_reference="")
        .execution_options(synchronize_session=False)
    )


def _their_orders(user_id: int):
    return select(Order.id).where(Order.user_id == user_id)


def _payments(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(Payment).where(Payment.order_id.in_(_their_orders(user.id))).order_by(Payment.id)
    )
    return [columns(p) for p in rows]


def _forget_payment_reasons(erasure: Erasure) -> None:
    # Amounts, kinds and the provider's ids stay for the books; a typed reason may name them.
    db.session.execute(
        update(Payment)
        .where(Payment.order_id.in_(_their_orders(erasure.user.id)))
        .values(reason="")
        .execution_options(synchronize_session=False)
    )


def _their_bookings(user_id: int):
    return select(Booking.id).where(Booking.user_id == user_id)


def _attendance(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(AttendanceOutcome)
        .where(AttendanceOutcome.booking_id.in_(_their_bookings(user.id)))
        .order_by(AttendanceOutcome.id)
    )
    return [columns(a) for a in rows]


def _forget_override_reasons(erasure: Erasure) -> None:
    db.session.execute(
        update(AttendanceOutcome)
        .where(AttendanceOutcome.booking_id.in_(_their_bookings(erasure.user.id)))
        .values(override_reason="")
        .execution_options(synchronize_session=False)
    )


def _waitlist(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.user_id == user.id).order_by(WaitlistEntry.id)
    )
    return [columns(w) for w in rows]


def _memberships(user: User) -> list[dict]:
    """Each membership as Stripe last reported it, with the plan and the periods paid."""
    rows = db.session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    )
    return [
        {
            **columns(m),
            "plan": m.plan.name,
            "periods": [
                columns(p)
                for p in db.session.scalars(
                    select(MembershipPeriod)
                    .where(MembershipPeriod.membership_id == m.id)
                    .order_by(MembershipPeriod.id)
                )
            ],
        }
        for m in rows
    ]


def _messages(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    )
    return [
        {
            **columns(n, leave_out=("payload", "claimed_until", "dedup_key", "last_error")),
            # An account mail's link acts for whoever holds it; the export may travel.
            "payload": without_link(n.payload or {}),
        }
        for n in rows
    ]


def _forget_messages(erasure: Erasure) -> None:
    db.session.execute(
        delete(Notification).where(
            or_(
                Notification.user_id == erasure.user.id,
                func.lower(Notification.address) == erasure.email.lower(),
            )
        )
    )


def _room_presence(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(RoomParticipant)
        .where(RoomParticipant.user_id == user.id)
        .order_by(RoomParticipant.id)
    )
    return [columns(p, leave_out=("identity",)) for p in rows]


def _forget_room_identities(erasure: Erasure) -> None:
    """Room time stays (attendance is computed from it); who it was does not."""
    user_id, old_identity = erasure.user.id, erasure.livekit_identity
    new_identity = erasure.tombstone_identity
    db.session.execute(
        update(RoomParticipant)
        .where(or_(RoomParticipant.user_id == user_id, RoomParticipant.identity == old_identity))
        .values(identity=new_identity, display_name=erasure.tombstone_name)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ProcessedRoomEvent)
        .where(ProcessedRoomEvent.participant_identity == old_identity)
        .values(participant_identity=new_identity, participant_name=erasure.tombstone_name)
        .execution_options(synchronize_session=False)
    )


def _api_tokens(user: User) -> list[dict]:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    return [columns(t, leave_out=("token_hash", "prefix")) for t in rows]


def _forget_credentials(erasure: Erasure) -> None:
    user_id = erasure.user.id
    for model in (SignIn, ApiToken, CalendarFeed, IdempotentPurchase):
        db.session.execute(delete(model).where(model.user_id == user_id))


def _notes(user: User) -> list[dict]:
    notes = db.session.scalars(
        select(SessionNote).where(SessionNote.client_id == user.id).order_by(SessionNote.id)
    )
    return [
        {
            "booking_id": n.booking_id,
            "written_by": n.author.name,
            "created_at": plain(n.created_at),
            "updated_at": plain(n.updated_at),
            "signed_at": plain(n.signed_at),
            "addenda": len(n.addenda),
        }
        for n in notes
    ]


def _forget_records(erasure: Erasure) -> None:
    user_id = erasure.user.id
    about_them = select(SessionNote.id).where(SessionNote.client_id == user_id)
    db.session.execute(delete(NoteAddendum).where(NoteAddendum.note_id.in_(about_them)))
    db.session.execute(delete(SessionNote).where(SessionNote.client_id == user_id))
    db.session.execute(delete(ClientRecord).where(ClientRecord.client_id == user_id))
    db.session.execute(delete(ClientTag).where(ClientTag.client_id == user_id))


def _seen_since(practitioner_id, client_id, cutoff: datetime):
    """The client has a session with the practitioner since the cut-off, or one ahead (an
    unscheduled credit counts as ahead)."""
    return (
        select(Booking.id)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == client_id,
            ServiceSession.practitioner_id == practitioner_id,
            or_(ServiceSession.start_time.is_(None), ServiceSession.start_time >= cutoff),
        )
        .exists()
    )


def _expire_records(cutoff: datetime) -> int:
    """Notes, addenda, private notes and tags of clients not seen since the cut-off."""
    stale_notes = select(SessionNote.id).where(
        ~_seen_since(SessionNote.author_id, SessionNote.client_id, cutoff)
    )
    deleted = 0
    for statement in (
        delete(NoteAddendum).where(NoteAddendum.note_id.in_(stale_notes)),
        delete(SessionNote).where(SessionNote.id.in_(stale_notes)),
        delete(ClientRecord).where(
            ~_seen_since(ClientRecord.practitioner_id, ClientRecord.client_id, cutoff)
        ),
        delete(ClientTag).where(
            ~_seen_since(ClientTag.practitioner_id, ClientTag.client_id, cutoff)
        ),
    ):
        result = db.session.execute(statement.execution_options(synchronize_session=False))
        deleted += cast(CursorResult, result).rowcount
    return deleted


register(
    Holder("bookings", export=lambda u: _bookings_of(u, credits=False), erase=_forget_cancel_notes)
)
register(Holder("credits", export=lambda u: _bookings_of(u, credits=True)))
register(Holder("orders", export=_orders, erase=_forget_typed_references))
register(Holder("payments", export=_payments, erase=_forget_payment_reasons))
register(Holder("attendance", export=_attendance, erase=_forget_override_reasons))
register(Holder("waitlist", export=_waitlist))
register(Holder("memberships", export=_memberships))
register(Holder("messages", export=_messages, erase=_forget_messages))
register(Holder("video_rooms", export=_room_presence, erase=_forget_room_identities))
register(Holder("api_tokens", export=_api_tokens, erase=_forget_credentials))
# Copies of their data waiting for download: nothing to export, the files to delete.
register(Holder("data_exports", erase=forget_exports))
register(
    Holder(
        "intake_answers",
        export=lambda user: records.export_answers(user.id),
        erase=lambda erasure: records.erase_answers(erasure.user.id),
    )
)
register(Holder("session_notes", export=_notes, erase=_forget_records, expire=_expire_records))
# Last: the holders above match rows by the values this one replaces.
register(Holder("account", export=_account, erase=_tombstone))
