"""What a visitor sees without signing in: each practitioner's shareable page (/p/<slug>),
the practitioner's settings for it, and the visitor's timezone choice."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import views  # noqa: E402,F401
