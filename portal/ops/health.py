"""Probes and metrics for whatever runs the portal (an orchestrator, a load balancer,
Prometheus): GET /healthz, /readyz and /metrics.

/healthz says the process answers (restart it when it does not); /readyz says it can
serve: the database answers and its schema is at the migrations' head (route traffic
to it only then). Neither reads anything private, so neither needs signing in.
"""

from __future__ import annotations

import functools
import hmac
import os

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from .. import api_tokens
from ..extensions import csrf, db
from .metrics import exposition

bp = Blueprint("ops", __name__)
csrf.exempt(bp)

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions a current schema is at (read once: they ship with the code)."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def _probe(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _probe({"status": "ok"}, 200)


@bp.get("/readyz")
def readyz():
    try:
        with db.engine.connect() as conn:
            try:
                applied = frozenset(
                    conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            except DBAPIError:
                applied = frozenset()  # never migrated: no alembic_version table
    except DBAPIError as exc:
        current_app.logger.warning("not ready: database: %s", exc.__class__.__name__)
        return _probe({"status": "unavailable", "database": "unreachable"}, 503)
    if applied != migration_heads():
        return _probe(
            {
                "status": "unavailable",
                "database": "ok",
                "migrations": "behind",
                "applied": sorted(applied),
                "head": sorted(migration_heads()),
            },
            503,
        )
    return _probe({"status": "ok", "database": "ok", "migrations": "head"}, 200)


@bp.get("/metrics")
def metrics():
    wanted = current_app.config["PORTAL_METRICS_TOKEN"]
    given = api_tokens.bearer_token() or ""
    if wanted and not hmac.compare_digest(given.encode(), wanted.encode()):
        abort(401)
    body, content_type = exposition(db.engine)
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
