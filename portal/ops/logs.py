"""A request id for every request, and logs that carry it.

The id comes from the caller's X-Request-ID when it looks like an id (a proxy or a
client tracing a call), else it is generated; it is echoed in the response header,
shown on error pages and in API error bodies, and stamped on every log record written
while the request runs, so one id finds a complaint's lines in the logs.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# Anything else (too long, spaces, control characters) could forge or break log lines.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id() -> str | None:
    """The current request's id; None outside a request."""
    if not has_request_context():
        return None
    if "request_id" not in g:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if _ACCEPTED.fullmatch(sent) else uuid.uuid4().hex
    return g.request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


def configure_logging(fmt: str, level: str) -> None:
    """One handler on the root logger for the portal's own lines and Flask's alike."""
    if fmt not in ("json", "text"):
        raise RuntimeError(f"PORTAL_LOG_FORMAT must be json, text or empty, not {fmt!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(_JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"})
        )
    else:
        handler.setFormatter(logging.Formatter(_TEXT))
    root = logging.getLogger()
    # Replaces only what an earlier create_app in this process installed.
    for old in [h for h in root.handlers if getattr(h, "portal_handler", False)]:
        root.removeHandler(old)
    handler.portal_handler = True
    root.addHandler(handler)
    root.setLevel(level.upper())


def register_request_ids(app: Flask) -> None:
    app.jinja_env.globals["request_id"] = request_id

    @app.after_request
    def _echo_request_id(response):
        response.headers[HEADER] = request_id()
        return response
