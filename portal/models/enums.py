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
    # N credits, each spent on a seat in an eligible group session (portal/models/passes.py).
    CLASS_PASS = "class_pass"
    # A plan billed every period by Stripe; each paid period grants credits as a class pass
    # does (portal/models/memberships.py).
    MEMBERSHIP = "membership"


set_labels(
    ServiceType,
    {
        ServiceType.INDIVIDUAL: lazy_gettext("individual"),
        ServiceType.WORKSHOP: lazy_gettext("workshop"),
        ServiceType.COURSE: lazy_gettext("course"),
        ServiceType.PACKAGE: lazy_gettext("package"),
        ServiceType.BUNDLE: lazy_gettext("bundle"),
        ServiceType.CLASS_PASS: lazy_gettext("class pass"),
        ServiceType.MEMBERSHIP: lazy_gettext("membership"),
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


# Bookings in these states occupy a seat of their session.
SEAT_HOLDING = (BookingStatus.DRAFT, BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)


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


class PaymentKind(StrEnum):
    """What one money movement of an order is (a row of the payments ledger)."""

    # Money in through a provider (a card payment).
    CHARGE = "charge"
    # Money back to the client.
    REFUND = "refund"
    # A fee charged to the client beyond the order's total.
    FEE = "fee"
    # The client's bank took the money back pending a dispute.
    DISPUTE = "dispute"
    # Money in outside any provider (cash, transfer), recorded by a person.
    MANUAL_PAYMENT = "manual_payment"
    # A dispute closed in the practitioner's favour: its amount came back to them.
    DISPUTE_WON = "dispute_won"


set_labels(
    PaymentKind,
    {
        PaymentKind.CHARGE: lazy_gettext("card payment"),
        PaymentKind.REFUND: lazy_gettext("refund"),
        PaymentKind.FEE: lazy_gettext("fee"),
        PaymentKind.DISPUTE: lazy_gettext("dispute"),
        PaymentKind.MANUAL_PAYMENT: lazy_gettext("payment recorded"),
        PaymentKind.DISPUTE_WON: lazy_gettext("dispute won"),
    },
)

# Movements that pay toward the order's total, and those that take money back.
PAYMENTS_IN = (PaymentKind.CHARGE, PaymentKind.MANUAL_PAYMENT)
PAYMENTS_BACK = (PaymentKind.REFUND, PaymentKind.DISPUTE)


class PaymentPolicy(StrEnum):
    """When a service's client pays."""

    # The whole price at booking; the seat is held while the client pays.
    IN_FULL = "in_full"
    # Part of the price at booking (fixed or a percentage), the balance later.
    DEPOSIT = "deposit"
    # Confirmed at once with the whole price due; never canceled for being unpaid.
    PAY_LATER = "pay_later"
    # Nothing to pay.
    FREE = "free"


set_labels(
    PaymentPolicy,
    {
        PaymentPolicy.IN_FULL: lazy_gettext("pay in full at booking"),
        PaymentPolicy.DEPOSIT: lazy_gettext("deposit at booking, balance later"),
        PaymentPolicy.PAY_LATER: lazy_gettext("pay later or at the session"),
        PaymentPolicy.FREE: lazy_gettext("free"),
    },
)


class FeeKind(StrEnum):
    """What a cancellation policy charges for."""

    # The client canceled inside the service's cut-off.
    LATE_CANCEL = "late_cancel"
    # The client did not come (attendance marked them absent).
    NO_SHOW = "no_show"


set_labels(
    FeeKind,
    {
        FeeKind.LATE_CANCEL: lazy_gettext("late-cancel fee"),
        FeeKind.NO_SHOW: lazy_gettext("no-show fee"),
    },
)


class FeeStatus(StrEnum):
    """Where a fee stands; only the worker's charge and a practitioner's waiver move it."""

    # Owed; the worker charges the card on file.
    PENDING = "pending"
    # Collected: a fee row in the ledger says so.
    CHARGED = "charged"
    # The card failed (or none is on file): a balance the client owes.
    DUE = "due"
    # The practitioner let it go.
    WAIVED = "waived"


set_labels(
    FeeStatus,
    {
        FeeStatus.PENDING: lazy_gettext("being charged"),
        FeeStatus.CHARGED: lazy_gettext("charged"),
        FeeStatus.DUE: lazy_gettext("due"),
        FeeStatus.WAIVED: lazy_gettext("waived"),
    },
)


class CancelReason(StrEnum):
    """Why a booking or an order was canceled, as the domain records it. A person's own
    words (typed when canceling) go in the row's cancel_note, never here: rules compare
    only members of this enum, and the column's CHECK admits nothing else."""

    HOLD_EXPIRED = "hold_expired"
    WAITLIST_DECLINED = "waitlist offer declined"
    ORDER_EMPTIED = "every booking canceled"
    CANCELED = "canceled"
    SESSION_CANCELED = "session canceled"
    BY_CLIENT = "canceled by client"
    REMOVED_BY_PRACTITIONER = "removed by practitioner"
    AT_CLIENT_REQUEST = "canceled at their request by practitioner"

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
        CancelReason.BY_CLIENT: lazy_gettext("canceled by client"),
        CancelReason.REMOVED_BY_PRACTITIONER: lazy_gettext("removed by practitioner"),
        CancelReason.AT_CLIENT_REQUEST: lazy_gettext("canceled at their request by practitioner"),
    },
)


