from flask import abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ... import api_tokens
from ...booking import DomainError
from ...extensions import db
from ...models import ApiToken
from ...web import is_htmx, render_page
from ...web.forms import show_domain_error
from . import bp
from .forms import CreateTokenForm, RevokeTokenForm


def _own_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    return token


def _render(form: CreateTokenForm, new_token: str | None = None, status: int = 200):
    response = render_page(
        "tokens/index.html",
        "tokens/_tokens.html",
        form=form,
        revoke_form=RevokeTokenForm(),
        tokens=api_tokens.tokens_of(current_user),
        new_token=new_token,
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/")
@login_required
def list_tokens():
    return _render(CreateTokenForm())


@bp.route("/", methods=["POST"])
@login_required
def create_token():
    form = CreateTokenForm()
    if not form.validate_on_submit():
        # 200, not 422: htmx swaps only successful answers, and the errors must show.
        return _render(form)
    try:
        _token, raw = api_tokens.issue_token(current_user, form.name.data)
    except DomainError as error:
        show_domain_error(form, error)
        return _render(form)
    # Shown in this response only: the database keeps nothing it could be read back from.
    return _render(CreateTokenForm(formdata=None), new_token=raw, status=201)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = _own_token(token_id)
    if RevokeTokenForm().validate_on_submit():
        api_tokens.revoke_token(token)
        flash(gettext("Token “%(token_name)s” is revoked.", token_name=token.name), "success")
    if is_htmx():
        return _render(CreateTokenForm(formdata=None))
    return redirect(url_for("tokens.list_tokens"))
