from flask import Blueprint

from ...booking import DomainError
from ...extensions import csrf
from .errors import ApiError, error_response
from .registry import ApiRegistry

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens only: no cookie ever authenticates an API call, so there is nothing to forge.
csrf.exempt(bp)
api = ApiRegistry(bp)


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    return error_response(error.status, error.message, error.code, error.fields)


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    fields = {error.field: error.message} if error.field else {}
    return error_response(error.http_status, error.message, error.code, fields)


from . import views  # noqa: E402,F401
