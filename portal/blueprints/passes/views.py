from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import SelectChoice

from ... import booking
from ...database import utcnow
from ...extensions import db
from ...models import ClassPass, Role, Service, ServiceSession, ServiceType
from ...web import local_time, roles_required, saved_service
from ...web.access import get_own, get_own_service
from ...web.purchases import buy_offer
from . import bp, queries
from .forms import PassForm, PassSeatForm

# -- Defining a class pass (the practitioner) ------------------------------------------------


def _prepare(form: PassForm) -> None:
    form.services.choices = [
        SelectChoice(s.id, s.name) for s in booking.nameable_services(current_user)
    ]


def _save(form: PassForm, service: Service | None):
    terms = booking.PassTerms(
        credits=form.credits.data,
        service_ids=list(form.services.data or []),
        tag=form.tag.data or None,
        per_day=form.per_day.data,
        per_week=form.per_week.data,
    )
    return saved_service(
        form,
        lambda: booking.save_service(
            current_user,
            service,
            pass_terms=terms,
            service_type=ServiceType.CLASS_PASS,
            validity_days=form.validity_days.data,
            **form.service_values(),
        ),
    )


@bp.route("/practice/passes/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_pass():
    form = PassForm()
    _prepare(form)
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("passes/form.html", form=form, service=None)


@bp.route("/practice/passes/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_pass(service_id: int):
    service = get_own_service(service_id, current_user)
    terms = service.pass_terms
    if service.service_type != ServiceType.CLASS_PASS or terms is None:
        abort(404)
    form = PassForm(obj=service)
    if not form.is_submitted():
        form.show_amounts(service)
        form.credits.data = terms.credits
        form.services.data = [s.id for s in terms.eligible_services]
        form.tag.data = terms.eligible_tag or ""
        form.per_day.data, form.per_week.data = terms.per_day, terms.per_week
    _prepare(form)
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("passes/form.html", form=form, service=service)


# -- Buying one (the client) -----------------------------------------------------------------


@bp.route("/book/passes/<int:service_id>/buy", methods=["POST"])
@roles_required(Role.CLIENT)
def buy_pass(service_id: int):
    service = queries.offered_pass(service_id)
    if service is None:
        abort(404)
    return buy_offer(
        "passes.buy_pass",
        service,
        lambda: booking.buy_class_pass(current_user, service),
        "passes/offer.html",
    )


# -- Using one (the client) ------------------------------------------------------------------


@bp.route("/passes")
@roles_required(Role.CLIENT)
def my_passes():
    return render_template(
        "passes/list.html", passes=queries.client_passes(current_user), now=utcnow()
    )


def _render_pass(class_pass: ClassPass, *, error=None, error_session_id=None, status=200):
    now = utcnow()
    sessions = queries.eligible_sessions(class_pass, now)
    return render_template(
        "passes/pass.html",
        class_pass=class_pass,
        sessions=sessions,
        my_seats=queries.my_seats(current_user, [s.id for s in sessions]),
        seat_form=PassSeatForm(formdata=None),
        error=error,
        error_session_id=error_session_id,
        now=now,
    ), status


def _own_pass(pass_id: int, loads=queries.PASS_LOADS) -> ClassPass:
    return get_own(ClassPass, pass_id, current_user, loads=loads, message=gettext("No such pass."))


@bp.route("/passes/<int:pass_id>")
@roles_required(Role.CLIENT)
def view_pass(pass_id: int):
    return _render_pass(_own_pass(pass_id))


@bp.route("/passes/<int:pass_id>/book", methods=["POST"])
@roles_required(Role.CLIENT)
def book_with_pass(pass_id: int):
    # The seat's path reads no more than it must: the domain locks the pass and the session
    # and checks them again (a private, past or ineligible session is refused there).
    class_pass = _own_pass(pass_id, loads=())
    form = PassSeatForm()
    if not form.validate():
        return _render_pass(class_pass, error=gettext("Pick one of the sessions."), status=422)
    session = db.session.get(ServiceSession, form.session_id.data)
    if session is None:
        return _render_pass(
            class_pass,
            error=gettext("That session can no longer be booked with this pass."),
            status=409,
        )
    try:
        seat = booking.book_with_pass(current_user, class_pass, session)
    except booking.DomainError as exc:
        return _render_pass(
            class_pass, error=exc.message, error_session_id=session.id, status=exc.http_status
        )
    flash(
        gettext(
            "You have a seat in %(display_title)s on %(when)s.",
            display_title=session.display_title,
            when=local_time(seat.service_session.start_time),
        ),
        "success",
    )
    return redirect(url_for("passes.view_pass", pass_id=class_pass.id))
