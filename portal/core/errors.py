"""Typed domain errors. Each carries a message a person can act on and a stable code
that the web layer turns into a form error, a flash or a JSON 4xx."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext


class DomainError(Exception):
    code = "domain_error"
    http_status = 409

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class SessionFull(DomainError):
    code = "session_full"


class SlotUnavailable(DomainError):
    code = "slot_unavailable"
    # The sessions in the way, when the refusal is about several times at once.
    conflicts: Sequence[object] = ()


class AlreadyBooked(DomainError):
    code = "already_booked"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class HoldExpired(DomainError):
    code = "hold_expired"


class CreditExpired(DomainError):
    code = "credit_expired"


class NotBookable(DomainError):
    """The service or session cannot be booked this way (inactive, wrong type, past...)."""

    code = "not_bookable"


class PassNotEligible(NotBookable):
    """A class pass cannot pay for this session's seat: its terms do not name the class."""

    code = "pass_not_eligible"


class PassUsedUp(NotBookable):
    """A class pass has no credits left."""

    code = "pass_used_up"


class PassLimitReached(NotBookable):
    """A class pass's limit per day or per week is reached for the class's day or week."""

    code = "pass_limit_reached"


class CancellationWindowClosed(DomainError):
    code = "cancellation_window_closed"


class InvalidInput(DomainError):
    code = "validation_error"
    http_status = 422


class IdempotencyKeyReused(DomainError):
    """A purchase key sent again with a different request."""

    code = "idempotency_key_reused"
    http_status = 422


class JoinRefused(DomainError):
    """The person may not enter the session's video room (now, or at all)."""

    code = "join_refused"
    http_status = 403

    def __init__(self, message: str, *, opens_at=None):
        super().__init__(message)
        self.opens_at = opens_at


class NotPermitted(DomainError):
    """The person acting may not do this (e.g. override another practitioner's attendance)."""

    code = "not_permitted"
    http_status = 403


class AlreadyWaiting(DomainError):
    code = "already_waiting"


class PaymentProviderUnavailable(DomainError):
    """The payment provider is not set up, or did not answer: try again later."""

    code = "payment_provider_unavailable"
    http_status = 503


class AddressNotConfirmed(DomainError):
    """Credentials that act without the password (API tokens, calendar feeds, webhook
    endpoints) need a confirmed address: whoever signed up with someone else's address
    must not keep a key that outlives the owner's password reset."""

    code = "address_not_confirmed"
    http_status = 403

    @classmethod
    def unless_confirmed(cls, user) -> None:
        if not user.email_verified:
            raise cls(gettext("Confirm your email address first: we sent you a link."))
