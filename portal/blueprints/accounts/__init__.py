from flask import Blueprint

# Sign-up, email verification, password reset, invitations and profile settings: the
# pages a person reaches from an account email or the sign-in page.
bp = Blueprint("accounts", __name__)

from . import views  # noqa: E402,F401
