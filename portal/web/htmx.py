"""The one place that decides "full page or fragment" from the htmx request headers."""

from __future__ import annotations

from flask import render_template, request


def is_htmx() -> bool:
    # A history restore (back button after a cache miss) needs the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(page: str, fragment: str, **context):
    """The full page for a normal request; only the fragment for an htmx swap."""
    return render_template(fragment if is_htmx() else page, **context)
