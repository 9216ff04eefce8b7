from flask import Blueprint

# cli_group=None: `flask --app portal create-token`, not `flask tokens create-token`.
bp = Blueprint("tokens", __name__, url_prefix="/settings/tokens", cli_group=None)

from . import cli, views  # noqa: E402,F401
