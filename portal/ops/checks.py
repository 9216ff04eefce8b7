"""Start-up refusals: configurations that would run, but wrongly, in production."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import make_url

from ..config import load_or_create_secret_key


class UnsafeConfiguration(RuntimeError):
    """Raised by create_app; gunicorn then stops with the message instead of serving."""


def resolve_secret_key(app: Flask) -> None:
    """A key generated into the instance folder is fine for one machine. Instances that
    share a database (PostgreSQL) each have their own folder, so each would sign
    sessions with its own key and refuse the others' cookies and CSRF tokens."""
    if app.config.get("SECRET_KEY"):
        return
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        raise UnsafeConfiguration(
            "SECRET_KEY is not set. With a shared database (DATABASE_URL is not SQLite) every "
            "instance must sign sessions with the same key: set SECRET_KEY to one long random "
            "value, e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)


def refuse_per_process_limits(app: Flask) -> None:
    """In-memory rate limits are counted by each process: with N workers a client gets N
    times every limit (22 of 60 sign-in tries went through with four workers)."""
    workers = int(app.config["PORTAL_WORKERS"])
    storage = app.config["RATELIMIT_STORAGE_URI"]
    enabled = app.config.get("RATELIMIT_ENABLED", True)
    if enabled and workers > 1 and storage.startswith("memory://"):
        raise UnsafeConfiguration(
            f"{workers} worker processes with in-memory rate limits would let each worker grant "
            "the whole limit. Set REDIS_URL (or RATELIMIT_STORAGE_URI), e.g. "
            "redis://127.0.0.1:6379/0, or run one worker (WEB_CONCURRENCY=1)."
        )


def check_configuration(app: Flask) -> None:
    resolve_secret_key(app)
    refuse_per_process_limits(app)
