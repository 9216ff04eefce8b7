from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required

from ... import booking, records
from ...database import utcnow
from ...extensions import db
from ...models import (
    CREDIT_SERVICE_TYPES,
    Role,
    ServiceSession,
    ServiceType,
    SessionType,
    User,
    Visibility,
)
from ...web import render_page, roles_required, viewer_zone
from ...web.access import sees_seat_counts
from ...web.intake_fields import INTAKE_MARK, answers_form, asked, read_answers, show_answer_error
from ...web.public_page import present
from ...web.purchases import buy_once, new_purchase_token
from ...web.security import accepts_upload
from ...web.slot_picker import SlotForm, build_picker
from . import bp, queries
from .forms import BuyForm

SESSION_GONE = lazy_gettext("That session can no longer be booked; please pick another.")

# What _render_service issues: token_urlsafe(16) is 22 characters of this alphabet.


def _practitioner_or_404(practitioner_id: int) -> User:
    user = db.session.get(User, practitioner_id)
    if user is None or not user.is_practitioner or not user.is_active_account:
        abort(404)
    return user


def _service_or_404(service_id: int):
    service = queries.active_service(service_id)
    if service is None:
        abort(404)
    return service


def _listed_session(session_id: int | None) -> ServiceSession | None:
    """A session the shop offers: of an active service, and public (a private one is
    its practitioner's to fill, and is neither shown nor sold here)."""
    session = db.session.get(ServiceSession, session_id) if session_id else None
    if session is None or not session.service.is_active:
        return None
    return session if session.visibility == Visibility.PUBLIC else None


def _session_of(service, session_id: int | None) -> ServiceSession | None:
    session = _listed_session(session_id)
    return session if session is not None and session.service_id == service.id else None


@bp.route("/")
@login_required
def index():
    return render_template(
        "shop/index.html",
        practitioners=queries.practitioners_with_services(),
    )


@bp.route("/practitioners/<int:practitioner_id>")
@login_required
def practitioner(practitioner_id: int):
    user = _practitioner_or_404(practitioner_id)
    return render_template(
        "shop/practitioner.html",
        practitioner=user,
        services=queries.active_services(user),
    )


def _render_service(service, *, error=None, error_session_id=None, slot_form=None, status=200):
    """The service page with what it takes to buy it; errors re-render it unchanged.

    Visitors see it too: their picks go to the confirm page, which asks them to sign in first.
    """
    now = utcnow()
    signed_in = current_user.is_authenticated
    profile = service.primary_practitioner.profile
    present(profile)
    context = {
        "service": service,
        "brand": profile,
        # Every buy form of this page carries it (see buy).
        "purchase_token": new_purchase_token(),
        "error": error,
        "error_session_id": error_session_id,
        "buy_form": BuyForm(formdata=None),
        "slot_form": slot_form or SlotForm(formdata=None),
        "signed_in": signed_in,
        "can_buy": not signed_in or current_user.role == Role.CLIENT,
        "show_counts": sees_seat_counts(current_user, service),
        "picker": None,
        "sessions": [],
        "my_seats": set(),
        "my_waitlist": {},
        "seats_left": {},
    }
    if service.service_type == ServiceType.INDIVIDUAL:
        context["picker"] = build_picker(
            service.primary_practitioner,
            service,
            viewer_zone(),
            request.values.get("day"),
            page_endpoint="shop.service",
            page_args={"service_id": service.id},
            action=url_for("shop.buy" if signed_in else "shop.confirm", service_id=service.id),
            method="post" if signed_in else "get",
            now=now,
        )
    elif service.service_type in (ServiceType.WORKSHOP, ServiceType.COURSE):
        sessions = queries.listed_sessions(service, now)
        context["sessions"] = sessions
        context["seats_left"] = booking.bookable_seats(sessions, now)
        if signed_in:
            ids = [s.id for s in sessions]
            context.update(
                my_seats=queries.my_seats(current_user, ids),
                my_waitlist=queries.my_waitlist(current_user, ids),
            )
    return render_page(
        "shop/service.html",
        "_slot_picker.html" if context["picker"] else "shop/service.html",
        **context,
    ), status


@bp.route("/services/<int:service_id>")
def service(service_id: int):
    return _render_service(_service_or_404(service_id))


@bp.route("/services/<int:service_id>/confirm")
@roles_required(Role.CLIENT)
def confirm(service_id: int):
    """A choice made on the service page (by a visitor, before signing in), checked again
    and shown with the one button that places the order."""
    service = _service_or_404(service_id)
    kind = service.service_type
    start = session = None
    if kind == ServiceType.INDIVIDUAL:
        form = SlotForm(formdata=request.args, meta={"csrf": False})
        if not form.validate():
            first = next(iter(form.errors.values()))[0]
            return _render_service(service, error=first, status=422)
        start = form.start_time
        if not queries.slot_is_free(service, start):
            return _render_service(
                service,
                error=gettext("That time is no longer free; please pick another."),
                status=409,
            )
    elif kind == ServiceType.WORKSHOP:
        session = _session_of(service, request.args.get("session_id", type=int))
        if session is None or session.seats_left <= 0 or session.start_time <= utcnow():
            return _render_service(
                service,
                error=SESSION_GONE,
                error_session_id=session.id if session else None,
                status=409,
            )
    return _render_confirm(service, start, session)


