"""Receipts: each payment, fee and refund of an order is issued a receipt, numbered in
its practitioner's own sequence, and the client is sent it, in the transaction that
records the movement (a rollback issues nothing and spends no number). A movement that has
a message of its own (a payment that confirms a booking, a refund) sends its receipt in
that message: one email per movement, never a confirmation and a receipt apart.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm.attributes import set_committed_value

from ..core.sql import next_in_sequence
from ..extensions import db
from ..models import (
    NotificationKind,
    Order,
    Payment,
    PaymentKind,
    Receipt,
    ReceiptCounter,
)
from ..notifications import outbox

log = logging.getLogger(__name__)

_COUNTERS = ReceiptCounter.__table__

# A dispute is the bank taking money back, not something the practitioner issues.
RECEIPTED = (PaymentKind.CHARGE, PaymentKind.MANUAL_PAYMENT, PaymentKind.FEE, PaymentKind.REFUND)


def issue_receipt(
    order: Order, payment: Payment, now: datetime, *, send: bool = True
) -> Receipt | None:
    """Number the movement's receipt and queue it to the client (unless `send` is False:
    the caller's own message carries it, as payment.receipt); the caller holds the order's
    lock and has flushed `payment`. The practitioner's counter row is locked from here to
    the commit: the caller takes it last, after any provider call."""
    if payment.kind not in RECEIPTED:
        return None
    practitioner_id = order.service.primary_practitioner_id
    number = next_in_sequence(_COUNTERS, "practitioner_id", "last_number", practitioner_id)
    receipt = Receipt(
        payment_id=payment.id, practitioner_id=practitioner_id, number=number, issued_at=now
    )
    db.session.add(receipt)
    db.session.flush()
    # Known to the movement without a query: its message names it.
    set_committed_value(payment, "receipt", receipt)
    if send:
        outbox.notify(NotificationKind.RECEIPT, order.user_id, receipt_id=receipt.id)
    log.info(
        "receipt %s-%s issued: payment %s (%s) of order %s",
        practitioner_id,
        number,
        payment.id,
        payment.kind.value,
        order.id,
    )
    return receipt
