from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from ... import booking, records
from ...accounts import practitioners
from ...booking import payment_reference
from ...database import utcnow
from ...l10n import format_money
from ...models import SEAT_HOLDING, BookingStatus, OrderStatus, Role
from ...money import plain
from ...web import roles_required, show_domain_error
from ...web.access import get_fee, get_order, get_receipt, may_collect
from ...web.localtime import local_time
from ...web.spreadsheet import csv_response
from . import bp, queries
from .forms import MarkPaidForm, RefundForm, RevenueFilterForm, SeatRefundForm, WaiveFeeForm


def _order(order_id: int, *, collect: bool = False):
    return get_order(order_id, current_user, collect=collect, loads=queries.ORDER_LOADS)


def _seat_refund_form(order, formdata=None) -> SeatRefundForm:
    # Its own prefix: the whole-order refund form on the same page has the same fields.
    form = SeatRefundForm(formdata=formdata, prefix="seats", currency=order.currency)
    singly = order.seats_priced_singly
    form.seats.choices = [
        SelectChoice(
            b.id,
            f"{b.service_session.display_title} · "
            + (gettext("not scheduled yet") if b.is_unscheduled else local_time(b.get_start_time()))
            + (f" · {order.money_display(b.price_charged_cents)}" if singly else ""),
        )
        for b in order.bookings
        if b.status in SEAT_HOLDING
    ]
    return form


def _refund_form(order) -> RefundForm:
    form = RefundForm(formdata=None, currency=order.currency)
    form.show_amount(order.amount_refundable)
    return form


@bp.route("/<int:order_id>")
@login_required
def view_order(order_id: int):
    return _render_order(_order(order_id))


def _render_order(
    order,
    refund_form: RefundForm | None = None,
    status: int = 200,
    seat_form: SeatRefundForm | None = None,
):
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
        waive_form=WaiveFeeForm(formdata=None),
        # The client pays a deposit's balance online through a provider that takes cards.
        pays_balance_online=order.user_id == current_user.id
        and order.payment_provider != booking.MANUAL,
        # The client pays a fee their kept card did not, whatever paid the order.
        fees_payable_online={
            f.id
            for f in order.fees
            if order.user_id == current_user.id and booking.can_pay_fee_online(f)
        },
        seat_form=seat_form or _seat_refund_form(order),
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
    if order.service.is_class_pass:
        return gettext(
            "Order %(reference)s is marked paid; its class pass is ready for %(client)s to use.",
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
    form = RefundForm(currency=order.currency)
    if not form.validate():
        return _render_order(order, form, 422)
    try:
        refund = booking.refund_order(
            order,
            form.amount_minor(),
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
            # What the card got back: Stripe refunds three-decimal amounts in tens.
            amount=order.money_display(refund.amount_cents if refund else form.amount_minor()),
            reference=payment_reference(order),
        ),
        "success",
    )
    return redirect(url_for("orders.view_order", order_id=order.id))


@bp.route("/<int:order_id>/fees/<int:fee_id>/waive", methods=["POST"])
@roles_required(Role.PRACTITIONER, Role.STAFF)
def waive_fee(order_id: int, fee_id: int):
    order, fee = _order_fee(order_id, fee_id, collect=True)
    form = WaiveFeeForm()
    if not form.validate():
        return _render_order(order, status=422)
    try:
        booking.waive_fee(fee, current_user, reason=form.reason.data or "")
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.view_order", order_id=order.id))
    flash(
        gettext(
            "The %(kind)s of %(amount)s is waived.",
            kind=fee.kind.label,
            amount=fee.amount_display,
        ),
        "success",
    )
    return redirect(url_for("orders.view_order", order_id=order.id))


def _order_fee(order_id: int, fee_id: int, **lookup):
    order, fee = get_fee(fee_id, current_user, loads=queries.ORDER_LOADS, **lookup)
    if order.id != order_id:
        abort(404)
    return order, fee


@bp.route("/<int:order_id>/fees/<int:fee_id>/pay", methods=["POST"])
@login_required
def pay_fee(order_id: int, fee_id: int):
    """The client pays a fee their card did not: Checkout, settled by Stripe's event."""
    order, fee = _order_fee(order_id, fee_id, pay=True)
    try:
        start = booking.start_fee_payment(order, fee)
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.view_order", order_id=order.id))
    return redirect(start.redirect_url or url_for("orders.view_order", order_id=order.id), 303)


@bp.route("/<int:order_id>/fees/<int:fee_id>/mark-paid", methods=["POST"])
@roles_required(Role.PRACTITIONER, Role.STAFF)
def mark_fee_paid(order_id: int, fee_id: int):
    order, fee = _order_fee(order_id, fee_id, collect=True)
    form = MarkPaidForm()
    if not form.validate():
        return _render_order(order, status=422)
    try:
        booking.mark_fee_paid(fee, current_user, reference=form.reference.data or "")
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.view_order", order_id=order.id))
    flash(
        gettext(
            "The %(kind)s of %(amount)s is marked paid.",
            kind=fee.kind.label,
            amount=fee.amount_display,
        ),
        "success",
    )
    return redirect(url_for("orders.view_order", order_id=order.id))


