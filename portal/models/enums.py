"""Status and type vocabularies, stored as their lowercase string values."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext
from sqlalchemy import Enum

# Each enum's reading form of its members, registered beside the enum with set_labels.
# Keyed by class: members of different enums with the same value ("canceled") are equal.
_LABELS: dict[type, dict] = {}


class StrEnum(enum.StrEnum):
    @property
    def label(self):
        """The member as people read it, translated when it is shown (a lazy string: keep
        it out of JSON, or str() it there)."""
        return _LABELS[type(self)][self]


def set_labels(enum_cls: type[StrEnum], labels: dict) -> None:
    """Give every member of enum_cls its label; a member without one fails at import."""
    missing = set(enum_cls) - set(labels)
    if missing:
        raise ValueError(f"{enum_cls.__name__} has no label for {sorted(missing)}")
    _LABELS[enum_cls] = labels


class Role(StrEnum):
    CLIENT = "client"
    PRACTITIONER = "practitioner"
    STAFF = "staff"


set_labels(
    Role,
    {
        Role.CLIENT: lazy_gettext("client"),
        Role.PRACTITIONER: lazy_gettext("practitioner"),
        Role.STAFF: lazy_gettext("staff"),
    },
)


class ServiceType(StrEnum):
    INDIVIDUAL = "individual"
    WORKSHOP = "workshop"
    COURSE = "course"
    PACKAGE = "package"
    BUNDLE = "bundle"


set_labels(
    ServiceType,
    {
        ServiceType.INDIVIDUAL: lazy_gettext("individual"),
        ServiceType.WORKSHOP: lazy_gettext("workshop"),
        ServiceType.COURSE: lazy_gettext("course"),
        ServiceType.PACKAGE: lazy_gettext("package"),
        ServiceType.BUNDLE: lazy_gettext("bundle"),
    },
)


class SessionType(StrEnum):
    INDIVIDUAL = "individual"
    WORKSHOP = "workshop"
    COURSE_SESSION = "course_session"
    PACKAGE_SESSION = "package_session"
    BUNDLE_SESSION = "bundle_session"


set_labels(
    SessionType,
    {
        SessionType.INDIVIDUAL: lazy_gettext("individual"),
        SessionType.WORKSHOP: lazy_gettext("workshop"),
        SessionType.COURSE_SESSION: lazy_gettext("course session"),
        SessionType.PACKAGE_SESSION: lazy_gettext("package session"),
        SessionType.BUNDLE_SESSION: lazy_gettext("bundle session"),
    },
)


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


set_labels(
    Visibility,
    {
        Visibility.PUBLIC: lazy_gettext("public"),
        Visibility.PRIVATE: lazy_gettext("private"),
    },
)


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELED = "canceled"


set_labels(
    SessionStatus,
    {
        SessionStatus.DRAFT: lazy_gettext("draft"),
        SessionStatus.SCHEDULED: lazy_gettext("scheduled"),
        SessionStatus.IN_PROGRESS: lazy_gettext("in progress"),
        SessionStatus.COMPLETED: lazy_gettext("completed"),
        SessionStatus.CANCELED: lazy_gettext("canceled"),
    },
)


class BookingStatus(StrEnum):
    DRAFT = "draft"
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELED = "canceled"


set_labels(
    BookingStatus,
    {
        BookingStatus.DRAFT: lazy_gettext("draft"),
        BookingStatus.PENDING_PAYMENT: lazy_gettext("pending payment"),
        BookingStatus.CONFIRMED: lazy_gettext("confirmed"),
        BookingStatus.CANCELED: lazy_gettext("canceled"),
    },
)


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    # The hold expired unpaid and its seats were released; a late payment may still take
    # them again if they are free (booking.payments).
    EXPIRED = "expired"


set_labels(
    OrderStatus,
    {
        OrderStatus.PENDING: lazy_gettext("pending"),
        OrderStatus.PAID: lazy_gettext("paid"),
        OrderStatus.CANCELED: lazy_gettext("canceled"),
        OrderStatus.REFUNDED: lazy_gettext("refunded"),
        OrderStatus.EXPIRED: lazy_gettext("expired"),
    },
)


class CancelReason(StrEnum):
    """Why the domain itself canceled a booking or an order. A person's own reason
    (typed when canceling) is stored as free text beside these; rules compare only
    members of this enum."""

    HOLD_EXPIRED = "hold_expired"
    WAITLIST_DECLINED = "waitlist offer declined"
    ORDER_EMPTIED = "every booking canceled"
    CANCELED = "canceled"
    SESSION_CANCELED = "session canceled"

    @classmethod
    def of(cls, stored: str) -> CancelReason | None:
        """The member a stored reason is, or None for a person's own words."""
        try:
            return cls(stored)
        except ValueError:
            return None


set_labels(
    CancelReason,
    {
        CancelReason.HOLD_EXPIRED: lazy_gettext("hold expired"),
        CancelReason.WAITLIST_DECLINED: lazy_gettext("waitlist offer declined"),
        CancelReason.ORDER_EMPTIED: lazy_gettext("every booking canceled"),
        CancelReason.CANCELED: lazy_gettext("canceled"),
        CancelReason.SESSION_CANCELED: lazy_gettext("session canceled"),
    },
)


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
