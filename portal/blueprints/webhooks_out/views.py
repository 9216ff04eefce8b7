from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from ...booking import DomainError
from ...extensions import db
from ...models import DeliveryStatus, Role, WebhookEndpoint
from ...web import render_page
from ...web.auth import roles_required
from ...web.forms import show_domain_error
from ...webhooks_out import endpoints
from . import bp
from .forms import EndpointActionForm, EndpointForm

OWNERS = (Role.PRACTITIONER, Role.STAFF)


def _own_endpoint(endpoint_id: int) -> WebhookEndpoint:
    """Endpoints are their owner's alone: anyone else's does not exist for you."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.user_id != current_user.id:
        abort(404)
    return endpoint


def _render_list(form: EndpointForm, new_endpoint: WebhookEndpoint | None = None, status=200):
    response = render_page(
        "webhooks_out/index.html",
        "webhooks_out/_endpoints.html",
        form=form,
        action_form=EndpointActionForm(),
        endpoints=endpoints.endpoints_of(current_user),
        new_endpoint=new_endpoint,
    )
    # The page may carry a new secret: no cache keeps it.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/")
@roles_required(*OWNERS)
def list_endpoints():
    return _render_list(EndpointForm(formdata=None))


@bp.route("/", methods=["POST"])
@roles_required(*OWNERS)
def create_endpoint():
    form = EndpointForm()
    if not form.validate_on_submit():
        # 200, not 422: htmx swaps only successful answers, and the errors must show.
        return _render_list(form)
    try:
        endpoint = endpoints.register_endpoint(
            current_user, form.url.data, form.event_types.data, form.description.data or ""
        )
    except DomainError as error:
        show_domain_error(form, error)
        return _render_list(form)
    # The secret is shown in this answer only; the page never shows it again.
    return _render_list(EndpointForm(formdata=None), new_endpoint=endpoint, status=201)


@bp.route("/<int:endpoint_id>")
@roles_required(*OWNERS)
def show_endpoint(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    return render_page(
        "webhooks_out/endpoint.html",
        "webhooks_out/_deliveries.html",
        endpoint=endpoint,
        deliveries=endpoints.deliveries_of(endpoint),
        action_form=EndpointActionForm(),
        DeliveryStatus=DeliveryStatus,
    )


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
@roles_required(*OWNERS)
def test_endpoint(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    if EndpointActionForm().validate_on_submit():
        sent = endpoints.send_test(endpoint)
        if sent.status == DeliveryStatus.DELIVERED:
            flash(
                gettext(
                    "Test ping delivered: HTTP %(last_status_code)s.",
                    last_status_code=sent.last_status_code,
                ),
                "success",
            )
        else:
            flash(
                gettext(
                    "Test ping failed: %(last_error)s. It will be retried.",
                    last_error=sent.last_error,
                ),
                "error",
            )
    return redirect(url_for("webhooks_out.show_endpoint", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/enable", methods=["POST"])
@roles_required(*OWNERS)
def enable_endpoint(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    if EndpointActionForm().validate_on_submit():
        endpoints.enable_endpoint(endpoint)
        flash(gettext("The endpoint is enabled: new events go to it again."), "success")
    return redirect(url_for("webhooks_out.show_endpoint", endpoint_id=endpoint.id))


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@roles_required(*OWNERS)
def delete_endpoint(endpoint_id: int):
    endpoint = _own_endpoint(endpoint_id)
    if EndpointActionForm().validate_on_submit():
        endpoints.delete_endpoint(endpoint)
        flash(gettext("Endpoint %(url)s deleted.", url=endpoint.url), "success")
    return redirect(url_for("webhooks_out.list_endpoints"))
