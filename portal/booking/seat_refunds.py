"""Refunding chosen seats of a multi-seat order: those bookings are canceled and the
price each was sold at goes back, in one unit of work (every seat and its refund, or
nothing).

Locks follow locks.py: the order first, then the seats' sessions (cancel_booking), then
the provider's refund and the ledger row (refunds.refund_locked) with its receipt.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext

from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..database import utcnow
from ..models import SEAT_HOLDING, Booking, CancelReason, Order, Payment, User
from .cancellation import cancel_booking
from .locks import lock_order
from .refunds import refund_locked

log = logging.getLogger(__name__)


def seat_share(order: Order, chosen: list[Booking]) -> int:
    """What the chosen seats were sold at: their own prices when the order's seats add up
    to its total, else an even part of the total (a course or a bundle is priced whole)."""
    if order.seats_priced_singly:
        return sum(b.price_charged_cents for b in chosen)
    return order.total_cents * len(chosen) // len(order.bookings)


@unit_of_work
def refund_seats(
    order: Order,
    booking_ids: list[int],
    *,
    reason: str,
    actor: User,
    manual: bool = False,
    now: datetime | None = None,
) -> Payment | None:
    """The practitioner (or staff) cancels the chosen seats of an order, at the client's
    request, and refunds what they were sold at (at most what is left to refund)."""
    now = now or utcnow()
    reason = reason.strip()
    if not reason:
        raise InvalidInput(gettext("Say why the money is refunded."), field="reason")
    order = lock_order(order.id)
    holding = {b.id: b for b in order.bookings if b.status in SEAT_HOLDING}
    chosen = sorted(set(booking_ids))
    if not chosen or any(i not in holding for i in chosen):
        raise InvalidInput(
            gettext("Choose seats of this order that are still booked."), field="seats"
        )
    for booking_id in chosen:
        cancel_booking(
            holding[booking_id],
            actor,
            reason=CancelReason.AT_CLIENT_REQUEST,
            note=reason,
            now=now,
        )
    share = seat_share(order, [holding[i] for i in chosen])
    amount = min(share, order.amount_refundable)
    log.info(
        "seats refunded: order %s, bookings %s, %s %s of %s, by user %s",
        order.id,
        chosen,
        amount,
        order.currency,
        share,
        actor.id,
    )
    if amount <= 0:
        return None
    return refund_locked(
        order,
        amount,
        reason=reason,
        actor=actor,
        now=now,
        manual=manual,
        key=f"refund-seats-{order.id}-{'-'.join(map(str, chosen))}",
    )
