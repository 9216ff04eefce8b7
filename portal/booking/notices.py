"""Who hears of a change: the outbox rows a domain operation writes in its own unit of
work (a rollback writes none), one function per kind of change.

Rows carry ids and the facts only this moment knows (who canceled, whether a credit
came back); the worker renders the message from them later. Recipients are named by
id where the object is not at hand, so a notice costs one INSERT and no query.
Optional notices (a practitioner's) are written anyway: the recipient's choice is
applied when the worker delivers, so it holds for rows already queued.
"""

from __future__ import annotations

from datetime import datetime

from ..models import (
    SEAT_HOLDING,
    Booking,
    CancelReason,
    Fee,
    NotificationKind,
    Order,
    OrderStatus,
    Payment,
    ServiceSession,
    User,
)
from ..notifications import outbox
from ..notifications.outbox import Notice

K = NotificationKind


def _canceled_by(booking: Booking, actor: User | None) -> str:
    if actor is None:
        return "system"
    if actor.id == booking.user_id:
        return "client"
    return "staff" if actor.is_staff else "practitioner"


def _reason(reason: CancelReason, note: str = "") -> str:
    """What the message keeps of a cancel: the person's own words as typed, else the domain
    reason's code, which the message turns into words in the recipient's language when it
    is written (`notifications.messages.reason_label`). The generic reasons say nothing."""
    if note:
        return note
    if reason in (CancelReason.CANCELED, CancelReason.SESSION_CANCELED):
        return ""
    return reason.value


def order_placed(order_id: int, client_id: int, status: OrderStatus, practitioner_id: int) -> None:
    """A new order: the client hears it is confirmed (free) or held until paid; the
    practitioner hears of the booking. Given values: the express path holds no objects."""
    outbox.notify_all(order_placed_notices(order_id, client_id, status, practitioner_id))


def order_placed_notices(
    order_id: int, client_id: int, status: OrderStatus, practitioner_id: int
) -> list[Notice]:
    """order_placed's messages, for a caller that writes them itself (express.py)."""
    kind = K.BOOKING_CONFIRMED if status == OrderStatus.PAID else K.BOOKING_PENDING_PAYMENT
    return [
        Notice(kind, client_id, {"order_id": order_id}),
        Notice(
            K.PRACTITIONER_NEW_BOOKING,
            practitioner_id,
            {"order_id": order_id, "client_id": client_id},
        ),
    ]


def booked_for_client(order: Order) -> None:
    """A practitioner booked the client themselves: the client hears of it, with the
    invite, as if they had booked; the practitioner, who did it, is not told."""
    outbox.notify(K.BOOKING_CONFIRMED, order.user_id, order_id=order.id)


def credit_scheduled(booking: Booking) -> None:
    outbox.notify(K.BOOKING_CONFIRMED, booking.user_id, booking_id=booking.id)
    outbox.notify(
        K.PRACTITIONER_NEW_BOOKING,
        booking.service_session.practitioner_id,
        booking_id=booking.id,
        client_id=booking.user_id,
    )


def _receipt_of(payment: Payment | None) -> dict:
    """The movement's receipt, for the message that carries it (one email, not two)."""
    receipt = payment.receipt if payment is not None else None
    return {"receipt_id": receipt.id} if receipt is not None else {}


def payment_received(order: Order, payment: Payment | None = None) -> None:
    """The order is confirmed by a payment: the message is also the payment's receipt
    (none for a free order)."""
    outbox.notify(K.PAYMENT_RECEIVED, order.user_id, order_id=order.id, **_receipt_of(payment))


def payment_refunded(
    order: Order,
    amount_cents: int,
    *,
    reason: str = "",
    place_taken: bool = False,
    refund: Payment | None = None,
) -> None:
    """A refund reached the client's card: a person's (with their reason), or the
    automatic one of a payment that came after its place was taken. The message is also
    the refund's receipt."""
    outbox.notify(
        K.PAYMENT_REFUNDED,
        order.user_id,
        order_id=order.id,
        amount_cents=amount_cents,
        reason=reason,
        place_taken=place_taken,
        **_receipt_of(refund),
    )


