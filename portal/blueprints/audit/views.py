"""The audit log, read: staff browse all of it, a practitioner the log of their own
objects, a client who read their record."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user, login_required

from ...database import MAX_ID
from ...models import AuditAction
from . import bp
from .queries import OBJECT_TYPES, AuditFilters, audit_page


def _number(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _filters() -> AuditFilters:
    try:
        action = AuditAction(request.args.get("action", ""))
    except ValueError:  # no filter, or one that names no action
        action = None
    object_type = request.args.get("object_type", "")
    return AuditFilters(
        action=action,
        object_type=object_type if object_type in OBJECT_TYPES else None,
        object_id=_number("object_id"),
        actor_id=_number("actor_id") if not current_user.is_client else None,
        before=_number("before"),
    )


@bp.route("/")
@login_required
def index():
    filters = _filters()
    rows, next_before = audit_page(current_user, filters)
    return render_template(
        "audit/index.html",
        rows=rows,
        filters=filters,
        next_before=next_before,
        actions=list(AuditAction),
        object_types=OBJECT_TYPES,
    )
