from decimal import Decimal

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from ... import booking, records
from ...booking import payment_reference
from ...database import utcnow
from ...models import BookingStatus, OrderStatus, Role
from ...web import roles_required, show_domain_error
from ...web.access import get_order, may_collect
from . import bp, queries
from .forms import MarkPaidForm, RefundForm


def _order(order_id: int, *, collect: bool = False):
    return get_order(order_id, current_user, collect=collect, loads=queries.ORDER_LOADS)


def _refund_form(order) -> RefundForm:
    form = RefundForm(formdata=None)
    form.amount.data = Decimal(order.amount_refundable) / 100
    return form


@bp.route("/<int:order_id>")
@login_required
def view_order(order_id: int):
    return _render_order(_order(order_id))


def _render_order(order, refund_form: RefundForm | None = None, status: int = 200):
    start = None
    problem = None
    # Back from the provider's page: the order waits for the provider's verified event,
    # whatever the browser's return says.
    waiting = (
        order.status == OrderStatus.PENDING
        and request.args.get("returned") is not None
        and order.payment_provider != booking.MANUAL
    )
    if order.status == OrderStatus.PENDING and not waiting:
        try:
            start = booking.get_provider(order.payment_provider).start(order)
        except booking.DomainError as exc:
            problem = exc.message
    return render_template(
        "orders/order.html",
        order=order,
        payment=start,
        payment_problem=problem,
        waiting_for_provider=waiting,
        reference=payment_reference(order),
        now=utcnow(),
        may_collect=may_collect(current_user, order),
        form=MarkPaidForm(formdata=None),
        refund_form=refund_form or _refund_form(order),
        intake=_intake(order),
    ), status


def _intake(order) -> dict:
    """The order's bookings' intake forms, for the client who answers them and the
    practitioner who asks; staff see the order without them (answers are health data)."""
    if current_user.id not in (order.user_id, order.service.primary_practitioner_id):
        return {}
    return records.forms_for_bookings(list(order.bookings))


def _render_pending(errors=None, forms=None, status=200, listing=OrderStatus.PENDING):
    return render_template(
        "orders/pending.html",
        orders=queries.pending_orders_for(current_user, listing),
        listing=listing,
        errors=errors or {},
        forms=forms or {},
        blank_form=MarkPaidForm(formdata=None),
        now=utcnow(),
        payment_reference=payment_reference,
    ), status


@bp.route("/")
@roles_required(Role.PRACTITIONER, Role.STAFF)
def pending_orders():
    expired = request.args.get("status") == OrderStatus.EXPIRED.value
    return _render_pending(listing=OrderStatus.EXPIRED if expired else OrderStatus.PENDING)


def _paid_message(order) -> str:
    """Say what paying did: a package's or bundle's credits stay unscheduled until used."""
    reference = payment_reference(order)
    if order.service.is_credit_based:
        credits = sum(1 for b in order.bookings if b.status == BookingStatus.DRAFT)
        return ngettext(
            "Order %(reference)s is marked paid; its %(num)d credit is ready for %(client)s "
            "to schedule.",
            "Order %(reference)s is marked paid; its %(num)d credits are ready for %(client)s "
            "to schedule.",
            credits,
            reference=reference,
            client=order.user.name,
        )
    return f"Order {reference} is marked paid; its bookings are confirmed."


@bp.route("/<int:order_id>/mark-paid", methods=["POST"])
@roles_required(Role.PRACTITIONER, Role.STAFF)
def mark_paid(order_id: int):
    order = _order(order_id, collect=True)
    form = MarkPaidForm()
    if not form.validate():
        return _render_pending(forms={order.id: form}, status=422)
    try:
        booking.confirm_payment(order, reference=form.reference.data or "", actor=current_user)
    except booking.DomainError as exc:
        return _render_pending(errors={order.id: exc.message}, status=exc.http_status)
    flash(_paid_message(order), "success")
    return redirect(url_for("orders.pending_orders"))


@bp.route("/<int:order_id>/refund", methods=["POST"])
@roles_required(Role.PRACTITIONER, Role.STAFF)
def refund_order(order_id: int):
    order = _order(order_id, collect=True)
    form = RefundForm()
    if not form.validate():
        return _render_order(order, form, 422)
    try:
        booking.refund_order(
            order,
            form.amount_cents(),
            reason=form.reason.data,
            actor=current_user,
            manual=form.manual.data,
        )
    except booking.DomainError as exc:
        show_domain_error(form, exc)
        return _render_order(order, form, exc.http_status)
    flash(
        gettext(
            "Refunded %(amount)s of order %(reference)s.",
            amount=order.money_display(form.amount_cents()),
            reference=payment_reference(order),
        ),
        "success",
    )
    return redirect(url_for("orders.view_order", order_id=order.id))
