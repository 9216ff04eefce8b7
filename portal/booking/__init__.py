"""The booking domain: every rule about sessions, seats, orders and attendance.

Views, CLI commands and webhooks call these functions; none of them writes a
booking rule of its own. They come in through this module alone: every name they use
is exported here, and none of them imports a module of the package
(tests/unit/test_domain_layering.py checks it).

The modules stand on floors, bottom to top; a module imports only modules on
floors below its own (tests/unit/test_domain_layering.py checks it):

They stand on the kernel, portal/core (the unit of work, the typed errors this
package raises and re-exports, the SQL spellings), and on notifications' outbox.

0. payment_providers, receipts -- the payment provider registry; a money movement's
   numbered receipt (issued and sent with it) and what it shows
1. transitions, notices, events, ledger, stripe_provider -- the state machines'
   conditional UPDATEs; who hears of a change (the outbox rows written with it); the
   outbound webhook events a change writes; a money movement written as a row; Stripe
   behind the provider interface
2. locks -- row locks and the order they are taken in; idempotency (a purchase
   made once per client-chosen key); connect (a practitioner's own Stripe account:
   onboarding, and whether it takes charges); stripe_billing (a membership's
   subscription on Stripe: started on Checkout, changed, read back)
3. fees -- a cancellation policy's fee owed (charged later by the worker), a card
   kept, a fee waived, a due fee paid on Checkout or marked paid by hand
4. seats (a seat is taken: open an order, add a booking or a credit),
   slots (a slot is free: working hours minus busy time), working_hours (the
   practitioner's weekly hours and date overrides), services (a practitioner's services),
   attendance (who attended; outcomes), refunds (money given back, through the provider
   or by hand), pass_credits (a class pass credit spent on a seat, and given back)
5. offers (a freed seat is offered to the waitlist), lifecycle (a session starts
   and completes), reports (attendance reports), revenue (money in, back and owed by
   month and service), express (a workshop seat sold in
   Core statements: the common case of the busiest request)
6. holds (a hold expires: release it and offer the seat), cancellation,
   resizing (a session's capacity), rooms (video room events)
7. factory (the seed's BookingFactory: the five ways to book), rescheduling,
   class_passes (buy a class pass; take a group session's seat with one of its credits),
   seat_refunds (chosen seats of an order canceled and their price refunded)
8. checkout (buy any service: picks the factory's pattern), credits (a client's credits
   still to schedule), memberships (a plan; each paid period granted once as a pass
   holding; Stripe's reports recorded; the client's pause, resume, cancel, plan change)
9. payments (pay an order; an expired hold's seats are taken again)
10. waitlist (join, leave, accept an offer, with money or a class pass credit), timetable
   (the practitioner's calendar operations), payment_events (a provider's webhook events
   stored, then applied)
11. jobs (periodic runs such as mark_attendance)
"""

from ..core.errors import (
    AddressNotConfirmed,
    AlreadyBooked,
    AlreadyWaiting,
    CancellationWindowClosed,
    CreditExpired,
    DomainError,
    HoldExpired,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidTransition,
    JoinRefused,
    NotBookable,
    NotPermitted,
    PassLimitReached,
    PassNotEligible,
    PassUsedUp,
    SessionFull,
    SlotUnavailable,
)
from .attendance import (
    SessionAttendance,
    booking_rows,
    can_override,
    override_outcome,
    record_outcomes,
    session_attendance,
)
from .cancellation import cancel_booking, cancel_session, cutoff_passed, late_cancel_fee
from .checkout import purchase, purchase_by_ids
from .class_passes import (
    PASS_SERVICE_TYPES,
    book_with_pass,
    buy_class_pass,
    is_eligible,
    is_usable,
    nameable_services,
    pass_expires_at,
    usable_passes,
)
from .connect import connected_account, start_onboarding
from .credits import CREDIT_LOADS, CreditGroup, CreditKind, credit_groups
from .events import WEBHOOKS_WRITTEN
from .express import Sale, SoldSeat, Unless
from .factory import (
    book_individual_session,
    book_workshop_seat,
    buy_credits,
    course_sessions,
    create_session,
    credit_expires_at,
    enroll_in_course,
    schedule_credit,
)
from .fees import can_pay_fee_online, mark_fee_paid, start_fee_payment, waive_fee
from .holds import bookable_seats, release_expired_holds
from .idempotency import MAX_KEY_LENGTH, fingerprint, prune_expired_keys, purchase_once
from .jobs import mark_attendance
from .ledger import PAYMENT_EVENTS_RECEIVED
from .lifecycle import complete_session, start_session
from .memberships import (
    UNLIMITED_CREDITS,
    MemberFigures,
    PlanTerms,
    book_with_membership,
    cancel_membership,
    cancel_takes_effect,
    credits_left,
    current_membership,
    holdings,
    holdings_of,
    keep_membership,
    member_figures,
    pause_membership,
    plan_of,
    resume_membership,
    save_plan,
    subscribe,
    switch_plan,
)
from .payment_events import apply_payment_events, receive_payment_event
from .payment_providers import (
    MANUAL,
    PaymentStart,
    get_provider,
    payment_reference,
    register_provider,
)
from .payments import confirm_payment, record_provider_payment
from .refunds import refund_order
from .reports import (
    MAX_RANGE,
    REPEAT_NO_SHOWS,
    SORT_KEYS,
    CompletionRow,
    NoShowReport,
    ReportFilters,
    ReportRow,
    course_completion,
    noshow_report,
    rows_by_client,
    rows_by_service,
)
from .rescheduling import can_reschedule, reschedule_booking
from .resizing import resize_session
from .revenue import RevenueFilters, RevenueLine, RevenueReport, revenue_report
from .rooms import (
    ROOM_EVENTS_RECEIVED,
    ParticipantSnapshot,
    RoomEvent,
    apply_room_events,
    check_can_join,
    join_window_state,
    prune_processed_room_events,
    receive_room_event,
)
from .seat_refunds import refund_seats
from .services import PassTerms, latest_service, normalize_tag, save_service
from .slots import available_slots, check_bookable, check_live_slot, policy_for, settings_for
from .stripe_provider import connect_on
from .timetable import (
    CALENDAR_TYPES,
    MAX_YEAR,
    MIN_YEAR,
    add_client_to_session,
    create_course,
    enroll_client,
    local_start,
    recurrence,
    schedule_session,
    update_session,
)
from .waitlist import accept_offer, accept_offer_with_pass, join_waitlist, leave_waitlist
from .working_hours import (
    POLICY_LIMITS,
    remove_date_override,
    set_date_override,
    set_weekly_hours,
    update_schedule_settings,
)

