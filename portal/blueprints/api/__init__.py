from flask import Blueprint, current_app
from flask_babel import gettext
from flask_limiter.util import get_remote_address

from ...booking import DomainError
from ...extensions import csrf, limiter
from ...web.errors import answer_errors_as_json
from .errors import ApiError, error_response, http_error_response
from .registry import ApiRegistry, token_user

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens only: no cookie ever authenticates an API call, so there is nothing to forge.
csrf.exempt(bp)
api = ApiRegistry(bp)
# Every error under /api/ (an unknown URL's 404, an abort from portal/web/access.py, a 429)
# is JSON in the API's shape, not the HTML error page.
bp.record_once(lambda state: answer_errors_as_json(state.app, "/api/", http_error_response))


def _api_limit() -> str:
    return current_app.config["PORTAL_API_RATE_LIMIT"]


def _caller_key() -> str:
    # Per user, so many tokens of one account share one budget; per address without a live
    # token, so guessing tokens is limited too.
    user = token_user()
    return f"user:{user.id}" if user is not None else get_remote_address()


# One budget for the whole API (shared scope), not one per endpoint. The 429 comes back as
# the API's JSON error with Retry-After (portal/web/errors.py, RATELIMIT_HEADERS_ENABLED).
limiter.shared_limit(
    _api_limit,
    scope="api",
    key_func=_caller_key,
    error_message=lambda: gettext("Too many API calls."),
)(bp)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.status, error.message, error.code, error.fields)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    fields = {error.field: error.message} if error.field else {}
    return error_response(error.http_status, error.message, error.code, fields)


from . import views  # noqa: E402,F401
