"""A small route registry: each API endpoint declares its path, method, parameter,
body, response and error models once; the decorator enforces them at run time and
the OpenAPI document is generated from the same records."""

from __future__ import annotations

import functools
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, g, request
from flask_babel import gettext
from pydantic import BaseModel, ValidationError

from ... import api_tokens, audit, booking
from ...models import User
from .errors import ApiError, validation_error

# <int(min=1, max=2147483647):session_id> -> {session_id}
_RULE_PARAM = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")


@dataclass(frozen=True)
class PathParam:
    name: str
    schema: dict


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    response: type[BaseModel] | None
    status: int
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    body_required: bool
    errors: tuple[int, ...]
    public: bool
    idempotent: bool = False
    path_params: list[PathParam] = field(default_factory=list)

    @property
    def openapi_path(self) -> str:
        return _RULE_PARAM.sub(lambda m: "{" + m.group("name") + "}", self.rule)

    @property
    def error_statuses(self) -> list[int]:
        # Any request may carry a NUL in its query string, which the app refuses with a
        # 400 before routing (portal/web/security.py).
        statuses = set(self.errors) | {400}
        if not self.public:
            statuses.add(401)
        if self.path_params:
            statuses.add(404)
        if self.query or self.body:
            statuses.add(422)
        if self.body:
            statuses.add(413)
        # Every call counts against the API rate limit (see the blueprint).
        statuses.add(429)
        return sorted(statuses)


def _path_params(rule: str) -> list[PathParam]:
    params = []
    for match in _RULE_PARAM.finditer(rule):
        schema: dict = {"type": "string"}
        if match.group("converter") == "int":
            schema = {"type": "integer"}
            for arg in filter(None, (match.group("args") or "").split(",")):
                key, _, value = arg.partition("=")
                schema[{"min": "minimum", "max": "maximum"}[key.strip()]] = int(value)
        params.append(PathParam(match.group("name"), schema))
    return params


def token_user() -> User | None:
    """The user of the request's bearer token, if it is live. The rate limit keys on it
    before the view authenticates: looked up once, so one call costs one query."""
    token = api_tokens.bearer_token()
    if token is None:
        return None
    # Kept with its token: a test's app context (and so g) can outlive one request.
    cached = g.get("api_token_user")
    if cached is None or cached[0] != token:
        cached = g.api_token_user = (token, api_tokens.user_for_token(token))
    return cached[1]


def authenticate() -> User:
    """The bearer token's user. Cookies are never consulted: the API is bearer-only."""
    if api_tokens.bearer_token() is None:
        raise ApiError(
            401, gettext("Send a personal API token as 'Authorization: Bearer <token>'.")
        )
    user = token_user()
    if user is None:
        raise ApiError(401, gettext("This token is unknown or revoked."), code="invalid_token")
    # The API signs no one in: the audit log learns who acts from the token.
    audit.act_as(user.id)
    return user


def parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_strings(request.args.to_dict())
    except ValidationError as exc:
        raise validation_error(exc, "query") from None


def parse_body(model: type[BaseModel], required: bool) -> BaseModel:
    raw = request.get_data(cache=False)
    if not raw.strip():
        if required:
            raise ApiError(
                422, gettext("A JSON body is required."), fields={"body": "Field required"}
            )
        return model()
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past Python's stack
        raise ApiError(400, gettext("The body is not valid JSON."), code="malformed_json") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise validation_error(exc, "body") from None


IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Any unique string (a UUID, say). The same key with the same body within 24 hours "
        "returns the first answer, status and body, without acting again; the same key "
        "with another body is a 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": booking.MAX_KEY_LENGTH},
}


def idempotency_key() -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= booking.MAX_KEY_LENGTH:
        raise ApiError(
            422,
            gettext(
                "%(header)s must be 1 to %(num)d characters.",
                header=IDEMPOTENCY_HEADER,
                num=booking.MAX_KEY_LENGTH,
            ),
            fields={IDEMPOTENCY_HEADER: "Invalid length"},
        )
    return key


def json_response(payload: BaseModel | dict | str, status: int) -> Response:
    """A str is an answer already serialized (a stored one, given again)."""
    if isinstance(payload, str):
        text = payload
    elif isinstance(payload, BaseModel):
        text = payload.model_dump_json()
    else:
        text = json.dumps(payload)
    return Response(text, status=status, mimetype="application/json")


class ApiRegistry:
    def __init__(self, bp: Blueprint):
        self.bp = bp
        self.operations: list[Operation] = []

    def route(
        self,
        rule: str,
        method: str,
        *,
        response: type[BaseModel] | None,
        status: int = 200,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        body_required: bool = True,
        errors: tuple[int, ...] = (),
        public: bool = False,
        idempotent: bool = False,
    ) -> Callable:
        """Register a view. It is called with its path arguments plus `user` (unless
        public), `query` and `body` (parsed models) and, if idempotent, the request's
        `idempotency_key` (None without the header), and returns a `response` model."""

        def decorator(view: Callable) -> Callable:
            doc = inspect.cleandoc(view.__doc__ or "")
            summary, _, description = doc.partition("\n")
            operation = Operation(
                rule=(self.bp.url_prefix or "") + rule,
                method=method.upper(),
                endpoint=view.__name__,
                summary=summary.strip(),
                description=description.strip(),
                response=response,
                status=status,
                query=query,
                body=body,
                body_required=body_required,
                errors=errors,
                public=public,
                idempotent=idempotent,
                path_params=_path_params(rule),
            )

            @functools.wraps(view)
            def endpoint(**path_args):
                kwargs = dict(path_args)
                if not public:
                    kwargs["user"] = authenticate()
                if query is not None:
                    kwargs["query"] = parse_query(query)
                if body is not None:
                    kwargs["body"] = parse_body(body, body_required)
                if idempotent:
                    kwargs["idempotency_key"] = idempotency_key()
                return json_response(view(**kwargs), status)

            self.bp.add_url_rule(rule, view.__name__, endpoint, methods=[operation.method])
            self.operations.append(operation)
            return endpoint

        return decorator
