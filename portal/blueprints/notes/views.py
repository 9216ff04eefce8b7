"""A booking's session note: the draft (autosaved with htmx, or saved by the button),
the signature that locks it, addenda after, and sharing with staff."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ... import records
from ...core.errors import DomainError
from ...models import NoteKind
from ...web import is_htmx, show_domain_error
from ...web.access import get_booking_notes
from . import bp
from .forms import AddendumForm, NoteForm, ShareForm, SignForm


def _kind(note) -> NoteKind:
    """The template asked for (?kind=), else the note's own, else free text."""
    try:
        return NoteKind(request.args["kind"])
    except (KeyError, ValueError):
        return note.kind if note is not None else NoteKind.FREE


def _page(booking, note, *, form=None, addendum_form=None, status=200):
    writer = records.writes_notes_for(current_user, booking)
    read = records.read_note(note, current_user) if note is not None else None
    kind = _kind(note)
    if form is not None and form.kind.data in set(NoteKind):
        kind = NoteKind(form.kind.data)
    if form is None:
        form = NoteForm(formdata=None, data={"kind": kind.value, **(read.sections if read else {})})
        if read and read.note.kind != kind:
            # Switching template: what was written goes into the first box of the other one.
            first = records.sections_of(kind)[0]
            getattr(form, first).data = "\n\n".join(read.sections.values())
    return (
        render_template(
            "notes/note.html",
            booking=booking,
            session=booking.service_session,
            note=note,
            read=read,
            writer=writer,
            kind=kind,
            sections=records.sections_of(kind),
            form=form,
            sign_form=SignForm(),
            addendum_form=addendum_form or AddendumForm(formdata=None),
            share_form=ShareForm(formdata=None, data={"shared": note and note.shared_with_staff}),
            render=records.render_markdown,
        ),
        status,
    )


@bp.route("/bookings/<int:booking_id>", methods=["GET"])
@login_required
def show_note(booking_id: int):
    booking, note = get_booking_notes(booking_id, current_user)
    return _page(booking, note)


@bp.route("/bookings/<int:booking_id>/draft", methods=["POST"])
@login_required
def save_note(booking_id: int):
    booking, note = get_booking_notes(booking_id, current_user, write=True)
    form = NoteForm()
    if form.validate_on_submit():
        kind = NoteKind(form.kind.data)
        given = {name: getattr(form, name).data or "" for name in records.sections_of(kind)}
        try:
            note = records.save_draft(booking, current_user, kind, given)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            if is_htmx():
                return render_template("notes/_draft_status.html", note=note)
            flash(gettext("Draft saved."), "success")
            return redirect(url_for("notes.show_note", booking_id=booking.id))
    if is_htmx():
        return render_template("notes/_draft_status.html", note=note, form=form), 422
    return _page(booking, note, form=form, status=422)


@bp.route("/bookings/<int:booking_id>/sign", methods=["POST"])
@login_required
def sign_note(booking_id: int):
    booking, note = get_booking_notes(booking_id, current_user, write=True)
    if note is None:
        flash(gettext("Save the note before signing it."), "error")
    elif SignForm().validate_on_submit():
        try:
            records.sign_note(note, current_user)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(gettext("Note signed and locked."), "success")
    return redirect(url_for("notes.show_note", booking_id=booking.id))


@bp.route("/bookings/<int:booking_id>/addenda", methods=["POST"])
@login_required
def add_addendum(booking_id: int):
    booking, note = get_booking_notes(booking_id, current_user, write=True)
    form = AddendumForm()
    if note is not None and form.validate_on_submit():
        try:
            records.add_addendum(note, current_user, form.text.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Addendum added."), "success")
            return redirect(url_for("notes.show_note", booking_id=booking.id))
    elif note is None:
        form.form_errors.append(gettext("Write and sign the note first."))
    return _page(booking, note, addendum_form=form, status=422)


@bp.route("/bookings/<int:booking_id>/share", methods=["POST"])
@login_required
def share_note(booking_id: int):
    booking, note = get_booking_notes(booking_id, current_user, write=True)
    form = ShareForm()
    if note is None:
        flash(gettext("Save the note before sharing it."), "error")
    elif form.validate_on_submit():
        records.share_with_staff(note, current_user, bool(form.shared.data))
        flash(gettext("Sharing saved."), "success")
    return redirect(url_for("notes.show_note", booking_id=booking.id))
