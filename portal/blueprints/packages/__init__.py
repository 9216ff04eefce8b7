"""Packages and bundles: the client's credits, what remains of them, and scheduling one."""

from flask import Blueprint

bp = Blueprint("packages", __name__)

from . import views  # noqa: E402,F401
