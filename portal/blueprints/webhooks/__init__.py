from flask import Blueprint

from ...web.lean import serve_lean

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# LiveKit's events come in bursts: verify, store, answer, and nothing else per request.
bp.record_once(
    lambda state: serve_lean(state.app, {f"{state.url_prefix}/livekit": "webhooks.livekit"})
)

from . import views  # noqa: E402,F401
