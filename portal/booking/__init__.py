"""The booking domain: every rule about sessions, seats, orders and attendance.

Views, CLI commands and webhooks call these functions; none of them writes a
booking rule of its own.
"""

from .attendance import (
    attended_seconds,
    mark_attendance,
    override_outcome,
    record_outcomes,
    session_attendance,
)
from .availability import available_slots, check_bookable
from .cancellation import cancel_booking, cancel_session, cutoff_passed
from .capacity import resize_session
from .errors import (
    AlreadyBooked,
    AlreadyWaiting,
    CancellationWindowClosed,
    CreditExpired,
    DomainError,
    HoldExpired,
    InvalidInput,
    InvalidTransition,
    JoinRefused,
    NotBookable,
    NotPermitted,
    SessionFull,
    SlotUnavailable,
)
from .factory import (
    book_individual_session,
    book_workshop_seat,
    buy_credits,
    create_session,
    credit_expires_at,
    enroll_in_course,
    schedule_credit,
)
from .lifecycle import complete_session, start_session
from .payment_providers import PaymentStart, get_provider, register_provider
from .payments import confirm_payment
from .purchases import purchase, purchase_by_ids
from .rescheduling import can_reschedule, reschedule_booking
from .rooms import (
    ParticipantSnapshot,
    RoomEvent,
    check_can_join,
    join_window_state,
    prune_processed_room_events,
    record_room_event,
)
from .seats import release_expired_holds
from .transactions import unit_of_work
from .waitlist import accept_offer, join_waitlist, leave_waitlist

__all__ = [
    "AlreadyBooked",
    "CancellationWindowClosed",
    "CreditExpired",
    "DomainError",
    "HoldExpired",
    "InvalidInput",
    "InvalidTransition",
    "JoinRefused",
    "NotBookable",
    "ParticipantSnapshot",
    "RoomEvent",
    "NotPermitted",
    "SessionFull",
    "SlotUnavailable",
    "attended_seconds",
    "available_slots",
    "book_individual_session",
    "book_workshop_seat",
    "buy_credits",
    "cancel_booking",
    "cancel_session",
    "check_bookable",
    "check_can_join",
    "complete_session",
    "confirm_payment",
    "create_session",
    "credit_expires_at",
    "cutoff_passed",
    "enroll_in_course",
    "join_window_state",
    "prune_processed_room_events",
    "record_room_event",
    "purchase",
    "purchase_by_ids",
    "release_expired_holds",
    "schedule_credit",
    "start_session",
    "unit_of_work",
    "mark_attendance",
    "override_outcome",
    "record_outcomes",
    "session_attendance",
    "AlreadyWaiting",
    "PaymentStart",
    "accept_offer",
    "can_reschedule",
    "get_provider",
    "join_waitlist",
    "leave_waitlist",
    "register_provider",
    "reschedule_booking",
    "resize_session",
]
