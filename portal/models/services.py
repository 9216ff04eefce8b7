from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..l10n import format_money
from .enums import CREDIT_SERVICE_TYPES, ServiceType, enum_column
from .users import User


class Service(db.Model):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("max_participants >= 1", name="capacity_positive"),
        CheckConstraint("cancellation_cutoff_hours >= 0", name="cutoff_not_negative"),
        CheckConstraint("validity_days IS NULL OR validity_days > 0", name="validity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    service_type: Mapped[ServiceType] = mapped_column(enum_column(ServiceType, "service_type"))
    # Hundredths of the currency's unit whatever its minor units (a JPY price is whole:
    # l10n.currency_decimals); shown through l10n.format_money.
    price_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    duration_minutes: Mapped[int] = mapped_column(default=60)
    max_participants: Mapped[int] = mapped_column(default=1)
    primary_practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Off: clients read only "Available" or "Full"; its practitioner and staff see the counts.
    show_seats_left: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Clients may cancel or reschedule up to this many hours before the start.
    cancellation_cutoff_hours: Mapped[int] = mapped_column(default=24)
    # Packages and bundles: credits expire this many days after purchase.
    validity_days: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    primary_practitioner: Mapped[User] = relationship()
    components: Mapped[list[ServiceComponent]] = relationship(
        foreign_keys="ServiceComponent.parent_service_id",
        back_populates="parent_service",
        cascade="all, delete-orphan",
        order_by="ServiceComponent.id",
    )

    @property
    def is_credit_based(self) -> bool:
        return self.service_type in CREDIT_SERVICE_TYPES

    @property
    def price_display(self) -> str:
        """What a client pays, in the viewer's locale; a free service says so."""
        if self.price_cents == 0:
            return gettext("Free")
        return format_money(self.price_cents, self.currency)

    def __repr__(self) -> str:
        return f"<Service {self.id} {self.service_type} {self.name!r}>"


class ServiceComponent(db.Model):
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
