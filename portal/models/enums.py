"""Status and type vocabularies, stored as their lowercase string values."""

from __future__ import annotations

import enum

from sqlalchemy import Enum


class StrEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Role(StrEnum):
    CLIENT = "client"
    PRACTITIONER = "practitioner"
    STAFF = "staff"


class ServiceType(StrEnum):
    INDIVIDUAL = "individual"
    WORKSHOP = "workshop"
    COURSE = "course"
    PACKAGE = "package"
    BUNDLE = "bundle"


class SessionType(StrEnum):
    INDIVIDUAL = "individual"
    WORKSHOP = "workshop"
    COURSE_SESSION = "course_session"
    PACKAGE_SESSION = "package_session"
    BUNDLE_SESSION = "bundle_session"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELED = "canceled"


class BookingStatus(StrEnum):
    DRAFT = "draft"
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELED = "canceled"


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"
    REFUNDED = "refunded"


def enum_column(enum_cls: type[StrEnum], name: str) -> Enum:
    """A VARCHAR with a named CHECK constraint, identical on SQLite and PostgreSQL."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