FLOORS: tuple[tuple[str, ...], ...] = (
    ("payment_providers", "receipts"),
    ("transitions", "notices", "events", "ledger", "stripe_provider"),
    ("locks", "idempotency", "connect", "stripe_billing"),
    ("fees",),
    ("seats", "slots", "working_hours", "services", "attendance", "refunds", "pass_credits"),
    ("offers", "lifecycle", "reports", "revenue", "express"),
    ("holds", "cancellation", "resizing", "rooms"),
    ("factory", "rescheduling", "class_passes", "seat_refunds"),
    ("checkout", "credits", "memberships"),
    ("payments",),
    ("waitlist", "timetable", "payment_events"),
    ("jobs",),
)

__all__ = [
    "UNLIMITED_CREDITS",
    "MemberFigures",
    "PlanTerms",
    "book_with_membership",
    "cancel_membership",
    "cancel_takes_effect",
    "credits_left",
    "current_membership",
    "holdings",
    "holdings_of",
    "keep_membership",
    "member_figures",
    "pause_membership",
    "plan_of",
    "resume_membership",
    "save_plan",
    "subscribe",
    "switch_plan",
    "PASS_SERVICE_TYPES",
    "nameable_services",
    "PassTerms",
    "normalize_tag",
    "book_with_pass",
    "buy_class_pass",
    "is_eligible",
    "pass_expires_at",
    "usable_passes",
    "is_usable",
    "accept_offer_with_pass",
    "latest_service",
    "late_cancel_fee",
    "waive_fee",
    "connected_account",
    "start_onboarding",
    "connect_on",
    "can_pay_fee_online",
    "mark_fee_paid",
    "start_fee_payment",
    "refund_seats",
    "RevenueFilters",
    "RevenueLine",
    "RevenueReport",
    "revenue_report",
    "MANUAL",
    "PAYMENT_EVENTS_RECEIVED",
    "apply_payment_events",
    "refund_order",
    "receive_payment_event",
    "AddressNotConfirmed",
    "CREDIT_LOADS",
    "CreditGroup",
    "CreditKind",
    "credit_groups",
    "SessionAttendance",
    "booking_rows",
    "can_override",
    "WEBHOOKS_WRITTEN",
    "course_sessions",
    "prune_expired_keys",
    "payment_reference",
    "MAX_RANGE",
    "REPEAT_NO_SHOWS",
    "SORT_KEYS",
    "CompletionRow",
    "NoShowReport",
    "ReportFilters",
    "ReportRow",
    "course_completion",
    "noshow_report",
    "rows_by_client",
    "rows_by_service",
    "ROOM_EVENTS_RECEIVED",
    "save_service",
    "policy_for",
    "settings_for",
    "CALENDAR_TYPES",
    "MAX_YEAR",
    "MIN_YEAR",
    "add_client_to_session",
    "create_course",
    "enroll_client",
    "local_start",
    "recurrence",
    "schedule_session",
    "update_session",
    "POLICY_LIMITS",
    "remove_date_override",
    "set_date_override",
    "set_weekly_hours",
    "update_schedule_settings",
    "AlreadyBooked",
    "CancellationWindowClosed",
    "CreditExpired",
    "DomainError",
    "HoldExpired",
    "IdempotencyKeyReused",
    "InvalidInput",
    "MAX_KEY_LENGTH",
    "fingerprint",
    "purchase_once",
    "InvalidTransition",
    "JoinRefused",
    "NotBookable",
    "ParticipantSnapshot",
    "RoomEvent",
    "NotPermitted",
    "PassLimitReached",
    "PassNotEligible",
    "PassUsedUp",
    "SessionFull",
    "SlotUnavailable",
    "available_slots",
    "book_individual_session",
    "book_workshop_seat",
    "buy_credits",
    "cancel_booking",
    "cancel_session",
    "check_bookable",
    "check_live_slot",
    "check_can_join",
    "complete_session",
    "confirm_payment",
    "record_provider_payment",
    "create_session",
    "credit_expires_at",
    "cutoff_passed",
    "enroll_in_course",
    "join_window_state",
    "prune_processed_room_events",
    "receive_room_event",
    "apply_room_events",
    "purchase",
    "purchase_by_ids",
    "Sale",
    "SoldSeat",
    "Unless",
    "bookable_seats",
    "release_expired_holds",
    "schedule_credit",
    "start_session",
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
