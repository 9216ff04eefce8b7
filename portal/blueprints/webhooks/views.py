"""LiveKit's webhooks, turned into calls of the attendance domain (booking.rooms).

The request only checks the signature and stores the event; a worker applies it
(booking.apply_room_events), so a burst of events is answered as fast as it comes.

LiveKit retries a delivery only when it gets a 5xx, so a 5xx here means "the
database failed, send it again"; every refusal of the request itself is a 4xx.
"""

import logging
from datetime import UTC, datetime

import stripe
from flask import current_app, jsonify, request
from flask_babel import gettext
from google.protobuf.json_format import ParseError
from livekit.protocol.webhook import WebhookEvent
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge

from ... import booking
from ...extensions import csrf
from ...livekit import credentials_configured, receive_webhook
from ...ops.metrics import record_webhook_received
from . import bp

log = logging.getLogger(__name__)


def _error(status: int, message: str):
    return jsonify(error=message), status


def _moment(seconds: int, millis: int = 0) -> datetime | None:
    try:
        if millis:
            return datetime.fromtimestamp(millis / 1000, UTC)
        if seconds:
            return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):  # beyond the years datetime can hold
        raise booking.InvalidInput(gettext("The event carries a time out of range.")) from None
    return None


def room_event(event: WebhookEvent) -> booking.RoomEvent:
    participant = None
    if event.HasField("participant"):
        info = event.participant
        participant = booking.ParticipantSnapshot(
            sid=info.sid,
            identity=info.identity,
            name=info.name,
            joined_at=_moment(info.joined_at, info.joined_at_ms),
        )
    return booking.RoomEvent(
        id=event.id,
        kind=event.event,
        room_name=event.room.name,
        room_sid=event.room.sid,
        room_created_at=_moment(event.room.creation_time, event.room.creation_time_ms),
        # LiveKit always stamps created_at; receipt time only stands in for a stray sender.
        occurred_at=_moment(event.created_at) or datetime.now(UTC),
        participant=participant,
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    # A 4xx, not the page: LiveKit must drop what no retry can make smaller (MAX_CONTENT_LENGTH).
    return _error(413, "request body too large")


@bp.post("/livekit")
@csrf.exempt
def livekit():
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return _error(401, "missing Authorization header")
    if not credentials_configured():
        log.error("LiveKit webhook refused: LIVEKIT_API_KEY/LIVEKIT_API_SECRET are not set")
        return _error(401, "LiveKit webhooks are not configured")
    # Read apart from the signature check, whose bare `except Exception` would turn a body
    # over MAX_CONTENT_LENGTH into a 401 rather than the 413 it is.
    body = request.get_data(as_text=True)
    try:
        event = receive_webhook(body, authorization)
    except ParseError as exc:
        return _error(400, f"not a LiveKit webhook event: {exc}")
    except Exception as exc:  # livekit-api raises a bare Exception for every signature fault
        log.warning("LiveKit webhook with a bad signature: %s", exc)
        return _error(401, "invalid webhook signature")
    try:
        item = room_event(event)
        outcome = booking.receive_room_event(item)
    except booking.InvalidInput as exc:
        return _error(400, exc.message)
    except booking.DomainError as exc:
        return _error(exc.http_status, exc.message)
    except SQLAlchemyError:
        log.exception("LiveKit event %s not stored; LiveKit will retry", event.id)
        return _error(503, "database unavailable, retry later")
    record_webhook_received(item.occurred_at)
    return jsonify(status=outcome, event=event.id)


@bp.post("/stripe")
@csrf.exempt
def stripe_event():
    """Stripe's events: verified by their signature, stored once by event id, applied by
    the worker (which asks Stripe again before acting). Stripe retries any non-2xx."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        log.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return _error(404, "Stripe webhooks are not configured")
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(as_text=True), request.headers.get("Stripe-Signature", ""), secret
        )
    except stripe.SignatureVerificationError:
        log.warning("Stripe webhook with a bad signature")
        return _error(400, "invalid webhook signature")
    except ValueError as exc:
        return _error(400, f"not a Stripe event: {exc}")
    try:
        object_id = event.data.object.id
        # A connected account's event (Stripe Connect) names the account it happened on.
        account = getattr(event, "account", None) or ""
        stored = booking.receive_payment_event(event.id, event.type, object_id, account)
    except (AttributeError, KeyError):
        return _error(400, "the event names no object")
    except SQLAlchemyError:
        log.exception("Stripe event %s not stored; Stripe will retry", event.id)
        return _error(503, "database unavailable, retry later")
    return jsonify(status="accepted" if stored else "ignored", event=event.id)
