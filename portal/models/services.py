from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING

from flask_babel import gettext, ngettext
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from ..l10n import format_money
from .enums import CREDIT_SERVICE_TYPES, FeeKind, PaymentPolicy, ServiceType, enum_column
from .users import User

if TYPE_CHECKING:
    from .passes import ClassPassTerms, ServiceTag


def deposit_for(
    policy: PaymentPolicy, price_cents: int, fixed: int | None, percent: int | None
) -> int | None:
    """What a deposit policy takes at booking (never nothing, never the whole price); None
    for any other policy. Takes the columns, so a locked row (booking.express) reads it too."""
    if policy != PaymentPolicy.DEPOSIT or price_cents == 0:
        return None
    amount = fixed if fixed is not None else price_cents * (percent or 0) // 100
    return amount if 0 < amount < price_cents else None


class Service(Model):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("max_participants >= 1", name="capacity_positive"),
        CheckConstraint("cancellation_cutoff_hours >= 0", name="cutoff_not_negative"),
        CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_positive"),
        # A deposit is a fixed amount or a percentage, exactly one of them, and only for
        # the deposit policy.
        CheckConstraint(
            "payment_policy <> 'deposit' OR ((deposit_cents IS NULL) <> (deposit_percent IS NULL))",
            name="deposit_given_once",
        ),
        CheckConstraint(
            "payment_policy = 'deposit' OR (deposit_cents IS NULL AND deposit_percent IS NULL)",
            name="deposit_only_for_deposit",
        ),
        CheckConstraint("deposit_cents IS NULL OR deposit_cents > 0", name="deposit_positive"),
        CheckConstraint(
            "deposit_percent IS NULL OR (deposit_percent BETWEEN 1 AND 99)",
            name="deposit_percent_range",
        ),
        # Its own booking policy (booking.slots.BookingPolicy); NULL: the practitioner's.
        CheckConstraint(
            "buffer_minutes IS NULL OR buffer_minutes >= 0", name="service_buffer_not_negative"
        ),
        CheckConstraint(
            "min_notice_minutes IS NULL OR min_notice_minutes >= 0",
            name="service_notice_not_negative",
        ),
        CheckConstraint(
            "horizon_days IS NULL OR horizon_days >= 1", name="service_horizon_positive"
        ),
        CheckConstraint(
            "bookable_weekdays IS NULL OR (bookable_weekdays BETWEEN 1 AND 127)",
            name="service_weekdays_mask",
        ),
        CheckConstraint(
            "bookable_from IS NULL OR bookable_until IS NULL OR bookable_until > bookable_from",
            name="service_hours_order",
        ),
        # A late-cancel fee is an amount or a percentage of the seat's price, not both.
        CheckConstraint(
            "late_cancel_fee_cents IS NULL OR late_cancel_fee_percent IS NULL",
            name="late_fee_given_once",
        ),
        CheckConstraint(
            "late_cancel_fee_cents IS NULL OR late_cancel_fee_cents > 0",
            name="late_fee_positive",
        ),
        CheckConstraint(
            "late_cancel_fee_percent IS NULL OR (late_cancel_fee_percent BETWEEN 1 AND 100)",
            name="late_fee_percent_range",
        ),
        CheckConstraint(
            "no_show_fee_cents IS NULL OR no_show_fee_cents > 0", name="no_show_fee_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[ServiceType] = mapped_column(enum_column(ServiceType, "service_type"))
    # Every *_cents column: the currency's minor unit (portal/money.py: a JPY price in
    # yen, a KWD one in fils); shown through l10n.format_money.
    price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payment_policy: Mapped[PaymentPolicy] = mapped_column(
        enum_column(PaymentPolicy, "payment_policy"),
        default=PaymentPolicy.IN_FULL,
        server_default=PaymentPolicy.IN_FULL.value,
    )
    # The deposit policy's amount at booking: fixed (same units as price_cents) or a percentage.
    deposit_cents: Mapped[int | None] = mapped_column(default=None)
    deposit_percent: Mapped[int | None] = mapped_column(default=None)
    duration_minutes: Mapped[int] = mapped_column(default=60)
    max_participants: Mapped[int] = mapped_column(default=1)
    primary_practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Off: clients read only "Available" or "Full"; its practitioner and staff see the counts.
    show_seats_left: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Clients may cancel or reschedule free of charge up to this many hours before the
    # start; past it they may cancel online only when a late-cancel fee is set (and pay it).
    cancellation_cutoff_hours: Mapped[int] = mapped_column(default=24)
    # The cancellation policy's fees (same units as price_cents), charged off-session to
    # the card kept at booking: a late cancel costs an amount or a percentage of the seat's
    # price; a no-show an amount.
    late_cancel_fee_cents: Mapped[int | None] = mapped_column(default=None)
    late_cancel_fee_percent: Mapped[int | None] = mapped_column(default=None)
    no_show_fee_cents: Mapped[int | None] = mapped_column(default=None)
    # Packages and bundles: credits expire this many days after purchase.
    validity_days: Mapped[int | None] = mapped_column(default=None)
    # 1-on-1 services' own booking policy, each None for the practitioner's own setting.
    buffer_minutes: Mapped[int | None] = mapped_column(default=None)
    min_notice_minutes: Mapped[int | None] = mapped_column(default=None)
    horizon_days: Mapped[int | None] = mapped_column(default=None)
    # Bit n set: offered on weekday n (0 = Monday). None: every day the practitioner works.
    bookable_weekdays: Mapped[int | None] = mapped_column(default=None)
    # Offered only from/until these local hours of the practitioner's working day.
    bookable_from: Mapped[time | None] = mapped_column(default=None)
    bookable_until: Mapped[time | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    primary_practitioner: Mapped[User] = relationship()
    components: Mapped[list[ServiceComponent]] = relationship(
        foreign_keys="ServiceComponent.parent_service_id",
        back_populates="parent_service",
        cascade="all, delete-orphan",
        order_by="ServiceComponent.id",
    )
    tags: Mapped[list[ServiceTag]] = relationship(
        cascade="all, delete-orphan", order_by="ServiceTag.tag"
    )
    # A class pass's terms (one row, for a class pass only).
    pass_terms: Mapped[ClassPassTerms | None] = relationship(
        foreign_keys="ClassPassTerms.service_id",
        back_populates="service",
        cascade="all, delete-orphan",
    )

    @property
    def bookable_weekday_set(self) -> frozenset[int] | None:
        mask = self.bookable_weekdays
        return None if mask is None else frozenset(d for d in range(7) if mask >> d & 1)

    @property
    def is_credit_based(self) -> bool:
        return self.service_type in CREDIT_SERVICE_TYPES

    @property
    def sells_credits(self) -> bool:
        """Sold as credits used later (a package, bundle or class pass): no time of its own."""
        return self.is_credit_based or self.is_class_pass

    @property
    def is_class_pass(self) -> bool:
        return self.service_type == ServiceType.CLASS_PASS

    @property
    def tag_names(self) -> list[str]:
        return [row.tag for row in self.tags]

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0 or self.payment_policy == PaymentPolicy.FREE

    @property
    def deposit_amount(self) -> int | None:
        """What a deposit policy takes at booking; None otherwise."""
        return deposit_for(
            self.payment_policy, self.price_cents, self.deposit_cents, self.deposit_percent
        )

    @property
    def payment_terms(self) -> str:
        """The policy in the words a client reads before booking."""
        if self.is_free:
            return gettext("Free: nothing to pay.")
        if self.payment_policy == PaymentPolicy.PAY_LATER:
            return gettext(
                "Your booking is confirmed at once; pay %(price)s later or at the session.",
                price=self.price_display,
            )
        deposit = self.deposit_amount
        if deposit is not None:
            return gettext(
                "Pay a deposit of %(deposit)s to confirm your booking; the balance of "
                "%(balance)s is due later or at the session.",
                deposit=format_money(deposit, self.currency),
                balance=format_money(self.price_cents - deposit, self.currency),
            )
        return gettext(
            "Pay %(price)s when you book; your place is held while you pay.",
            price=self.price_display,
        )

    def fee_for(self, kind: FeeKind, price_cents: int) -> int:
        """The policy's fee for a seat that cost price_cents; 0 when there is none."""
        if kind == FeeKind.NO_SHOW:
            return self.no_show_fee_cents or 0
        if self.late_cancel_fee_percent is not None:
            return price_cents * self.late_cancel_fee_percent // 100
        return self.late_cancel_fee_cents or 0

    @property
    def has_late_cancel_fee(self) -> bool:
        return self.late_cancel_fee_cents is not None or self.late_cancel_fee_percent is not None

    @property
    def fee_terms(self) -> list[str]:
        """The cancellation policy's fees in the words a client reads before paying and in
        the confirmation: nothing when the service charges none."""
        hours = ngettext("%(num)d hour", "%(num)d hours", self.cancellation_cutoff_hours)
        terms = []
        if self.late_cancel_fee_percent is not None:
            terms.append(
                gettext(
                    "Canceling later than %(hours)s before the start costs %(percent)d%% of "
                    "the price.",
                    hours=hours,
                    percent=self.late_cancel_fee_percent,
                )
            )
        elif self.late_cancel_fee_cents is not None:
            terms.append(
                gettext(
                    "Canceling later than %(hours)s before the start costs %(fee)s.",
                    hours=hours,
                    fee=format_money(self.late_cancel_fee_cents, self.currency),
                )
            )
        if self.no_show_fee_cents is not None:
            terms.append(
                gettext(
                    "Missing the session without canceling costs %(fee)s.",
                    fee=format_money(self.no_show_fee_cents, self.currency),
                )
            )
        if terms:
            terms.append(gettext("Fees are charged to the card you book with."))
        return terms

    @property
    def price_display(self) -> str:
        """What a client pays, in the viewer's locale; a free service says so."""
        if self.is_free:
            return gettext("Free")
        return format_money(self.price_cents, self.currency)

    def __repr__(self) -> str:
        return f"<Service {self.id} {self.service_type} {self.name!r}>"


class ServiceComponent(Model):
    """What a package (several rows) or a bundle (one row) contains."""

    __tablename__ = "service_components"
    __table_args__ = (
        UniqueConstraint("parent_service_id", "included_service_id", name="uq_component_pair"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("parent_service_id <> included_service_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    included_service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    quantity: Mapped[int] = mapped_column(default=1)

    parent_service: Mapped[Service] = relationship(
        foreign_keys=[parent_service_id], back_populates="components"
    )
    included_service: Mapped[Service] = relationship(foreign_keys=[included_service_id])
