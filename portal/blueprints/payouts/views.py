"""A practitioner's own Stripe account (Stripe Connect): connect it on Stripe's pages and
see whether it takes their payments yet."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ... import booking
from ...models import Role
from ...web.auth import roles_required
from . import bp


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def show_payouts():
    """Also Stripe's return address: what the page shows comes from Stripe's event, never
    from the return itself."""
    return render_template(
        "payouts/index.html",
        connect_on=booking.connect_on(),
        account=booking.connected_account(current_user),
        returned=request.args.get("returned") is not None,
    )


def _to_stripe():
    try:
        address = booking.start_onboarding(
            current_user,
            return_url=url_for("payouts.show_payouts", returned=1, _external=True),
            refresh_url=url_for("payouts.refresh_onboarding", _external=True),
        )
    except booking.DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("payouts.show_payouts"))
    return redirect(address, 303)


@bp.route("/connect", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def connect_account():
    return _to_stripe()


@bp.route("/refresh")
@roles_required(Role.PRACTITIONER)
def refresh_onboarding():
    """Stripe sends the practitioner here when an onboarding link has expired: a new one."""
    return _to_stripe()