@bp.route("/<int:order_id>/refund-seats", methods=["POST"])
@roles_required(Role.PRACTITIONER, Role.STAFF)
def refund_seats(order_id: int):
    order = _order(order_id, collect=True)
    form = _seat_refund_form(order, request.form)
    if not form.validate():
        return _render_order(order, status=422, seat_form=form)
    try:
        refunded = booking.refund_seats(
            order,
            form.seats.data,
            reason=form.reason.data,
            actor=current_user,
            manual=form.manual.data,
        )
    except booking.DomainError as exc:
        show_domain_error(form, exc)
        return _render_order(order, status=exc.http_status, seat_form=form)
    flash(
        ngettext(
            "%(num)d seat canceled; %(amount)s refunded.",
            "%(num)d seats canceled; %(amount)s refunded.",
            len(form.seats.data),
            amount=order.money_display(refunded.amount_cents if refunded else 0),
        ),
        "success",
    )
    return redirect(url_for("orders.view_order", order_id=order.id))


@bp.route("/<int:order_id>/pay-balance", methods=["POST"])
@login_required
def pay_balance(order_id: int):
    """The client pays what a paid deposit left due: a second Checkout, for the balance."""
    order = get_order(order_id, current_user, pay=True, loads=queries.ORDER_LOADS)
    if order.status != OrderStatus.PAID or order.amount_due <= 0:
        flash(gettext("Nothing is due on this order."), "info")
        return redirect(url_for("orders.view_order", order_id=order.id))
    try:
        start = booking.get_provider(order.payment_provider).start_balance(order)
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("orders.view_order", order_id=order.id))
    if start.redirect_url:
        return redirect(start.redirect_url, 303)
    flash(start.instructions, "info")
    return redirect(url_for("orders.view_order", order_id=order.id))


@bp.route("/receipts/<int:receipt_id>")
@login_required
def view_receipt(receipt_id: int):
    receipt = get_receipt(receipt_id, current_user, loads=queries.ORDER_LOADS)
    return render_template("orders/receipt.html", receipt=receipt, order=receipt.order)


def _revenue_form() -> tuple[RevenueFilterForm, booking.RevenueFilters | None]:
    """The filters (staff pick a practitioner, a practitioner sees their own) and, when
    valid, the report's; the year defaults to the viewer's current one."""
    form = RevenueFilterForm(formdata=request.args or None)
    own = current_user.role == Role.PRACTITIONER
    form.practitioner.choices = [SelectChoice(0, gettext("All practitioners"))] + (
        [] if own else [SelectChoice(p.id, p.name) for p in practitioners()]
    )
    # A practitioner's report is their own whatever the URL names: nothing to check.
    form.practitioner.validate_choice = not own
    if form.year.data is None and not form.year.errors and not form.year.raw_data:
        form.year.data = datetime.now(current_user.zone).year
    if request.args and not form.validate():
        return form, None
    practitioner_id = current_user.id if own else (form.practitioner.data or None)
    return form, booking.RevenueFilters(year=form.year.data, practitioner_id=practitioner_id)


@bp.route("/revenue")
@roles_required(Role.PRACTITIONER, Role.STAFF)
def revenue_report():
    form, filters = _revenue_form()
    report = booking.revenue_report(filters) if filters else None
    return render_template(
        "orders/revenue.html",
        form=form,
        report=report,
        money=format_money,
    ), (200 if report else 422)


@bp.route("/revenue.csv")
@roles_required(Role.PRACTITIONER, Role.STAFF)
def revenue_report_csv():
    form, filters = _revenue_form()
    if filters is None:
        abort(400, gettext("The report filters are not valid."))
    report = booking.revenue_report(filters)
    header = ["by", "period_or_service", "currency", "gross", "refunds", "fees", "net"]
    header.append("outstanding")

    def cells(line: booking.RevenueLine) -> list:
        # Amounts in the currency's unit, as a spreadsheet sums them.
        return [
            line.currency,
            *(
                plain(amount, line.currency)
                for amount in (line.gross, line.refunds, line.fees, line.net, line.outstanding)
            ),
        ]

    rows = [
        *(
            ["month", f"{filters.year}-{month:02d}", *cells(line)]
            for month, line in report.month_lines()
        ),
        *(["service", name, *cells(line)] for name, line in report.service_lines()),
        *(["total", str(filters.year), *cells(line)] for line in report.total_lines()),
    ]
    return csv_response(f"revenue_{filters.year}.csv", header, rows)
