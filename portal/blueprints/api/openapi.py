"""The OpenAPI 3.1 document, built from the route registry and the pydantic models."""

from __future__ import annotations

from http import HTTPStatus

from pydantic.json_schema import models_json_schema

from .registry import IDEMPOTENCY_PARAMETER, Operation
from .schemas import ErrorResponse

REF = "#/components/schemas/{model}"


def _without_null(schema: dict) -> dict:
    """Query parameters are absent or a value, never JSON null."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    rest = {key: value for key, value in schema.items() if key != "anyOf"}
    if rest.get("default", ...) is None:
        rest.pop("default")
    return {**kept[0], **rest} if len(kept) == 1 else {**rest, "anyOf": kept}


def _query_parameters(schema: dict) -> list[dict]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _without_null(dict(prop))
        parameter = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
        }
        if prop.get("description"):
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def build_spec(operations: list[Operation], *, title: str, version: str) -> dict:
    wanted = {(ErrorResponse, "serialization")}
    for op in operations:
        if op.query:
            wanted.add((op.query, "validation"))
        if op.body:
            wanted.add((op.body, "validation"))
        if op.response:
            wanted.add((op.response, "serialization"))
    ordered = sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, definitions = models_json_schema(ordered, ref_template=REF)
    schemas = definitions.get("$defs", {})

    def inline(model) -> dict:
        name = refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]
        return schemas[name]

    paths: dict[str, dict] = {}
    for op in operations:
        responses = {
            str(op.status): {
                "description": HTTPStatus(op.status).phrase,
                "content": _json(
                    refs[(op.response, "serialization")] if op.response else {"type": "object"}
                ),
            }
        }
        for status in op.error_statuses:
            responses[str(status)] = {
                "description": HTTPStatus(status).phrase,
                "content": _json(refs[(ErrorResponse, "serialization")]),
            }
        parameters = [
            {"name": p.name, "in": "path", "required": True, "schema": p.schema}
            for p in op.path_params
        ]
        if op.query:
            parameters += _query_parameters(inline(op.query))
        if op.idempotent:
            parameters.append(IDEMPOTENCY_PARAMETER)
        entry: dict = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "parameters": parameters,
            "responses": responses,
        }
        if op.description:
            entry["description"] = op.description
        if op.body:
            entry["requestBody"] = {
                "required": op.body_required,
                "content": _json(refs[(op.body, "validation")]),
            }
        if op.public:
            entry["security"] = []
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = entry

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal API token (settings page or `create-token`).",
                }
            },
        },
        "security": [{"bearerAuth": []}],
    }
