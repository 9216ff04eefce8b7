"""A practitioner's clients: the list with search, its CSV, and each client's record."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ... import records
from ...core.errors import DomainError
from ...models import Role
from ...web import roles_required, show_domain_error
from ...web.access import get_client_of
from ...web.localtime import local_time
from ...web.spreadsheet import csv_response
from . import bp
from .forms import ClientRecordForm


def _search() -> tuple[str, str]:
    return request.args.get("q", "")[:200], request.args.get("tag", "")[:40]


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_clients():
    search, tag = _search()
    rows = records.client_rows(current_user.id, search=search, tag=tag)
    return render_template(
        "clients/index.html",
        rows=rows,
        search=search,
        tag=tag,
        tags=records.practitioner_tags(current_user.id),
        limit=records.LIST_LIMIT,
    )


@bp.route("/clients.csv")
@roles_required(Role.PRACTITIONER)
def export_clients():
    search, tag = _search()
    rows = records.client_rows(current_user.id, search=search, tag=tag, limit=None)
    header = [
        gettext("Name"),
        gettext("Email"),
        gettext("Last session"),
        gettext("Next session"),
        gettext("Credits left"),
        gettext("No-shows"),
        gettext("Balance due"),
        gettext("Tags"),
    ]
    body = (
        [
            r.name,
            r.email,
            local_time(r.last_session) if r.last_session else "",
            local_time(r.next_session) if r.next_session else "",
            r.credits_left,
            r.no_shows,
            r.balance_due_display,
            ", ".join(r.tags),
        ]
        for r in rows
    )
    return csv_response("clients.csv", header, body)


def _record_page(client, form=None, status=200):
    file = records.read_client_file(current_user, client)
    if form is None:
        form = ClientRecordForm(
            formdata=None, data={"tags": ", ".join(file.tags), "about": file.about}
        )
    return render_template("clients/record.html", file=file, form=form), status


@bp.route("/<int:client_id>")
@roles_required(Role.PRACTITIONER)
def show_client(client_id: int):
    return _record_page(get_client_of(client_id, current_user))


@bp.route("/<int:client_id>/record", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def save_client(client_id: int):
    client = get_client_of(client_id, current_user)
    form = ClientRecordForm()
    if form.validate_on_submit():
        try:
            tags = records.parse_tags(form.tags.data or "")
            records.save_client_file(current_user, client, form.about.data or "", tags)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Client record saved."), "success")
            return redirect(url_for("clients.show_client", client_id=client.id))
    return _record_page(client, form, status=422)
