from flask import Blueprint

# Outbound webhooks (the portal calls others); `webhooks` is the inbound LiveKit one.
bp = Blueprint("webhooks_out", __name__, url_prefix="/settings/webhooks")

from . import views  # noqa: E402,F401