def _render_confirm(service, start, session, *, forms=None, answer_form=None, status=200):
    """The one button that places the order, with the service's intake questions the
    client has not answered yet (a required consent among them) above it."""
    if forms is None:
        forms = asked([f.current for f in records.booking_questions(service, current_user)])
    action = url_for("shop.buy", service_id=service.id)
    if service.service_type in CREDIT_SERVICE_TYPES:
        action = url_for("packages.buy_package", service_id=service.id)
    elif service.service_type == ServiceType.CLASS_PASS:
        action = url_for("passes.buy_pass", service_id=service.id)
    elif service.service_type == ServiceType.MEMBERSHIP:
        action = url_for("memberships.subscribe", service_id=service.id)
    return render_template(
        "shop/confirm.html",
        service=service,
        start=start,
        session=session,
        action=action,
        forms=forms,
        intake_mark=INTAKE_MARK,
        answer_form=answer_form or (answers_form(forms, formdata=None) if forms else None),
    ), status


@bp.route("/services/<int:service_id>/buy", methods=["POST"])
@roles_required(Role.CLIENT)
@accepts_upload("PORTAL_INTAKE_UPLOAD_MAX_BYTES")
def buy(service_id: int):
    service = _service_or_404(service_id)
    kind = service.service_type
    if kind in CREDIT_SERVICE_TYPES:
        # Pages opened before packages had their own buy action still post here.
        return redirect(url_for("packages.buy_package", service_id=service.id), code=307)
    if kind == ServiceType.CLASS_PASS:
        return redirect(url_for("passes.buy_pass", service_id=service.id), code=307)
    if kind == ServiceType.MEMBERSHIP:
        return redirect(url_for("memberships.subscribe", service_id=service.id), code=307)
    form = SlotForm() if kind == ServiceType.INDIVIDUAL else BuyForm()
    if not form.validate():
        first = next(iter(form.errors.values()))[0]
        return _render_service(service, error=first, slot_form=form, status=422)
    session = None
    if kind == ServiceType.WORKSHOP:
        session = _session_of(service, form.session_id.data)
        if session is None:
            return _render_service(service, error=gettext("Pick one of the sessions."), status=422)

    def purchase():
        if kind == ServiceType.INDIVIDUAL:
            return booking.book_individual_session(current_user, service, form.start_time)
        if kind == ServiceType.WORKSHOP:
            return booking.book_workshop_seat(current_user, session)
        return booking.enroll_in_course(current_user, service)

    start = form.start_time if kind == ServiceType.INDIVIDUAL else None
    forms = asked([f.current for f in records.booking_questions(service, current_user)])
    answer_form = None
    if forms:
        if INTAKE_MARK not in request.form:
            # Booked from the service page: the questions come first, on the confirm page.
            return _render_confirm(service, start, session, forms=forms)
        answer_form = answers_form(forms)
        if not answer_form.validate():
            return _render_confirm(
                service, start, session, forms=forms, answer_form=answer_form, status=422
            )
        purchase = records.with_answers(current_user, read_answers(answer_form, forms), purchase)
    try:
        booking.check_live_slot(service, start)
        order_id, repeat = buy_once(
            ("shop.buy", service.id, session and session.id, start), purchase
        )
    except booking.DomainError as exc:
        if answer_form is not None and isinstance(exc, booking.InvalidInput) and exc.field:
            # An answer the domain refused (a file of the wrong kind): said next to it.
            show_answer_error(answer_form, forms, exc.field, exc.message)
            return _render_confirm(
                service, start, session, forms=forms, answer_form=answer_form, status=422
            )
        return _render_service(
            service,
            error=exc.message,
            error_session_id=session.id if session else None,
            slot_form=form if kind == ServiceType.INDIVIDUAL else None,
            status=exc.http_status,
        )
    if not repeat:
        flash(gettext("Order placed for %(service_name)s.", service_name=service.name), "success")
    return redirect(url_for("orders.view_order", order_id=order_id))


def _confirm_waitlist(session: ServiceSession):
    """A visitor's "Join the waitlist", once signed in: the same choice, one button away.
    A seat that freed up in between is offered to buy instead."""
    if session.session_type != SessionType.WORKSHOP:
        abort(404)
    if session.start_time is None or session.start_time <= utcnow():
        return _render_service(
            session.service, error=SESSION_GONE, error_session_id=session.id, status=409
        )
    if not session.is_full:
        return redirect(
            url_for("shop.confirm", service_id=session.service_id, session_id=session.id)
        )
    return render_template(
        "shop/confirm.html",
        service=session.service,
        start=None,
        session=session,
        waitlist=True,
        action=url_for("shop.join_waitlist", session_id=session.id),
    )


@bp.route("/sessions/<int:session_id>/waitlist", methods=["GET", "POST"])
@roles_required(Role.CLIENT)
def join_waitlist(session_id: int):
    session = _listed_session(session_id)
    if session is None:
        abort(404)
    if request.method == "GET":
        return _confirm_waitlist(session)
    try:
        booking.join_waitlist(current_user, session)
    except booking.DomainError as exc:
        return _render_service(
            session.service,
            error=exc.message,
            error_session_id=session.id,
            status=exc.http_status,
        )
    flash(
        gettext(
            "You are on the waitlist for %(display_title)s. If a seat frees up it is "
            "held for you, and you will find the offer under My bookings.",
            display_title=session.display_title,
        ),
        "success",
    )
    return redirect(url_for("shop.service", service_id=session.service_id))
