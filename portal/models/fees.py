"""A cancellation policy's fee owed by a client, and the card kept to charge it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from ..l10n import format_money
from .enums import FeeKind, FeeStatus, enum_column
from .users import User


class Fee(Model):
    """A late-cancel or no-show fee of one booking. What was collected is a fee row of the
    payments ledger; this row says what is owed and how it ended (charged, due, waived)."""

    __tablename__ = "fees"
    __table_args__ = (
        # One fee of each kind per booking: a cancel or a no-show marked twice charges once.
        UniqueConstraint("booking_id", "kind", name="uq_fees_booking_kind"),
        CheckConstraint("amount_cents > 0", name="fee_amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"))
    kind: Mapped[FeeKind] = mapped_column(enum_column(FeeKind, "fee_kind"))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[FeeStatus] = mapped_column(
        enum_column(FeeStatus, "fee_status"), default=FeeStatus.PENDING
    )
    # Stripe's payment intent of the off-session charge, once tried.
    provider_payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    # Why the card was not charged (the provider's decline code, or no card on file).
    failure: Mapped[str] = mapped_column(String(200), default="")
    waived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    waive_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    waived_by: Mapped[User | None] = relationship()

    @property
    def amount_display(self) -> str:
        return format_money(self.amount_cents, self.currency)


class StripeCustomer(Model):
    """A client's customer at one Stripe account ("" is the installation's own) and the card
    Checkout kept there for charges made while they are away (fees)."""

    __tablename__ = "stripe_customers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    account: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    customer_id: Mapped[str] = mapped_column(String(255))
    payment_method_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StripeAccount(Model):
    """A practitioner's own Stripe account (Stripe Connect, Express onboarding): with
    PORTAL_STRIPE_CONNECT on, their orders are charged on it and paid into it. It takes
    charges once Stripe says so (its account.updated event)."""

    __tablename__ = "stripe_accounts"

    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Stripe's charges_enabled: onboarding done and the account may take payments.
    charges_enabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
