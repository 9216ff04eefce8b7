"""The money ledger: every movement of an order's money is a row (STYLE rule 21).

An order's paid, refunded and due amounts are sums over these rows (Order.amount_paid and
friends), never a column kept beside them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import PaymentKind, enum_column
from .users import User

if TYPE_CHECKING:
    # orders.py and receipts.py import this module: the names are for annotations only.
    from .orders import Order
    from .receipts import Receipt


class Payment(Model):
    """One money movement of an order, in the order's currency and units (amount_cents is
    the currency's minor unit, like Order.total_cents: portal/money.py), always positive:
    its kind says which way."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="payment_amount_positive"),
        # What the provider calls this movement, once: a webhook delivered twice, or a
        # refund reported both by our own call and by its event, records it once.
        Index(
            "uq_payments_provider_object",
            "provider",
            "kind",
            "provider_object_id",
            unique=True,
            sqlite_where=text("provider_object_id IS NOT NULL"),
            postgresql_where=text("provider_object_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(enum_column(PaymentKind, "payment_kind"))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str] = mapped_column(String(32))
    # The provider's id of this very movement (a charge, refund or dispute id).
    provider_object_id: Mapped[str | None] = mapped_column(String(255))
    provider_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    provider_checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    # The Stripe account the movement was made on (Stripe Connect: the practitioner's own);
    # "" for the installation's own. A refund goes back through the charge's account.
    account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Who recorded it; NULL when the provider reported it.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()
    order: Mapped[Order] = relationship(back_populates="payments")
    receipt: Mapped[Receipt | None] = relationship(back_populates="payment", viewonly=True)


class PaymentEvent(Model):
    """A payment provider's webhook event taken in: stored as it arrived, applied by the
    worker. The provider resends an event with the same id; the unique id keeps one."""

    __tablename__ = "payment_events"
    __table_args__ = (
        Index(
            "ix_payment_events_pending",
            "id",
            sqlite_where=text("applied_at IS NULL"),
            postgresql_where=text("applied_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    # The connected account the event happened on (Stripe Connect); "" for the
    # installation's own: the worker asks that account again before acting.
    account: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # The id of the object the event is about; the worker fetches it again before acting.
    object_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # NULL while pending; set in the transaction that applies it.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What applying it did, for the operator.
    outcome: Mapped[str] = mapped_column(String(200), default="")