class RoomState(StrEnum):
    """Whether a session's video room lets people in now, whoever is asking."""

    OPEN = "open"
    NOT_YET = "not_yet"
    CLOSED = "closed"


set_labels(
    RoomState,
    {
        RoomState.OPEN: lazy_gettext("open"),
        RoomState.NOT_YET: lazy_gettext("not open yet"),
        RoomState.CLOSED: lazy_gettext("closed"),
    },
)


class ParticipantKind(StrEnum):
    """Who a room participant was to the session."""

    # The session's practitioner.
    HOST = "host"
    # A user holding a confirmed booking in it.
    BOOKED = "booked"
    # Anyone else: a guest with a shared link, a recorder.
    UNBOOKED = "unbooked"


set_labels(
    ParticipantKind,
    {
        ParticipantKind.HOST: lazy_gettext("host"),
        ParticipantKind.BOOKED: lazy_gettext("booked"),
        ParticipantKind.UNBOOKED: lazy_gettext("unbooked"),
    },
)


class RoomEventKind(StrEnum):
    """The LiveKit webhook events attendance uses, by LiveKit's own names."""

    ROOM_STARTED = "room_started"
    ROOM_FINISHED = "room_finished"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"
    PARTICIPANT_CONNECTION_ABORTED = "participant_connection_aborted"

    @property
    def is_participant_event(self) -> bool:
        return self not in (RoomEventKind.ROOM_STARTED, RoomEventKind.ROOM_FINISHED)


set_labels(
    RoomEventKind,
    {
        RoomEventKind.ROOM_STARTED: lazy_gettext("room started"),
        RoomEventKind.ROOM_FINISHED: lazy_gettext("room finished"),
        RoomEventKind.PARTICIPANT_JOINED: lazy_gettext("participant joined"),
        RoomEventKind.PARTICIPANT_LEFT: lazy_gettext("participant left"),
        RoomEventKind.PARTICIPANT_CONNECTION_ABORTED: lazy_gettext("connection lost"),
    },
)


class RoomEventReceipt(StrEnum):
    """What taking in a LiveKit event did with it (the webhook answers it as `status`)."""

    # Stored, to be applied.
    ACCEPTED = "accepted"
    # Its id came before: nothing changes.
    DUPLICATE = "duplicate"
    # No session has the room it names.
    UNKNOWN_ROOM = "unknown_room"
    # A kind attendance does not use, or a time far outside the session's.
    IGNORED = "ignored"


set_labels(
    RoomEventReceipt,
    {
        RoomEventReceipt.ACCEPTED: lazy_gettext("accepted"),
        RoomEventReceipt.DUPLICATE: lazy_gettext("duplicate"),
        RoomEventReceipt.UNKNOWN_ROOM: lazy_gettext("unknown room"),
        RoomEventReceipt.IGNORED: lazy_gettext("ignored"),
    },
)


class AttendanceKind(StrEnum):
    """What one booking's row in the attendance reports is: the recorded or computed
    outcome (AttendanceStatus's values), a late cancel, or not known yet."""

    ATTENDED = "attended"
    NO_SHOW = "no_show"
    LATE_CANCEL = "late_cancel"
    # A confirmed seat of a session not completed yet, whose client has not attended (yet).
    PENDING = "pending"


set_labels(
    AttendanceKind,
    {
        AttendanceKind.ATTENDED: lazy_gettext("attended"),
        AttendanceKind.NO_SHOW: lazy_gettext("no show"),
        AttendanceKind.LATE_CANCEL: lazy_gettext("late cancel"),
        AttendanceKind.PENDING: lazy_gettext("pending"),
    },
)


def enum_column(enum_cls: type[StrEnum], name: str, *, length: int | None = None) -> Enum:
    """A VARCHAR with a named CHECK constraint, identical on SQLite and PostgreSQL.

    `length` keeps a column older than its enum at its width (the longest member by default).
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length or max(len(member.value) for member in enum_cls),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
