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


# The credit-based services (bought as unscheduled credits, scheduled later) and the
# session type each one's credits become. Every rule that asks "is this a credit?"
# reads these.
CREDIT_SESSION_TYPE: dict[ServiceType, SessionType] = {
    ServiceType.PACKAGE: SessionType.PACKAGE_SESSION,
    ServiceType.BUNDLE: SessionType.BUNDLE_SESSION,
}
CREDIT_SERVICE_TYPES = frozenset(CREDIT_SESSION_TYPE)
CREDIT_SESSION_TYPES = frozenset(CREDIT_SESSION_TYPE.values())
# Sessions that belong to their one client, so the client may move them.
RESCHEDULABLE_SESSION_TYPES = frozenset({SessionType.INDIVIDUAL, *CREDIT_SESSION_TYPES})


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
    # The hold lapsed unpaid and its seats were released; a late payment may still take
    # them again if they are free (booking.payments).
    EXPIRED = "expired"


class CancelReason(StrEnum):
    """Why the domain itself canceled a booking or an order. A person's own reason
    (typed when canceling) is stored as free text beside these; rules compare only
    members of this enum."""

    HOLD_EXPIRED = "hold_expired"
    WAITLIST_DECLINED = "waitlist offer declined"
    ORDER_EMPTIED = "every booking canceled"
    CANCELED = "canceled"
    SESSION_CANCELED = "session canceled"

    @property
    def label(self) -> str:
        return _CANCEL_LABELS[self]

    @classmethod
    def of(cls, stored: str) -> CancelReason | None:
        """The member a stored reason is, or None for a person's own words."""
        try:
            return cls(stored)
        except ValueError:
            return None


_CANCEL_LABELS = {
    CancelReason.HOLD_EXPIRED: "hold lapsed",
    CancelReason.WAITLIST_DECLINED: "waitlist offer declined",
    CancelReason.ORDER_EMPTIED: "every booking canceled",
    CancelReason.CANCELED: "canceled",
    CancelReason.SESSION_CANCELED: "session canceled",
}


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