def booking_canceled(
    booking: Booking,
    actor: User,
    *,
    late: bool,
    credit: Booking | None,
    reason: CancelReason,
    note: str,
    pass_credit: bool = False,
) -> None:
    """`credit` is a package credit given back; `pass_credit`, a class pass's."""
    by = _canceled_by(booking, actor)
    outbox.notify(
        K.BOOKING_CANCELED,
        booking.user_id,
        booking_id=booking.id,
        canceled_by=by,
        late=late,
        credit_returned=credit is not None or pass_credit,
        reason=_reason(reason, note),
    )
    if by == "client":
        outbox.notify(
            K.PRACTITIONER_CANCELLATION,
            booking.service_session.practitioner_id,
            booking_id=booking.id,
            client_id=booking.user_id,
            late=late,
        )


def holds_expired(expired_of_order: dict[int, tuple[list[int], int]]) -> None:
    """Unpaid orders whose hold ran out: {order id: (expired booking ids, client id)}.

    One message per order names every booking it cancels (a course's four classes), so
    the client hears of, and gets a calendar CANCEL for, each of them."""
    facts = {"canceled_by": "system", "reason": _reason(CancelReason.HOLD_EXPIRED)}
    outbox.notify_all(
        Notice(
            K.BOOKING_CANCELED,
            user_id,
            {"booking_id": ids[0], "booking_ids": ids, "order_id": order_id, **facts},
        )
        for order_id, (ids, user_id) in sorted(expired_of_order.items())
    )


def session_canceled(
    session: ServiceSession, seats: list[Booking], *, credits_returned: bool, note: str
) -> None:
    facts = {
        "credit_returned": credits_returned,
        "reason": _reason(CancelReason.SESSION_CANCELED, note),
    }
    outbox.notify_all(
        Notice(K.SESSION_CANCELED, seat.user_id, {"booking_id": seat.id, **facts}) for seat in seats
    )


def booking_rescheduled(booking: Booking, previous_start: datetime) -> None:
    outbox.notify(
        K.BOOKING_RESCHEDULED,
        booking.user_id,
        booking_id=booking.id,
        previous_start=previous_start.isoformat(),
    )


def session_moved(session: ServiceSession, previous_start: datetime) -> None:
    was = previous_start.isoformat()
    outbox.notify_all(
        Notice(K.SESSION_MOVED, seat.user_id, {"booking_id": seat.id, "previous_start": was})
        for seat in session.bookings
        if seat.status in SEAT_HOLDING
    )


# Waitlist entries are named by their ids: the operations move them with conditional
# UPDATEs that expire the objects, and reading them back would cost a query each.


def offer_made(entry_id: int, user_id: int) -> None:
    outbox.notify(K.WAITLIST_OFFER, user_id, waitlist_entry_id=entry_id)


def offer_lapsed(entry_id: int, user_id: int) -> None:
    outbox.notify(K.WAITLIST_OFFER_LAPSED, user_id, waitlist_entry_id=entry_id)


def offer_taken(entry_id: int, user_id: int, practitioner_id: int) -> None:
    outbox.notify(
        K.PRACTITIONER_WAITLIST_TAKEN,
        practitioner_id,
        waitlist_entry_id=entry_id,
        client_id=user_id,
    )


def fee_unpaid(fee: Fee, client_id: int) -> None:
    """The card on file refused a fee (or there is none): the client owes it."""
    outbox.notify(
        K.FEE_UNPAID, client_id, order_id=fee.order_id, fee_id=fee.id, amount_cents=fee.amount_cents
    )


def membership_renewed(order: Order) -> None:
    """A membership period was paid: its order names the plan and the amount."""
    outbox.notify(K.MEMBERSHIP_RENEWED, order.user_id, order_id=order.id)


def membership_payment_failed(client_id: int, membership_id: int, plan_name: str) -> None:
    """Stripe could not charge a renewal and will retry: credits wait meanwhile."""
    outbox.notify(
        K.MEMBERSHIP_PAYMENT_FAILED, client_id, membership_id=membership_id, plan_name=plan_name
    )
