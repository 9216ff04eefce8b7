from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import SelectChoice

from ... import booking
from ...database import utcnow
from ...l10n import format_money
from ...models import Membership, Role, Service, ServiceType
from ...money import plain
from ...web import roles_required, saved_service
from ...web.access import get_own, get_own_service
from ...web.spreadsheet import csv_response
from . import bp, queries
from .forms import ChangePlanForm, PlanForm, SubscribeForm

# -- Defining a plan (the practitioner) ------------------------------------------------------


def _prepare(form: PlanForm) -> None:
    form.services.choices = [
        SelectChoice(s.id, s.name) for s in booking.nameable_services(current_user)
    ]


def _save(form: PlanForm, service: Service | None):
    return saved_service(
        form,
        lambda: booking.save_plan(
            current_user, service, form.pass_terms(), form.plan_terms(), **form.service_values()
        ),
    )


@bp.route("/practice/memberships/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_plan():
    form = PlanForm()
    _prepare(form)
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("memberships/form.html", form=form, service=None)


@bp.route("/practice/memberships/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_plan(service_id: int):
    service = get_own_service(service_id, current_user)
    plan = booking.plan_of(service)
    terms = service.pass_terms
    if plan is None or terms is None:
        abort(404)
    form = PlanForm(obj=service)
    if not form.is_submitted():
        form.show_amounts(service)
        form.period.data = plan.period.value
        form.unlimited.data = plan.unlimited
        form.rollover_periods.data = plan.rollover_periods
        form.minimum_periods.data = plan.minimum_periods
        form.notice_days.data = plan.notice_days
        form.credits.data = terms.credits
        form.services.data = [s.id for s in terms.eligible_services]
        form.tag.data = terms.eligible_tag or ""
        form.per_day.data, form.per_week.data = terms.per_day, terms.per_week
    _prepare(form)
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("memberships/form.html", form=form, service=service)


# -- Members (the practitioner) --------------------------------------------------------------


@bp.route("/practice/members")
@roles_required(Role.PRACTITIONER)
def list_members():
    figures = booking.member_figures(current_user, utcnow())
    mrr = [format_money(cents, currency) for currency, cents in sorted(figures.mrr.items())]
    return render_template("memberships/members.html", figures=figures, mrr=mrr)


@bp.route("/practice/members.csv")
@roles_required(Role.PRACTITIONER)
def members_csv():
    figures = booking.member_figures(current_user, utcnow())
    header = ["client", "email", "plan", "status", "price", "currency", "renews_or_ends", "since"]
    rows = [
        [
            m.user.name,
            m.user.email,
            m.plan.name,
            m.status.value,
            plain(m.price_cents, m.currency),
            m.currency,
            (m.cancel_at or m.current_period_end).isoformat()
            if (m.cancel_at or m.current_period_end)
            else "",
            m.created_at.isoformat(),
        ]
        for m in figures.members
    ]
    return csv_response("members.csv", header, rows)


# -- Subscribing and the client's membership -------------------------------------------------


@bp.route("/book/memberships/<int:service_id>/subscribe", methods=["POST"])
@roles_required(Role.CLIENT)
def subscribe(service_id: int):
    service = queries.offered_plan(service_id)
    if service is None:
        abort(404)
    if not SubscribeForm().validate():
        abort(400)
    try:
        checkout = booking.subscribe(
            current_user,
            service,
            # One Checkout per client, plan and day: a double click meets the same page.
            key=f"{service.id}-{service.price_cents}-{utcnow():%Y%m%d}",
            success_url=url_for("memberships.my_memberships", returned=1, _external=True),
            cancel_url=url_for("shop.service", service_id=service.id, _external=True),
        )
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("shop.service", service_id=service.id))
    # A link, not a 303: form-action lets a form's redirect reach only Stripe's own Checkout
    # origin (web/security.py), so a Checkout served from elsewhere (a test server) would be
    # stopped; a link works wherever Checkout is, as on the order page.
    return render_template("memberships/continue.html", service=service, checkout=checkout)


def _own_membership(membership_id: int) -> Membership:
    return get_own(Membership, membership_id, current_user, message=gettext("No such membership."))


@bp.route("/memberships")
@roles_required(Role.CLIENT)
def my_memberships():
    now = utcnow()
    memberships = queries.client_memberships(current_user)
    plans = queries.plans_to_switch_to(memberships)
    held = booking.holdings_of(memberships, now)
    rows = []
    for m in memberships:
        change = ChangePlanForm(formdata=None)
        change.plan_id.choices = [
            SelectChoice(p.id, f"{p.name} · {p.price_display}")
            for p in queries.other_plans(m, plans)
        ]
        holdings = held[m.id]
        rows.append(
            {
                "membership": m,
                "holdings": holdings,
                # An unlimited period's bound (booking.UNLIMITED_CREDITS) is no count to show.
                "unlimited": any(h.unlimited for h in holdings),
                "credits_left": sum(h.credits_left for h in holdings),
                "change": change,
            }
        )
    return render_template(
        "memberships/mine.html",
        rows=rows,
        returned=request.args.get("returned") == "1",
        form=SubscribeForm(formdata=None),
    )


def _ask(membership_id: int, ask, done: str):
    membership = _own_membership(membership_id)
    if not SubscribeForm().validate():
        abort(400)
    try:
        ask(current_user, membership)
    except booking.DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("memberships.my_memberships"))


@bp.route("/memberships/<int:membership_id>/cancel", methods=["POST"])
@roles_required(Role.CLIENT)
def cancel_membership(membership_id: int):
    return _ask(
        membership_id,
        booking.cancel_membership,
        gettext("Cancel asked: your membership ends at the end of its period."),
    )


@bp.route("/memberships/<int:membership_id>/keep", methods=["POST"])
@roles_required(Role.CLIENT)
def keep_membership(membership_id: int):
    return _ask(
        membership_id, booking.keep_membership, gettext("Your membership will renew as before.")
    )


@bp.route("/memberships/<int:membership_id>/pause", methods=["POST"])
@roles_required(Role.CLIENT)
def pause_membership(membership_id: int):
    return _ask(
        membership_id,
        booking.pause_membership,
        gettext("Pause asked: billing stops, and so do your classes, until you resume."),
    )


@bp.route("/memberships/<int:membership_id>/resume", methods=["POST"])
@roles_required(Role.CLIENT)
def resume_membership(membership_id: int):
    return _ask(membership_id, booking.resume_membership, gettext("Resume asked."))


@bp.route("/memberships/<int:membership_id>/change", methods=["POST"])
@roles_required(Role.CLIENT)
def change_plan(membership_id: int):
    membership = _own_membership(membership_id)
    form = ChangePlanForm()
    plans = queries.plans_to_switch_to([membership])
    form.plan_id.choices = [
        SelectChoice(p.id, p.name) for p in queries.other_plans(membership, plans)
    ]
    if not form.validate():
        flash(gettext("Pick one of the plans."), "error")
        return redirect(url_for("memberships.my_memberships"))
    service = queries.offered_plan(form.plan_id.data)
    if service is None or service.service_type != ServiceType.MEMBERSHIP:
        abort(404)
    try:
        booking.switch_plan(current_user, membership, service)
    except booking.DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(
            gettext(
                "Plan change asked: %(plan_name)s from now, the difference prorated by Stripe.",
                plan_name=service.name,
            ),
            "success",
        )
    return redirect(url_for("memberships.my_memberships"))
