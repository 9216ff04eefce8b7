"""LiveKit credentials in use: join tokens out, signed webhooks in.

Only livekit-api touches the secret; nothing here knows a booking rule.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from livekit.api import AccessToken, TokenVerifier, VideoGrants, WebhookReceiver
from livekit.protocol.webhook import WebhookEvent

from .models import ServiceSession, User


def credentials_configured() -> bool:
    return bool(current_app.config["LIVEKIT_API_KEY"] and current_app.config["LIVEKIT_API_SECRET"])


def video_configured() -> bool:
    """People can only be sent into a room with a server URL and the keys to sign for it."""
    return bool(current_app.config["LIVEKIT_URL"]) and credentials_configured()


def join_token(session: ServiceSession, user: User) -> str:
    """A short-lived token letting `user` into `session`'s room and nowhere else.

    The session's practitioner hosts: their token also carries roomAdmin, for that room
    only, so they can mute or remove a guest who should not be there. Nobody else gets it.
    """
    ttl = timedelta(minutes=current_app.config["PORTAL_JOIN_TOKEN_TTL_MINUTES"])
    grants = VideoGrants(
        room_join=True,
        room=session.livekit_room_name,
        room_admin=user.id == session.practitioner_id,
    )
    return (
        AccessToken(current_app.config["LIVEKIT_API_KEY"], current_app.config["LIVEKIT_API_SECRET"])
        .with_identity(user.livekit_identity)
        .with_name(user.name)
        .with_grants(grants)
        .with_ttl(ttl)
        .to_jwt()
    )


def receive_webhook(body: str, authorization: str) -> WebhookEvent:
    """The event LiveKit signed, checked against its signature and body hash.

    Raises google.protobuf.json_format.ParseError for a correctly signed body that is
    not a WebhookEvent, and Exception (livekit-api's own choice) for any signature fault.
    """
    verifier = TokenVerifier(
        current_app.config["LIVEKIT_API_KEY"], current_app.config["LIVEKIT_API_SECRET"]
    )
    return WebhookReceiver(verifier).receive(body, authorization)
