"""What every template may use without its view passing it: the vocabularies, and the shared
pieces several blueprints' pages render (the join button).

A blueprint registers no Jinja global: what one page needs, its view passes.
"""

from __future__ import annotations

import enum

from flask import Flask

from .. import booking, models
from ..models import RoomState, ServiceSession


def room_state(session: ServiceSession) -> RoomState:
    """Whether the session's room is open now: the join button on any page asks this."""
    return booking.join_window_state(session)


def model_enums() -> dict[str, type[enum.Enum]]:
    """Every enum the models export, by class name: templates compare members, never
    `.value` with a string (a renamed value would then fail loudly instead of hiding)."""
    return {
        name: value
        for name in models.__all__
        if isinstance(value := getattr(models, name), type) and issubclass(value, enum.Enum)
    }


def register_template_globals(app: Flask) -> None:
    app.jinja_env.globals.update(model_enums())
    app.jinja_env.globals["room_state"] = room_state
