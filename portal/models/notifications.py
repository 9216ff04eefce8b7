"""The transactional outbox and each person's choice of optional messages.

A domain operation that must tell someone writes a `Notification` row in its own
transaction; the worker delivers it later. A rolled-back operation leaves no row, a
committed one always has one, and the row's `message_id` stays the same through every
retry so a receiver can recognise a message it already has.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from flask_babel import lazy_gettext
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import Model
from .enums import StrEnum, enum_column, set_labels
from .users import User


class Channel(StrEnum):
    """How a row travels; each channel has one deliverer in the worker."""

    EMAIL = "email"


set_labels(
    Channel,
    {
        Channel.EMAIL: lazy_gettext("email"),
    },
)


class NotificationKind(StrEnum):
    # -- to clients -------------------------------------------------------------------
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_PENDING_PAYMENT = "booking_pending_payment"
    PAYMENT_RECEIVED = "payment_received"
    PAYMENT_REFUNDED = "payment_refunded"
    # A cancellation policy's fee the card on file did not pay: a balance the client owes.
    FEE_UNPAID = "fee_unpaid"
    # A numbered receipt for one payment, fee or refund, with the order's line items.
    RECEIPT = "receipt"
    BOOKING_CANCELED = "booking_canceled"
    BOOKING_RESCHEDULED = "booking_rescheduled"
    SESSION_MOVED = "session_moved"
    SESSION_CANCELED = "session_canceled"
    REMINDER = "reminder"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_OFFER_LAPSED = "waitlist_offer_lapsed"
    CREDITS_EXPIRING = "credits_expiring"
    # A link to answer an intake form before the first session (and its reminder).
    INTAKE_FORM_REQUESTED = "intake_form_requested"
    # A membership's period was paid: its credits are granted.
    MEMBERSHIP_RENEWED = "membership_renewed"
    # A membership's renewal was declined: its credits wait while Stripe retries the card.
    MEMBERSHIP_PAYMENT_FAILED = "membership_payment_failed"
    # -- account emails ---------------------------------------------------------------
    ACCOUNT_VERIFICATION = "account_verification"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    # A sign-up named an address that already has an account: its owner is told, not the form.
    SIGNUP_EXISTING = "signup_existing"
    # A new address, to be confirmed before it replaces the old one.
    EMAIL_CHANGE = "email_change"
    # The password changed (or was reset): every API token and the calendar feed went with it.
    PASSWORD_CHANGED = "password_changed"
    # To the old address once the account moved to another one, with a way back.
    EMAIL_CHANGED = "email_changed"
    # A copy of the person's data is ready, behind a single-use link (GDPR art. 15/20).
    DATA_EXPORT_READY = "data_export_ready"
    # The account will be erased after the grace period, unless its owner cancels.
    ERASURE_SCHEDULED = "erasure_scheduled"
    # -- to practitioners -------------------------------------------------------------
    PRACTITIONER_NEW_BOOKING = "practitioner_new_booking"
    PRACTITIONER_CANCELLATION = "practitioner_cancellation"
    PRACTITIONER_WAITLIST_TAKEN = "practitioner_waitlist_taken"
    DAILY_AGENDA = "daily_agenda"
    # An outbound webhook endpoint failed for a day and was disabled.
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"


set_labels(
    NotificationKind,
    {
        NotificationKind.BOOKING_CONFIRMED: lazy_gettext("booking confirmed"),
        NotificationKind.BOOKING_PENDING_PAYMENT: lazy_gettext("booking pending payment"),
        NotificationKind.PAYMENT_RECEIVED: lazy_gettext("payment received"),
        NotificationKind.PAYMENT_REFUNDED: lazy_gettext("payment refunded"),
        NotificationKind.FEE_UNPAID: lazy_gettext("fee unpaid"),
        NotificationKind.RECEIPT: lazy_gettext("receipt"),
        NotificationKind.BOOKING_CANCELED: lazy_gettext("booking canceled"),
        NotificationKind.BOOKING_RESCHEDULED: lazy_gettext("booking rescheduled"),
        NotificationKind.SESSION_MOVED: lazy_gettext("session moved"),
        NotificationKind.SESSION_CANCELED: lazy_gettext("session canceled"),
        NotificationKind.REMINDER: lazy_gettext("reminder"),
        NotificationKind.WAITLIST_OFFER: lazy_gettext("waitlist offer"),
        NotificationKind.WAITLIST_OFFER_LAPSED: lazy_gettext("waitlist offer lapsed"),
        NotificationKind.CREDITS_EXPIRING: lazy_gettext("credits expiring"),
        NotificationKind.INTAKE_FORM_REQUESTED: lazy_gettext("intake form requested"),
        NotificationKind.MEMBERSHIP_RENEWED: lazy_gettext("membership renewed"),
        NotificationKind.MEMBERSHIP_PAYMENT_FAILED: lazy_gettext("membership payment failed"),
        NotificationKind.ACCOUNT_VERIFICATION: lazy_gettext("account verification"),
        NotificationKind.PASSWORD_RESET: lazy_gettext("password reset"),
        NotificationKind.INVITATION: lazy_gettext("invitation"),
        NotificationKind.SIGNUP_EXISTING: lazy_gettext("signup existing"),
        NotificationKind.EMAIL_CHANGE: lazy_gettext("email change"),
        NotificationKind.PASSWORD_CHANGED: lazy_gettext("password changed"),
        NotificationKind.EMAIL_CHANGED: lazy_gettext("email changed"),
        NotificationKind.DATA_EXPORT_READY: lazy_gettext("data export ready"),
        NotificationKind.ERASURE_SCHEDULED: lazy_gettext("account deletion scheduled"),
        NotificationKind.PRACTITIONER_NEW_BOOKING: lazy_gettext("practitioner new booking"),
        NotificationKind.PRACTITIONER_CANCELLATION: lazy_gettext("practitioner cancellation"),
        NotificationKind.PRACTITIONER_WAITLIST_TAKEN: lazy_gettext("practitioner waitlist taken"),
        NotificationKind.DAILY_AGENDA: lazy_gettext("daily agenda"),
        NotificationKind.WEBHOOK_ENDPOINT_DISABLED: lazy_gettext("webhook endpoint disabled"),
    },
)


class Preference(StrEnum):
    """The optional messages a person may turn off; every other kind always goes."""

    REMINDERS = "reminders"
    PRACTITIONER_NOTICES = "practitioner_notices"
    DAILY_AGENDA = "daily_agenda"


set_labels(
    Preference,
    {
        Preference.REMINDERS: lazy_gettext("reminders"),
        Preference.PRACTITIONER_NOTICES: lazy_gettext("practitioner notices"),
        Preference.DAILY_AGENDA: lazy_gettext("daily agenda"),
    },
)


OPTIONAL_KINDS: dict[NotificationKind, Preference] = {
    NotificationKind.REMINDER: Preference.REMINDERS,
    NotificationKind.PRACTITIONER_NEW_BOOKING: Preference.PRACTITIONER_NOTICES,
    NotificationKind.PRACTITIONER_CANCELLATION: Preference.PRACTITIONER_NOTICES,
    NotificationKind.PRACTITIONER_WAITLIST_TAKEN: Preference.PRACTITIONER_NOTICES,
    NotificationKind.DAILY_AGENDA: Preference.DAILY_AGENDA,
}


# Account mail: about the account itself, never optional, about no time. Its link (in the
# payload's "url") acts for whoever holds it: it signs in, sets a password or moves the
# address, so only the recipient ever sees it (not the logs, not staff's outbox page).
ACCOUNT_KINDS = frozenset(
    {
        NotificationKind.ACCOUNT_VERIFICATION,
        NotificationKind.SIGNUP_EXISTING,
        NotificationKind.PASSWORD_RESET,
        NotificationKind.INVITATION,
        NotificationKind.EMAIL_CHANGE,
        NotificationKind.PASSWORD_CHANGED,
        NotificationKind.EMAIL_CHANGED,
        NotificationKind.DATA_EXPORT_READY,
        NotificationKind.ERASURE_SCHEDULED,
    }
)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    # Nothing to say any more (a reminder for a booking canceled since it was queued).
    SKIPPED = "skipped"


set_labels(
    NotificationStatus,
    {
        NotificationStatus.PENDING: lazy_gettext("pending"),
        NotificationStatus.SENT: lazy_gettext("sent"),
        NotificationStatus.FAILED: lazy_gettext("failed"),
        NotificationStatus.SKIPPED: lazy_gettext("skipped"),
    },
)


def new_message_id() -> str:
    return str(uuid.uuid4())


class Notification(Model):
    """One message in the outbox, from the commit that caused it to its delivery."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's claim query: pending rows whose time has come.
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID's local part: stable through retries, so a re-send is recognisable.
    message_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_message_id)
    channel: Mapped[Channel] = mapped_column(
        enum_column(Channel, "notification_channel"), default=Channel.EMAIL
    )
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Given for a recipient without an account; otherwise the user's email, written when
    # the message is sent (so it goes to the address they have then).
    address: Mapped[str | None] = mapped_column(String(254))
    # Ids of what the message is about and facts only the moment knew (who canceled).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # Written at most once: the unique key of a message that must never go twice
    # (a reminder per booking, session time and offset).
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"),
        default=NotificationStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker owns the row until then; a worker that died lets it go when it passes.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()

    @property
    def recipient_address(self) -> str:
        # outbox.notify queues a message for a user or to an address, never neither.
        return self.address or cast("User", self.user).email

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} {self.status} to={self.address}>"


DEFAULT_REMINDER_OFFSETS = [24 * 60, 60]


class NotificationPreferences(Model):
    """A person's optional messages; no row means every default below."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    reminders: Mapped[bool] = mapped_column(default=True)
    practitioner_notices: Mapped[bool] = mapped_column(default=True)
    daily_agenda: Mapped[bool] = mapped_column(default=False)
    # A practitioner's: minutes before each of their sessions that clients are reminded.
    reminder_offsets: Mapped[list[int]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_REMINDER_OFFSETS)
    )

    def wants(self, preference: Preference) -> bool:
        return bool(getattr(self, preference.value))
