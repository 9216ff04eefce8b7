"""Every model module is imported here so the metadata (and Alembic) sees them all."""

from .attendance import AttendanceOutcome, AttendanceStatus
from .audit import AuditAction, AuditEntry
from .availability import DateOverride, ScheduleSettings, WeeklyHours
from .bookings import Booking
from .enums import (
    CREDIT_SERVICE_TYPES,
    CREDIT_SESSION_TYPE,
    CREDIT_SESSION_TYPES,
    PAYMENTS_BACK,
    PAYMENTS_IN,
    RESCHEDULABLE_SESSION_TYPES,
    SEAT_HOLDING,
    AttendanceKind,
    BookingStatus,
    CancelReason,
    FeeKind,
    FeeStatus,
    OrderStatus,
    ParticipantKind,
    PaymentKind,
    PaymentPolicy,
    Role,
    RoomEventKind,
    RoomEventReceipt,
    RoomState,
    ServiceType,
    SessionStatus,
    SessionType,
    Visibility,
)
from .external_calendars import (
    CalendarKind,
    CalendarWrite,
    ExternalBusyTime,
    ExternalCalendar,
    SyncProblem,
)
from .feeds import CalendarFeed
from .fees import Fee, StripeCustomer
from .idempotency import IdempotentPurchase
from .notifications import (
    ACCOUNT_KINDS,
    DEFAULT_REMINDER_OFFSETS,
    OPTIONAL_KINDS,
    Channel,
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationStatus,
    Preference,
)
from .orders import Order
from .passes import ClassPass, ClassPassTerms, ClassPassUse, ServiceTag, class_pass_services
from .payments import Payment, PaymentEvent
from .privacy import (
    DataExport,
    DataExportStatus,
    ErasureRequest,
    ErasureStatus,
)
from .profiles import SLUG_MAX, PractitionerProfile, PractitionerSlug
from .receipts import Receipt, ReceiptCounter
from .records import (
    SOAP_SECTIONS,
    TAG_MAX,
    ClientRecord,
    ClientTag,
    NoteAddendum,
    NoteKind,
    SessionNote,
)
from .room_events import ProcessedRoomEvent
from .rooms import Room, RoomParticipant
from .services import Service, ServiceComponent, deposit_for
from .sessions import ServiceSession
from .sign_ins import SignIn
from .tokens import ApiToken
from .users import User
from .waitlist import WAITLIST_OPEN, WaitlistEntry, WaitlistStatus
from .webhooks_out import (
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSubscription,
)

__all__ = [
    "DataExport",
    "DataExportStatus",
    "ErasureRequest",
    "ErasureStatus",
    "Fee",
    "FeeKind",
    "FeeStatus",
    "StripeCustomer",
    "AuditAction",
    "ClassPass",
    "ClassPassTerms",
    "ClassPassUse",
    "ServiceTag",
    "class_pass_services",
    "AuditEntry",
    "SOAP_SECTIONS",
    "TAG_MAX",
    "ClientRecord",
    "ClientTag",
    "NoteAddendum",
    "NoteKind",
    "SessionNote",
    "CalendarKind",
    "ExternalBusyTime",
    "CalendarWrite",
    "ExternalCalendar",
    "SyncProblem",
    "SLUG_MAX",
    "PractitionerProfile",
    "PractitionerSlug",
    "CREDIT_SERVICE_TYPES",
    "CREDIT_SESSION_TYPE",
    "CREDIT_SESSION_TYPES",
    "RESCHEDULABLE_SESSION_TYPES",
    "CancelReason",
    "ApiToken",
    "SEAT_HOLDING",
    "AttendanceKind",
    "AttendanceOutcome",
    "AttendanceStatus",
    "Booking",
    "BookingStatus",
    "CalendarFeed",
    "Channel",
    "DEFAULT_REMINDER_OFFSETS",
    "Notification",
    "NotificationKind",
    "ACCOUNT_KINDS",
    "NotificationPreferences",
    "NotificationStatus",
    "OPTIONAL_KINDS",
    "Preference",
    "DateOverride",
    "IdempotentPurchase",
    "Order",
    "OrderStatus",
    "PAYMENTS_BACK",
    "PAYMENTS_IN",
    "Payment",
    "PaymentEvent",
    "PaymentKind",
    "PaymentPolicy",
    "Receipt",
    "ReceiptCounter",
    "ParticipantKind",
    "ProcessedRoomEvent",
    "Role",
    "Room",
    "RoomEventKind",
    "RoomEventReceipt",
    "RoomParticipant",
    "RoomState",
    "ScheduleSettings",
    "Service",
    "ServiceComponent",
    "deposit_for",
    "ServiceSession",
    "ServiceType",
    "SignIn",
    "SessionStatus",
    "SessionType",
    "User",
    "Visibility",
    "WeeklyHours",
    "WAITLIST_OPEN",
    "WaitlistEntry",
    "WaitlistStatus",
    "SUBSCRIBABLE_EVENTS",
    "DeliveryStatus",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookSubscription",
]
