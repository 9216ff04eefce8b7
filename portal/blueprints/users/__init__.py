from flask import Blueprint

# Staff's administration of accounts: the list, invitations, deactivation.
bp = Blueprint("users", __name__, url_prefix="/staff/users")

from . import views  # noqa: E402,F401
