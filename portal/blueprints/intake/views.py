"""Intake forms: the builder (each save of changed questions is a new version), the
answers and their files, and the emailed link a client answers through."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import SelectChoice

from ... import records
from ...core.errors import DomainError
from ...extensions import db
from ...models import IntakeDelivery, IntakeForm, Role, Service, User
from ...web import roles_required, show_domain_error
from ...web.access import get_intake_form, get_intake_submission, get_intake_upload
from ...web.intake_fields import answers_form, asked, read_answers, show_answer_error
from ...web.security import accepts_upload
from . import bp
from .forms import IntakeFormForm


def _own_services() -> list[Service]:
    return list(
        db.session.scalars(
            select(Service)
            .where(Service.primary_practitioner_id == current_user.id)
            .order_by(Service.name)
        )
    )


@bp.route("/forms")
@roles_required(Role.PRACTITIONER)
def list_forms():
    return render_template("intake/list.html", forms=records.forms_of(current_user))


def _builder(form: IntakeFormForm) -> IntakeFormForm:
    form.services.choices = [SelectChoice(s.id, s.name) for s in _own_services()]
    # One blank question to add; without JavaScript, saving brings another.
    if not form.items.entries or (form.items.entries[-1].form.label.data or "").strip():
        form.items.append_entry()
    return form


def _edit_page(form: IntakeFormForm, intake_form: IntakeForm | None, status: int = 200):
    return render_template("intake/form.html", form=_builder(form), intake_form=intake_form), status


def _values(form: IntakeFormForm) -> dict:
    return {
        "title": form.title.data or "",
        "delivery": IntakeDelivery(form.delivery.data),
        "required": bool(form.required.data),
        "items": form.questions(),
        "service_ids": form.services.data or [],
    }


@bp.route("/forms/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_form():
    form = _builder(IntakeFormForm())
    if form.validate_on_submit():
        try:
            created = records.create_form(current_user, **_values(form))
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("The form is saved."), "success")
            return redirect(url_for("intake.edit_form", form_id=created.id))
    return _edit_page(form, None, 422 if form.errors or form.form_errors else 200)


@bp.route("/forms/<int:form_id>", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_form(form_id: int):
    intake_form = get_intake_form(form_id, current_user)
    data = {
        "title": intake_form.title,
        "delivery": intake_form.delivery.value,
        "required": intake_form.required,
        "services": [s.id for s in intake_form.services],
        "items": [
            {**item.as_json(), "options": "\n".join(item.options)}
            for item in records.items_of(intake_form.current)
        ],
    }
    form = _builder(IntakeFormForm(data=data))
    if form.validate_on_submit():
        number = intake_form.current.number
        try:
            records.update_form(intake_form, current_user, **_values(form))
        except DomainError as error:
            show_domain_error(form, error)
        else:
            if intake_form.current.number != number:
                flash(
                    gettext(
                        "Saved as version %(num)d; answers given earlier keep their version.",
                        num=intake_form.current.number,
                    ),
                    "success",
                )
            else:
                flash(gettext("The form is saved."), "success")
            return redirect(url_for("intake.edit_form", form_id=intake_form.id))
    return _edit_page(form, intake_form, 422 if form.errors or form.form_errors else 200)


@bp.route("/answers/<int:submission_id>")
@login_required
def show_answers(submission_id: int):
    submission = get_intake_submission(submission_id, current_user)
    read = records.read_submission(submission, current_user)
    return render_template("intake/answers.html", read=read, submission=submission)


@bp.route("/uploads/<int:upload_id>")
@login_required
def download_upload(upload_id: int):
    upload = get_intake_upload(upload_id, current_user)
    content, name = records.read_upload(upload, current_user)
    response = Response(content, mimetype=upload.content_type)
    # Always a download: a file a client sent is never shown as a page of this site.
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _link_page(token: str, sent, *, form=None, forms=None, status=200):
    return render_template(
        "intake/answer.html",
        token=token,
        sent=sent,
        form=form,
        forms=forms or [],
        client=db.session.get(User, sent.client_id) if sent else None,
    ), status


@bp.route("/answer/<token>", methods=["GET", "POST"])
@accepts_upload("PORTAL_INTAKE_UPLOAD_MAX_BYTES")
def answer_by_link(token: str):
    """The emailed link: whoever holds it answers for the client it was sent to, once."""
    sent = records.request_for_token(token)
    if sent is None:
        abort(404, gettext("This link is not valid or has expired."))
    if sent.answered_at is not None:
        return _link_page(token, sent, status=410)
    forms = asked([sent.form.current])
    form = answers_form(forms)
    if form.validate_on_submit():
        try:
            records.answer_by_link(sent, read_answers(form, forms)[0])
        except DomainError as error:
            show_answer_error(form, forms, error.field, error.message)
        else:
            flash(gettext("Thank you: your answers are sent."), "success")
            return redirect(url_for("intake.answer_by_link", token=token))
    status = 422 if form.errors or form.form_errors else 200
    return _link_page(token, sent, form=form, forms=forms, status=status)


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error):
    """Files over the limit are refused before they are read: said on the form's page."""
    limit = current_app.config["PORTAL_INTAKE_UPLOAD_MAX_BYTES"]
    return render_template("intake/too_large.html", message=records.too_large(limit)), 413
