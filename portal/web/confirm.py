"""Ask before a destructive action (cancel, remove, late cancel).

Without JavaScript the first post answers with a confirm page whose form posts again
with `confirmed=y`; with it, htmx asks in the browser's own dialog (`hx-confirm`) and
sends `confirmed=y` itself (`hx-vals`), so one view serves both.
"""

from __future__ import annotations

from flask import render_template, request

CONFIRMED = "confirmed"
# Fields the confirm page must not copy into its own form: it writes these itself.
_OWN_FIELDS = {CONFIRMED, "csrf_token"}


def is_confirmed() -> bool:
    return request.form.get(CONFIRMED) == "y"


def confirm_page(*, question: str, consequence: str, button: str, back: str):
    """The confirm page: it posts the same form to the same URL, this time confirmed."""
    carried = [(k, v) for k, v in request.form.items(multi=True) if k not in _OWN_FIELDS]
    return render_template(
        "confirm.html",
        question=question,
        consequence=consequence,
        button=button,
        action=request.path,
        carried=carried,
        back=back,
    )
